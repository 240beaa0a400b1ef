"""PBTSearchCV: contract, exploit/explore, schedules, skorch, oracle, bad input."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.svm import SVC

from skhpo import Categorical, Integer, PBTSearchCV, Real, Space
from skhpo._evaluate import EvaluationContext
from skhpo._incremental import IncrementalEvaluator
from skhpo._pbt import (AsyncPBTStrategy, PBTStrategy, bandit_explore, explore,
                        initial_population, tournament_donors)
from skhpo._strategy import Trial
from skhpo.callbacks import SearchCallback
from skhpo.testing import SearchCVContract
from conftest import ALPHA_SPACE, tell_scores


class TestPBTContract(SearchCVContract):
    search_cls = PBTSearchCV
    search_kwargs = {"population_size": 4, "max_resources": 4, "perturbation_interval": 2}


class TestAsyncPBTContract(SearchCVContract):
    search_cls = PBTSearchCV
    search_kwargs = {**TestPBTContract.search_kwargs, "asynchronous": True}

    def test_n_jobs_invariance(self):
        pytest.skip("asynchronous results depend on the order trials finish in, "
                    "hence on n_jobs (asynchronous=False is the n_jobs-invariant mode)")

    def test_callback_can_stop(self):
        X, y = load_digits(return_X_y=True)
        search = self.make_search(callbacks=lambda results: True).fit(X[:150], y[:150])
        # running trials still finish, but no trial starts after the first stop
        assert len(search.cv_results_["params"]) < 4


class ScheduleOracle(BaseEstimator):
    """``w`` moves towards 1 at rate ``lr``; the score penalizes a large current lr.

    Early on a large lr is best (progress), late a small one (the penalty): no
    fixed lr reaches the score that a decaying schedule does.
    """

    def __init__(self, lr=0.1):
        self.lr = lr

    def partial_fit(self, X, y=None):
        self.w_ = getattr(self, "w_", 0.0)
        self.w_ += self.lr * (1 - self.w_)
        return self

    def fit(self, X, y=None):
        self.w_ = 0.0
        return self.partial_fit(X, y)

    def score(self, X, y=None):
        return -((1 - self.w_) ** 2 + 0.1 * self.lr)


X_DUMMY = np.zeros((8, 1))
LR_SPACE = {"lr": Real(1e-3, 1.0, prior="log-uniform")}


@pytest.mark.parametrize("asynchronous", [False, True])
def test_pbt_beats_the_best_fixed_learning_rate(asynchronous):
    steps = 20
    fixed = max(_train(ScheduleOracle(lr), steps).score(None)
                for lr in np.geomspace(1e-3, 1.0, 200))
    search = PBTSearchCV(ScheduleOracle(), LR_SPACE, population_size=8, max_resources=steps,
                         perturbation_interval=2, cv=2, random_state=0,
                         asynchronous=asynchronous).fit(X_DUMMY)
    assert search.best_score_ > fixed
    lrs = [params["lr"] for _, params in search.best_schedule_]
    assert lrs[-1] < lrs[0]  # the schedule decays
    # refit replays the schedule: the refitted model scores as the best member did
    assert search.best_estimator_.score(None) == pytest.approx(search.best_score_)


def _train(model, steps):
    for _ in range(steps):
        model.partial_fit(None)
    return model


def test_schedule_matches_what_was_applied():
    search = PBTSearchCV(ScheduleOracle(), LR_SPACE, population_size=6, max_resources=8,
                         perturbation_interval=2, cv=2, random_state=1).fit(X_DUMMY)
    results = search.cv_results_
    n_rounds = results["round"].max() + 1
    for member, schedule in enumerate(search.schedules_):
        # walk the lineage back from the last round: the member's own row, or at
        # an exploit the donor's row of the round before
        lineage_member = member
        for round_ in range(n_rounds - 1, -1, -1):
            row = np.flatnonzero((results["round"] == round_)
                                 & (results["member"] == lineage_member))[0]
            start = results["n_resources"][row] - 2
            in_force = [p for step, p in schedule if step <= start][-1]
            assert results["params"][row] == in_force
            if results["parent"][row] != -1:
                lineage_member = results["parent"][row]
    assert (results["parent"] >= -1).all() and (results["parent"] >= 0).any()


def _context(estimator, X, y, n_splits=2):
    from sklearn.metrics import check_scoring
    from sklearn.model_selection import KFold

    return EvaluationContext(
        estimator=estimator, X=X, y=y, splits=list(KFold(n_splits).split(X)),
        scorers=check_scoring(estimator), fit_params={}, score_params={},
        return_train_score=False, error_score=np.nan, verbose=0,
    )


def test_exploit_copies_the_fitted_state_of_every_fold():
    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16
    y = y[:300]
    evaluator = IncrementalEvaluator(_context(SGDClassifier(random_state=0), X, y))
    none = [None] * 4
    evaluator.evaluate([Trial({"alpha": 1e-4}, resource=2), Trial({"alpha": 1e-1}, resource=2)], none)
    parent_models = copy.deepcopy(evaluator.models_of(0))
    # member 1 exploits member 0 (resource unchanged: no further training) while
    # member 0 continues training
    evaluator.evaluate([Trial({"alpha": 2e-4}, resource=2, parent=0),
                        Trial({"alpha": 1e-4}, resource=4, parent=0)], none)
    child_models = evaluator.models_of(2)
    for parent, child in zip(parent_models, child_models):
        np.testing.assert_array_equal(child.coef_, parent.coef_)
        np.testing.assert_array_equal(child.predict(X), parent.predict(X))
        assert child.alpha == 2e-4  # explored value set on the live copy
    assert not np.array_equal(evaluator.models_of(3)[0].coef_, parent_models[0].coef_)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), resample=st.floats(0, 1))
def test_explore_keeps_bounds_and_types(seed, resample):
    dims = {"a": Real(1e-3, 1.0, prior="log-uniform"), "n": Integer(1, 8),
            "k": Categorical(["x", "y"]), "b": Real(-1.0, 1.0)}
    rng = np.random.RandomState(seed)
    params = {name: dim.sample(1, rng)[0] for name, dim in dims.items()}
    new = explore(params, dims, list(dims), rng, resample_probability=resample,
                  perturbation_factors=(0.8, 1.2))
    assert set(new) == set(params)
    for name, dim in dims.items():
        assert new[name] in dim
        assert type(new[name]) is type(params[name])


def test_explore_moves_integers_and_respects_immutables():
    dims = {"n": Integer(1, 100), "m": Integer(1, 100)}
    new = explore({"n": 2, "m": 5}, dims, ["n"], np.random.RandomState(0),
                  resample_probability=0.0, perturbation_factors=(1.2,))
    assert new == {"n": 3, "m": 5}
    clipped = explore({"n": 100, "m": 5}, dims, ["n"], np.random.RandomState(0),
                      resample_probability=0.0, perturbation_factors=(1.2,))
    assert clipped["n"] == 100


def test_strategy_exploits_bottom_quantile_without_fitting():
    released = []
    strategy = PBTStrategy(Space(LR_SPACE), np.random.RandomState(0), population_size=8,
                           max_resources=4, perturbation_interval=2, mutable_params=["lr"],
                           quantile_fraction=0.25, resample_probability=0.0,
                           perturbation_factors=(0.8, 1.2), release=released.extend)
    first = strategy.ask()
    assert [t.resource for t in first] == [2] * 8 and all(t.parent is None for t in first)
    scores = np.arange(8.0)
    scores[0] = np.nan  # a failed member ranks last
    tell_scores(strategy, first, scores)
    second = strategy.ask()
    parents = [t.info["parent"] for t in second]
    assert sorted(m for m, p in enumerate(parents) if p != -1) == [0, 1]
    assert {parents[0], parents[1]} <= {6, 7}
    for member in (0, 1):
        donor = parents[member]
        assert second[member].parent == donor  # continues the donor's trial
        ratio = second[member].params["lr"] / first[donor].params["lr"]
        assert ratio == pytest.approx(0.8) or ratio == pytest.approx(1.2)
    assert sorted(released) == [0, 1]
    for member in range(2, 8):
        assert second[member].parent == member and second[member].params == first[member].params
    tell_scores(strategy, second, np.zeros(8))
    assert strategy.ask() == []


@pytest.mark.parametrize("seed", range(5))
def test_sobol_initial_population_puts_one_member_in_each_stratum(seed):
    space = Space({"x": Real(0.0, 1.0), "n": Integer(0, 7)})
    points = initial_population(space, 8, np.random.RandomState(seed), "sobol")
    assert sorted(int(p["x"] * 8) for p in points) == list(range(8))
    assert sorted(p["n"] for p in points) == list(range(8))
    assert all(type(p["n"]) is int and 0 <= p["x"] <= 1 for p in points)


@pytest.mark.parametrize("seed", range(20))
def test_tournament_copies_only_strictly_better_members_that_do_not_copy(seed):
    rng = np.random.RandomState(seed)
    scores = rng.choice([0.1, 0.5, 0.9, np.nan], size=9)
    donors = tournament_donors(scores, rng)
    ranked = np.nan_to_num(scores, nan=-np.inf)
    for member, donor in donors.items():
        assert donor != member and ranked[donor] > ranked[member]
        assert donor not in donors  # a donor keeps its own models this round
    assert tournament_donors(np.full(6, 0.5), rng) == {}


def test_tournament_copies_about_a_quarter_of_distinct_scores():
    rng = np.random.RandomState(0)
    counts = [len(tournament_donors(rng.permutation(20), rng)) for _ in range(200)]
    # half of the members meet a better one; copiers of copiers are skipped
    assert 0.2 * 20 < np.mean(counts) < 0.5 * 20


def test_bandit_explore_goes_where_the_score_rose_and_keeps_bounds():
    dims = {"lr": Real(1e-4, 1e-1, prior="log-uniform"), "n": Integer(16, 256),
            "kind": Categorical(["a", "b"])}
    rng = np.random.RandomState(0)
    # the score rose with a larger lr, at every step
    observations = [[t, u, 0.1 * u + 0.01 * rng.normal()]
                    for t in (0.1, 0.3, 0.5) for u in np.linspace(0, 1, 6)]
    params = {"lr": 1e-3, "n": 32, "kind": "a"}
    chosen = [bandit_explore(params, dims, ["lr", "kind"], observations, 0.7, rng)
              for _ in range(5)]
    for new in chosen:
        assert new["n"] == 32 and new["lr"] in dims["lr"] and new["kind"] in dims["kind"]
        assert new["lr"] > 2e-2  # the top of the log range (unit > 0.8)


def test_bandit_explore_samples_uniformly_without_data():
    dims = {"lr": Real(0.0, 1.0)}
    rng = np.random.RandomState(0)
    values = [bandit_explore({"lr": 0.5}, dims, ["lr"], [], 0.0, rng)["lr"] for _ in range(200)]
    assert 0.4 < np.mean(values) < 0.6 and np.std(values) > 0.25


@pytest.mark.parametrize("asynchronous", [False, True])
def test_bandit_strategy_learns_from_score_changes(asynchronous):
    strategy_class = AsyncPBTStrategy if asynchronous else PBTStrategy
    strategy = strategy_class(Space(LR_SPACE), np.random.RandomState(0), population_size=8,
                              max_resources=12, perturbation_interval=2, mutable_params=["lr"],
                              quantile_fraction=0.25, resample_probability=0.25,
                              perturbation_factors=(0.8, 1.2), explore="bandit")
    scores = {}
    while trials := strategy.ask():
        for trial in trials:
            # the score grows by lr per interval, from the models it continued
            scores[trial.id] = scores.get(trial.parent, 0.0) + trial.params["lr"]
            strategy.tell(trial.id, scores[trial.id])
    # one observation per interval that continued models (not the first ones)
    assert len(strategy.observations) == 8 * (12 // 2 - 1) or asynchronous
    changes = np.array(strategy.observations)
    np.testing.assert_allclose(changes[:, -1], LR_SPACE["lr"].from_unit(changes[:, [1]]))
    final = [schedule[-1][1]["lr"] for schedule in strategy.schedules_]
    assert np.median(final) > 0.3


@pytest.mark.parametrize("asynchronous", [False, True])
@pytest.mark.parametrize("options", [{"initial_design": "sobol"}, {"exploit": "tournament"},
                                     {"explore": "bandit"}])
def test_pbt_options_run_end_to_end_within_the_budget(options, asynchronous):
    X, y = load_digits(return_X_y=True)
    search = PBTSearchCV(SGDClassifier(random_state=0), {**ALPHA_SPACE,
                         "eta0": Real(1e-3, 1.0, prior="log-uniform")},
                         population_size=6, max_resources=6, perturbation_interval=2,
                         cv=2, random_state=0, asynchronous=asynchronous,
                         **options).fit(X[:300], y[:300])
    assert search.resources_used_ <= 6 * 6 * 2
    assert search.best_score_ > 0.7
    assert search.best_schedule_[0][0] == 0


@pytest.mark.parametrize("asynchronous", [False, True])
@pytest.mark.parametrize("factors", [None, (0.5, 2.0), (0.9,)])
def test_explored_values_are_the_donors_times_a_perturbation_factor(factors, asynchronous):
    # None: the default, which is what the estimator must pass to its strategy
    X, y = load_digits(return_X_y=True)
    kwargs = {} if factors is None else {"perturbation_factors": factors}
    search = PBTSearchCV(SGDClassifier(random_state=0), ALPHA_SPACE, population_size=8,
                         max_resources=8, perturbation_interval=2, cv=2,
                         resample_probability=0.0, random_state=0,
                         asynchronous=asynchronous, **kwargs).fit(X[:300], y[:300])
    expected = search.get_params()["perturbation_factors"]
    low, high = ALPHA_SPACE["alpha"].low, ALPHA_SPACE["alpha"].high
    switches = 0
    for schedule in search.schedules_:
        for (_, before), (_, after) in zip(schedule, schedule[1:]):
            switches += 1
            moved = [np.clip(before["alpha"] * f, low, high) for f in expected]
            assert any(after["alpha"] == pytest.approx(m) for m in moved)
    assert switches > 0


@pytest.mark.parametrize(
    "estimator, params, error, match",
    [
        (SVC(), {}, TypeError, "SVC has no partial_fit"),
        (SGDClassifier(), {"exploit": "best"}, ValueError, "'exploit' parameter"),
        (SGDClassifier(), {"explore": "gp"}, ValueError, "'explore' parameter"),
        (SGDClassifier(), {"initial_design": "lhs"}, ValueError, "'initial_design' parameter"),
        (SGDClassifier(), {"population_size": 1}, ValueError, "'population_size' parameter"),
        (SGDClassifier(), {"quantile_fraction": 0.6}, ValueError, "'quantile_fraction' parameter"),
        (SGDClassifier(), {"quantile_fraction": 0.0}, ValueError, "'quantile_fraction' parameter"),
        (SGDClassifier(), {"perturbation_interval": 30, "max_resources": 20}, ValueError,
         "perturbation_interval=30 is larger than max_resources=20"),
        (SGDClassifier(), {"mutable_params": ["eta0"]}, ValueError,
         "mutable_params names 'eta0', which is not in search_spaces"),
        (SGDClassifier(), {"perturbation_factors": (0.8, -1.0)}, ValueError,
         r"perturbation_factors=\(0.8, -1.0\) must be a non-empty tuple"),
    ],
)
def test_bad_input(estimator, params, error, match):
    space = {"C": Real(0.1, 1.0)} if isinstance(estimator, SVC) else {"alpha": Real(1e-5, 1e-1)}
    with pytest.raises(error, match=match):
        PBTSearchCV(estimator, space, **params).fit(X_DUMMY, np.arange(8) % 2)


# -- skorch -----------------------------------------------------------------------


try:
    import torch

    class MLP(torch.nn.Module):
        def __init__(self, hidden=8):
            super().__init__()
            self.layers = torch.nn.Sequential(torch.nn.Linear(64, hidden), torch.nn.ReLU(),
                                              torch.nn.Linear(hidden, 10))

        def forward(self, X):
            return self.layers(X)

except ImportError:  # the skorch tests skip
    torch = None


def _net(**kwargs):
    pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")
    torch.manual_seed(0)
    return skorch.NeuralNetClassifier(MLP, max_epochs=1, lr=0.1, train_split=None,
                                      criterion=torch.nn.CrossEntropyLoss,
                                      optimizer=torch.optim.SGD, verbose=0,
                                      optimizer__momentum=0.9, **kwargs)


def _digits(n=240):
    X, y = load_digits(return_X_y=True)
    return (X[:n] / 16).astype(np.float32), y[:n].astype(np.int64)


def test_skorch_exploit_copies_weights_and_optimizer_state_and_lr_reaches_optimizer():
    net = _net()
    X, y = _digits()
    evaluator = IncrementalEvaluator(_context(net, X, y))
    none = [None] * 4
    evaluator.evaluate([Trial({"lr": 0.1}, resource=2), Trial({"lr": 0.01}, resource=2)], none)
    parent = copy.deepcopy(evaluator.models_of(0))
    evaluator.evaluate([Trial({"lr": 0.05}, resource=2, parent=0),
                        Trial({"lr": 0.1}, resource=3, parent=0)], none)
    for before, child in zip(parent, evaluator.models_of(2)):
        np.testing.assert_allclose(child.predict_proba(X), before.predict_proba(X))
        assert [g["lr"] for g in child.optimizer_.param_groups] == [0.05]
        momentum = child.optimizer_.state_dict()["state"]
        assert momentum, "the SGD momentum buffers were copied with the weights"
        assert len(child.history) == 2
    assert len(evaluator.models_of(3)[0].history) == 3


def test_skorch_pbt_end_to_end_rejects_module_params_as_mutable():
    net = _net()
    X, y = _digits()
    space = {"lr": Real(1e-3, 0.3, prior="log-uniform"), "module__hidden": [8, 16]}
    with pytest.raises(ValueError, match="re-initializes the network's weights"):
        PBTSearchCV(net, space, mutable_params=["module__hidden"]).fit(X, y)
    search = PBTSearchCV(net, space, population_size=4, max_resources=4,
                         perturbation_interval=2, cv=2, random_state=0).fit(X, y)
    assert search.mutable_params_ == ["lr"]
    assert len(search.best_estimator_.history) == 4
    final_lr = search.best_schedule_[-1][1]["lr"]
    assert search.best_estimator_.optimizer_.param_groups[0]["lr"] == pytest.approx(final_lr)


def _counting_net_class():
    skorch = pytest.importorskip("skorch")

    class CountingNet(skorch.NeuralNetClassifier):
        def initialize_module(self):
            self.n_module_inits_ = getattr(self, "n_module_inits_", 0) + 1
            return super().initialize_module()

    return CountingNet


def test_skorch_refit_replays_schedule_without_reinitializing():
    pytest.importorskip("torch")
    CountingNet = _counting_net_class()
    X, y = _digits(180)
    net = CountingNet(MLP, max_epochs=1, lr=0.1, train_split=None, verbose=0,
                      criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.SGD)
    space = {"lr": Real(1e-3, 0.3, prior="log-uniform"), "module__hidden": [8, 16]}
    search = PBTSearchCV(net, space, population_size=4, max_resources=6,
                         perturbation_interval=2, quantile_fraction=0.5, cv=2,
                         random_state=0).fit(X, y)
    assert len(search.best_schedule_) >= 2, "the test needs a schedule that switches"
    # one module initialization for the whole replay: switching lr keeps the weights
    assert search.best_estimator_.n_module_inits_ == 1
    assert len(search.best_estimator_.history) == 6


def test_skorch_nets_with_a_local_module_class_can_be_exploited():
    pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")

    class Local(torch.nn.Module):  # defined in a function: cannot be pickled
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(64, 10)

        def forward(self, X):
            return self.lin(X)

    X, y = _digits(120)
    net = skorch.NeuralNetClassifier(Local, max_epochs=1, lr=0.05, train_split=None,
                                     verbose=0, optimizer=torch.optim.SGD,
                                     optimizer__momentum=0.9)
    evaluator = IncrementalEvaluator(_context(net, X, y))
    none = [None] * 4
    evaluator.evaluate([Trial({"lr": 0.05}, resource=1), Trial({"lr": 0.01}, resource=1)], none)
    before = [m.predict_proba(X) for m in evaluator.models_of(0)]
    evaluator.evaluate([Trial({"lr": 0.02}, resource=1, parent=0),
                        Trial({"lr": 0.05}, resource=2, parent=0)], none)
    for expected, child in zip(before, evaluator.models_of(2)):
        np.testing.assert_allclose(child.predict_proba(X), expected, rtol=1e-6)
        assert child.optimizer_.param_groups[0]["lr"] == 0.02
        assert child.optimizer_.state_dict()["state"], "momentum buffers copied"
        assert len(child.history) == 1


# -- asynchronous PBT ---------------------------------------------------------------


def _async_strategy(population_size=8, max_resources=8, interval=2, released=None, seed=0):
    return AsyncPBTStrategy(
        Space(LR_SPACE), np.random.RandomState(seed), population_size=population_size,
        max_resources=max_resources, perturbation_interval=interval, mutable_params=["lr"],
        quantile_fraction=0.25, resample_probability=0.0, perturbation_factors=(0.8, 1.2),
        release=None if released is None else released.extend)


def _objective(trial):
    """A plain score: best near lr=0.01, better with more training."""
    return -np.log10(trial.params["lr"] / 0.01) ** 2 + 0.1 * trial.resource


def _run_async(strategy, n_workers, order_rng):
    """Ask for free workers, tell one running trial at a time (random order); all trials."""
    running, trials = [], []
    while True:
        asked = strategy.ask(n_workers - len(running))
        assert all(t.info["member"] not in {r.info["member"] for r in running} for t in asked)
        running += asked
        trials += asked
        if not running:
            return trials
        finished = running.pop(order_rng.randint(len(running)))
        strategy.tell(finished.id, _objective(finished))


def test_pbt_async_members_continue_independently():
    strategy = _async_strategy(population_size=4)
    first = strategy.ask(3)
    assert [t.info["member"] for t in first] == [0, 1, 2]
    assert all(t.parent is None and t.resource == 2 for t in first)
    assert [t.info["member"] for t in strategy.ask(5)] == [3]  # one trial per member
    assert strategy.ask(5) == []  # every member is running
    strategy.tell(first[1].id, 0.5)
    again = strategy.ask(5)
    # member 1 goes on at once while the others still train their first interval
    assert [t.info["member"] for t in again] == [1]
    assert again[0].parent == first[1].id and again[0].resource == 4
    assert again[0].info["round"] == 1 and again[0].params == first[1].params


def test_pbt_async_bottom_member_exploits_the_donors_latest_told_trial():
    released = []
    strategy = _async_strategy(population_size=4, released=released)
    first = strategy.ask(4)
    strategy.tell(first[1].id, 0.9)
    donor_running = strategy.ask(1)[0]  # member 1 alone has a score: it continues
    assert donor_running.info["parent"] == -1 and donor_running.parent == first[1].id
    for member, score in [(0, 0.1), (2, 0.5), (3, 0.4)]:
        strategy.tell(first[member].id, score)
    exploit = strategy.ask(1)[0]
    assert exploit.info["member"] == 0 and exploit.info["parent"] == 1
    # the donor's latest *told* models, not those of its running trial
    assert exploit.parent == first[1].id and exploit.resource == 4
    donor_lr = first[1].params["lr"]
    # perturbed by a factor, clipped to the bounds of LR_SPACE
    assert exploit.params["lr"] in (pytest.approx(np.clip(0.8 * donor_lr, 1e-3, 1.0)),
                                    pytest.approx(np.clip(1.2 * donor_lr, 1e-3, 1.0)))
    assert strategy.schedules_[0] == [(0, first[1].params), (2, exploit.params)]
    assert released == []  # the donor's told models stay until its next trial is told
    strategy.tell(donor_running.id, 0.95)
    assert released == [first[1].id]
    # member 2 is not in the bottom (member 0's 0.1 is): it continues its own models
    middle = strategy.ask(1)[0]
    assert middle.info["member"] == 2 and middle.parent == first[2].id
    assert middle.info["parent"] == -1 and middle.params == first[2].params


def test_pbt_async_never_copies_a_less_trained_member():
    strategy = _async_strategy(population_size=2)
    first = strategy.ask(2)
    strategy.tell(first[0].id, 0.0)
    ahead = strategy.ask(1)[0]
    strategy.tell(ahead.id, -1.0)  # member 0: step 4, worse than member 1 will be
    strategy.tell(first[1].id, 1.0)  # member 1: step 2
    following = strategy.ask(2)
    by_member = {t.info["member"]: t for t in following}
    # member 0 is at the bottom, but the top member is behind it: it goes on
    assert by_member[0].info["parent"] == -1 and by_member[0].parent == ahead.id
    assert by_member[0].resource == 6


def test_pbt_async_starts_the_least_trained_ready_member_first():
    strategy = _async_strategy(population_size=3, max_resources=8)
    first = strategy.ask(3)
    strategy.tell(first[0].id, 0.5)
    ahead = strategy.ask(1)[0]
    strategy.tell(ahead.id, 0.6)  # member 0: step 4, ready first
    strategy.tell(first[2].id, 0.4)  # member 2: step 2, ready later
    strategy.tell(first[1].id, 0.3)  # member 1: step 2, ready last
    # both members at step 2 go before member 0, which waited longest; ties: oldest
    assert [t.info["member"] for t in strategy.ask(1)] == [2]
    assert [t.info["member"] for t in strategy.ask(2)] == [1, 0]


@pytest.mark.parametrize("n_workers, seed", [(3, 0), (5, 1), (8, 2), (1, 3)])
def test_pbt_async_lineage_budget_and_releases(n_workers, seed):
    released = []
    strategy = _async_strategy(population_size=8, max_resources=7, interval=2,
                               released=released, seed=seed)
    trials = _run_async(strategy, n_workers, np.random.RandomState(seed))
    by_id = {t.id: t for t in trials}
    assert sorted(by_id) == list(range(len(trials)))
    assert len(trials) <= strategy.max_trials == 8 * 4
    exploits = 0
    for trial in trials:
        member = trial.info["member"]
        if trial.parent is None:
            assert trial.resource == 2 and trial.info["round"] == 0
            continue
        parent = by_id[trial.parent]
        assert parent.id < trial.id
        assert trial.resource == min(parent.resource + 2, 7)
        assert trial.info["round"] == parent.resource // 2
        if trial.info["parent"] == -1:
            assert parent.info["member"] == member and trial.params == parent.params
        else:
            exploits += 1
            assert parent.info["member"] == trial.info["parent"] != member
    assert exploits > 0
    # every member ends trained to max_resources, with the schedule of that trial
    finals = {}
    for trial in trials:
        finals[trial.info["member"]] = trial
    assert sorted(finals) == list(range(8))
    assert all(t.resource == 7 for t in finals.values())
    for member, final in finals.items():
        assert strategy.schedules_[member][-1][1] == final.params
    # each told trial is released once, when its member's next trial is told
    assert sorted(released) == sorted(t.id for t in trials if t not in finals.values())


def test_pbt_async_lockstep_budget_is_the_synchronous_one():
    strategy = _async_strategy(population_size=8, max_resources=7, interval=2)
    trials = []
    while batch := strategy.ask(8):
        trials += batch
        tell_scores(strategy, batch, [_objective(t) for t in batch])
    assert len(trials) == 8 * 4 == strategy.max_trials
    assert [t.info["round"] for t in trials] == [r for r in range(4) for _ in range(8)]
    assert sum(t.info["parent"] != -1 for t in trials) == 3 * 2  # 2 bottom members a round


def test_pbt_async_bottom_members_exploit_the_top_quantile():
    strategy = _async_strategy(population_size=8, max_resources=9, interval=1, seed=4)
    latest = {}  # member -> (score, resource) of its latest told trial
    running = []
    order_rng = np.random.RandomState(4)
    n_checked = 0
    while True:
        for trial in strategy.ask(3 - len(running)):
            member = trial.info["member"]
            if member in latest:
                ranked = [m for m, (_, res) in latest.items() if res < 9]
                scores = [latest[m][0] for m in ranked]
                order = np.argsort(-np.asarray(scores), kind="stable")
                size = max(1, int(0.25 * len(ranked)))
                bottom = {ranked[k] for k in order[len(ranked) - size:]}
                top = {ranked[k] for k in order[:size]}
                eligible = {m for m in top if latest[m][1] >= latest[member][1]}
                if member in bottom and eligible:
                    assert trial.info["parent"] in eligible
                    n_checked += 1
                else:
                    assert trial.info["parent"] == -1
            running.append(trial)
        if not running:
            break
        finished = running.pop(order_rng.randint(len(running)))
        score = _objective(finished) + order_rng.normal(scale=0.3)
        latest[finished.info["member"]] = (score, finished.resource)
        strategy.tell(finished.id, score)
    assert n_checked >= 5


def test_pbt_async_strategy_saved_with_trials_in_flight_goes_on_as_if_never_saved():
    def run(save_after):
        released = []
        strategy = _async_strategy(population_size=6, max_resources=7, interval=2, seed=5,
                                   released=released)
        order_rng, running, trials = np.random.RandomState(5), [], []
        while True:
            if len(trials) == save_after:  # a checkpoint: trials in flight are told later
                saved = pickle.loads(pickle.dumps(strategy))
                saved.rebind(strategy)  # as the loop does: release() is not saved
                strategy = saved
            asked = strategy.ask(3 - len(running))
            running += asked
            trials += asked
            if not running:
                return [(t.id, t.params, t.parent, t.resource, dict(t.info)) for t in trials
                        ], released, strategy.schedules_
            finished = running.pop(order_rng.randint(len(running)))
            strategy.tell(finished.id, _objective(finished))

    assert run(save_after=10) == run(save_after=-1)

class CountingSGD(SGDClassifier):
    """Counts its ``partial_fit`` passes and records the ``alpha`` of each."""

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        self.alphas_ = [*getattr(self, "alphas_", []), self.alpha]
        return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)


def _passes(estimator, X, y):
    return len(estimator.alphas_)


def _lineage_params_follow_schedules(search):
    """Walk each member's lineage back from its final row (parent ids): the params
    of every row are those its member's schedule had in force when it started."""
    results = search.cv_results_
    row_of = {t: r for r, t in enumerate(results["trial_id"])}
    final_rows = np.flatnonzero(results["n_resources"] == search.max_resources)
    assert sorted(results["member"][final_rows]) == list(range(search.population_size))
    for row in final_rows:
        schedule = search.schedules_[results["member"][row]]
        while True:
            parent = results["parent_id"][row]
            start = 0 if parent == -1 else results["n_resources"][row_of[parent]]
            assert results["params"][row] == [p for s, p in schedule if s <= start][-1]
            if parent == -1:
                break
            row = row_of[parent]


@pytest.mark.parametrize("asynchronous", [False, True])
def test_pbt_lineage_params_follow_the_schedules(asynchronous):
    search = PBTSearchCV(ScheduleOracle(), LR_SPACE, population_size=6, max_resources=8,
                         perturbation_interval=2, cv=2, random_state=1,
                         asynchronous=asynchronous).fit(X_DUMMY)
    _lineage_params_follow_schedules(search)
    assert (search.cv_results_["parent"] >= 0).any()


def test_pbt_async_end_to_end_models_continue_and_refit_replays_the_schedule():
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=600, n_features=2000, n_informative=60,
                               n_classes=20, n_clusters_per_class=1, random_state=0)
    interval, max_resources = 2, 6
    search = PBTSearchCV(
        CountingSGD(loss="log_loss", random_state=0),
        {"alpha": Real(1e-6, 1e-1, prior="log-uniform")},
        population_size=6, max_resources=max_resources, perturbation_interval=interval,
        scoring={"accuracy": "accuracy", "passes": _passes}, refit="accuracy",
        cv=3, n_jobs=2, random_state=0, asynchronous=True,
    ).fit(X, y)
    results = search.cv_results_
    assert np.isfinite(results["mean_test_accuracy"]).all()
    assert results["mean_test_accuracy"].max() > 0.1  # 20 classes: chance is 0.05
    # every fold's model was trained exactly as far as its row says: continued
    # models (and exploited copies) carry the passes of their parents
    for k in range(3):
        np.testing.assert_array_equal(results[f"split{k}_test_passes"], results["n_resources"])
    assert (results["n_resources"] > interval).any()
    assert len(results["params"]) <= 6 * 3
    _lineage_params_follow_schedules(search)
    # the refit replays the best member's schedule, pass by pass
    expected = []
    steps = [s for s, _ in search.best_schedule_] + [max_resources]
    for (start, params), end in zip(search.best_schedule_, steps[1:]):
        expected += [params["alpha"]] * (end - start)
    assert search.best_estimator_.alphas_ == expected
    assert search.best_params_ == search.best_schedule_[-1][1]


class _InterruptAfter(SearchCallback):
    """A Ctrl-C after ``n`` told trials."""

    def __init__(self, n):
        self.n = n

    def on_iteration_end(self, search, *, results, **kwargs):
        if len(results["params"]) >= self.n:
            raise KeyboardInterrupt


def test_pbt_async_interrupted_search_resumes_its_running_trials(tmp_path):
    X, y = load_digits(return_X_y=True)

    def make(**kwargs):
        return PBTSearchCV(
            CountingSGD(loss="log_loss", random_state=0), ALPHA_SPACE, population_size=6,
            max_resources=6, perturbation_interval=2, cv=3, n_jobs=2, random_state=0,
            scoring={"accuracy": "accuracy", "passes": _passes}, refit="accuracy",
            asynchronous=True, checkpoint=str(tmp_path / "pbt.ckpt"), **kwargs)

    with pytest.raises(KeyboardInterrupt, match="saved in the checkpoint"):
        make(callbacks=_InterruptAfter(7)).fit(X[:600] / 16, y[:600])
    resumed = make().fit(X[:600] / 16, y[:600])
    results = resumed.cv_results_
    assert resumed.n_resumed_trials_ == 7  # the 7th is saved even though its callback raised
    np.testing.assert_array_equal(np.sort(results["trial_id"]), np.arange(len(results["params"])))
    # trials running at the interrupt restarted from their parents' saved models
    np.testing.assert_array_equal(results["mean_test_passes"], results["n_resources"])
    _lineage_params_follow_schedules(resumed)
