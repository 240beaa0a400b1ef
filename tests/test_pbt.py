"""PBTSearchCV: contract, exploit/explore, schedules, skorch, oracle, bad input."""

from __future__ import annotations

import copy

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
from skhpo._pbt import PBTStrategy, explore
from skhpo._strategy import Trial
from skhpo.testing import SearchCVContract
from conftest import tell_scores


class TestPBTContract(SearchCVContract):
    search_cls = PBTSearchCV
    search_kwargs = {"population_size": 4, "max_resources": 4, "perturbation_interval": 2}


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


def test_pbt_beats_the_best_fixed_learning_rate():
    steps = 20
    fixed = max(_train(ScheduleOracle(lr), steps).score(None)
                for lr in np.geomspace(1e-3, 1.0, 200))
    search = PBTSearchCV(ScheduleOracle(), LR_SPACE, population_size=8, max_resources=steps,
                         perturbation_interval=2, cv=2, random_state=0).fit(X_DUMMY)
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


@pytest.mark.parametrize(
    "estimator, params, error, match",
    [
        (SVC(), {}, TypeError, "SVC has no partial_fit"),
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
