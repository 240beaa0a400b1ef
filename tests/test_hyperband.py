"""HyperbandSearchCV: contract, paper schedule, resource accounting, incremental evaluator."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.datasets import make_classification
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import check_scoring
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from skhpo import HyperbandSearchCV, Real, Space
from skhpo._evaluate import EvaluationContext
from skhpo._hyperband import (
    AsyncHyperbandStrategy,
    HyperbandStrategy,
    SubsampleEvaluator,
    hyperband_schedule,
)
from skhpo._incremental import IncrementalEvaluator
from skhpo._strategy import Trial
from skhpo.bayes._gp import GaussianProcess
from skhpo.bayes._multifidelity import (
    at_full_resource,
    candidate_pool,
    multifidelity_training_data,
    propose_at_full_resource,
    resource_column,
)
from skhpo.bayes._strategy import N_PER_CENTRE, is_seen, row_keys
from skhpo.testing import SearchCVContract, assert_same_results
from conftest import tell_scores

X, y = make_classification(n_samples=90, n_features=5, n_informative=3, random_state=0)
ALPHA = {"alpha": Real(1e-5, 1e-1, prior="log-uniform")}

# Li et al. (JMLR 2018), Table 1: R = 81, eta = 3; one column per bracket s = 4..0.
PAPER_TABLE = [
    [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
    [(34, 3), (11, 9), (3, 27), (1, 81)],
    [(15, 9), (5, 27), (1, 81)],
    [(8, 27), (2, 81)],
    [(5, 81)],
]


class TestHyperbandContract(SearchCVContract):
    search_cls = HyperbandSearchCV
    search_kwargs = {"max_resources": 9}

    def test_best_index_matches_rank(self):
        # Overridden: best_* come from the rows at the largest budget, as in
        # HalvingRandomSearchCV, so the best row is rank 1 among those rows only.
        X, y = make_classification(n_samples=120, n_features=6, n_informative=3,
                                   random_state=0)
        search = self.make_search().fit(X, y)
        results = search.cv_results_
        top = results["n_resources"] == results["n_resources"].max()
        assert search.best_params_ == results["params"][search.best_index_]
        assert search.best_score_ == results["mean_test_score"][search.best_index_]
        assert top[search.best_index_]
        ranks = results["rank_test_score"]
        assert ranks[search.best_index_] == ranks[top].min()


class Counting(ClassifierMixin, BaseEstimator):
    """Counts partial_fit calls: per model (its score) and in the class (all models)."""

    calls = 0
    serials = 0
    first_classes: list = []

    def __init__(self, alpha=1.0, sign=1.0):
        self.alpha, self.sign = alpha, sign

    def fit(self, X, y):
        raise AssertionError("a search on partial_fit must not call fit")

    def partial_fit(self, X, y, classes=None):
        cls = type(self)
        cls.calls += 1
        if not hasattr(self, "n_calls_"):
            cls.serials += 1
            cls.first_classes.append(classes)
            self.serial_, self.n_calls_, self.classes_ = cls.serials, 0, classes
        elif classes is not None:
            raise AssertionError("classes passed again after the first partial_fit")
        self.n_calls_ += 1
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def score(self, X, y=None):
        return self.sign * self.n_calls_ + 1e-3 * np.log(self.alpha)

    @classmethod
    def reset(cls):
        cls.calls, cls.serials, cls.first_classes = 0, 0, []


def continued_budget(schedule):
    """Units per fold when promoted models continue: sum n_i * (r_i - r_{i-1})."""
    return sum(n * (r - prev) for rungs in schedule
               for (n, r), prev in zip(rungs, [0] + [r for _, r in rungs]))


# -- the schedule ---------------------------------------------------------------

def test_schedule_is_the_paper_table():
    assert hyperband_schedule(81, 1, 3) == PAPER_TABLE
    assert hyperband_schedule(810, 10, 3) == [[(n, 10 * r) for n, r in b] for b in PAPER_TABLE]


def test_schedule_budgets_match_the_issue():
    schedule = hyperband_schedule(81, 1, 3)
    assert continued_budget(schedule) == 1581
    # restarting every rung costs 1,902; 2,025 = (s_max + 1) * (s_max + 1) * R is the
    # paper's nominal budget of B = (s_max + 1) R per bracket
    assert sum(n * r for rungs in schedule for n, r in rungs) == 1902


@pytest.mark.parametrize("max_resources, min_resources, factor", [
    (100, 1, 3), (27, 2, 3), (64, 1, 2), (50, 3, 2.5), (1, 1, 3), (5, 5, 4)])
def test_schedule_properties(max_resources, min_resources, factor):
    schedule = hyperband_schedule(max_resources, min_resources, factor)
    s_max = len(schedule) - 1
    assert min_resources * factor**s_max <= max_resources < min_resources * factor ** (s_max + 1)
    for k, rungs in enumerate(schedule):
        assert len(rungs) == s_max - k + 1
        assert rungs[-1][1] == max_resources and rungs[0][1] >= min_resources
        for i, ((n, r), (n_next, r_next)) in enumerate(zip(rungs, rungs[1:])):
            assert n_next == int(rungs[0][0] * factor ** -(i + 1) + 1e-9) >= 1
            assert n_next <= n and r_next > r


# -- the strategy, without fitting ----------------------------------------------

def run(strategy, objective):
    batches = []
    while trials := strategy.ask():
        batches.append(trials)
        tell_scores(strategy, trials, np.array([objective(t) for t in trials]))
    return batches


def test_strategy_promotes_the_top_and_releases_the_rest():
    released = []
    strategy = HyperbandStrategy(Space(ALPHA), np.random.RandomState(0), max_resources=9,
                                 release=released.extend)
    batches = run(strategy, lambda t: np.log10(t.params["alpha"]))
    trials = [t for batch in batches for t in batch]
    assert [len(b) for b in batches] == [9 + 5 + 3, 3 + 1, 1]  # rung 0 of all brackets at once
    assert strategy.max_trials == len(trials)
    for i, trial in enumerate(trials):
        children = [t for t in trials if t.parent == i]
        rung = [j for j, t in enumerate(trials) if t.info == trial.info]
        # promoted = the floor(n_i / 3) best of the rung, continuing with the same params
        top = sorted(rung, key=lambda j: -trials[j].params["alpha"])[:len(rung) // 3]
        assert bool(children) == (i in top and trial.info["iter"] + 1 < len(
            strategy.schedule[trial.info["bracket"]]))
        for child in children:
            assert child.params is trial.params and child.resource == 3 * trial.resource
            assert child.info["iter"] == trial.info["iter"] + 1
    # every trial is released once: eliminated, or at the end of its bracket
    assert sorted(released) == [i for i in range(len(trials))
                                if not any(t.parent == i for t in trials)]


def test_strategy_skips_failed_candidates():
    strategy = HyperbandStrategy(Space(ALPHA), np.random.RandomState(0), max_resources=9)
    batches = run(strategy, lambda t: np.nan if t.params["alpha"] > 1e-3 else 1.0)
    promoted = [t for batch in batches[1:] for t in batch]
    assert promoted and all(t.params["alpha"] <= 1e-3 for t in promoted)


def test_strategy_param_resource_and_restart():
    strategy = HyperbandStrategy(Space(ALPHA), np.random.RandomState(0), max_resources=9,
                                 resource_param="max_iter", continue_promoted=False)
    trials = [t for b in run(strategy, lambda t: 0.0) for t in b]
    assert all(t.params["max_iter"] == t.resource and t.parent is None for t in trials)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_bayes_sampler_proposes_closer_to_the_optimum(seed):
    def objective(trial):  # optimum at alpha = 1e-3, better with more budget
        return -(np.log10(trial.params["alpha"]) + 3) ** 2 + np.log(trial.resource)

    distances = {}
    for sampler in ("random", "bayes"):
        strategy = HyperbandStrategy(Space(ALPHA), np.random.RandomState(seed),
                                     max_resources=27, sampler=sampler)
        trials = [t for b in run(strategy, objective) for t in b]
        later = [t for t in trials if t.info["bracket"] > 0 and t.parent is None]
        distances[sampler] = np.median([abs(np.log10(t.params["alpha"]) + 3) for t in later])
    assert distances["bayes"] < distances["random"] / 2


def test_bayes_sampler_runs_the_brackets_one_after_the_other():
    strategy = HyperbandStrategy(Space(ALPHA), np.random.RandomState(0), max_resources=27,
                                 sampler="bayes")
    batches = run(strategy, lambda t: -abs(np.log10(t.params["alpha"]) + 3))
    brackets = [{t.info["bracket"] for t in batch} for batch in batches]
    assert all(len(b) == 1 for b in brackets)
    assert [b.pop() for b in brackets] == [0, 0, 0, 0, 1, 1, 1, 2, 2, 3]


def test_bayes_sampler_models_every_rung_with_a_resource_column():
    strategy = HyperbandStrategy(Space(ALPHA), np.random.RandomState(0), max_resources=27,
                                 sampler="bayes")
    data = []
    sample = strategy._sample

    def recording_sample(n):
        data.append(strategy._model_data())
        return sample(n)

    strategy._sample = recording_sample
    run(strategy, lambda t: -abs(np.log10(t.params["alpha"]) + 3))
    # bracket 0 starts unmodelled; then every result so far: 27 + 9 + 3 + 1 of
    # bracket 0, + 12 + 4 + 1 of bracket 1, + 6 + 2 of bracket 2
    assert data[0] is None
    assert [len(X) for X, _ in data[1:]] == [40, 57, 65]
    X, _ = data[-1]
    assert X.shape[1] == 2
    np.testing.assert_allclose(np.unique(X[:, 1]), [0, 1 / 3, 2 / 3, 1])


def test_resource_column_is_the_log_budget_scaled_to_the_unit_interval():
    np.testing.assert_allclose(resource_column([1, 3, 9, 27, 81], 1, 81),
                               [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(resource_column([2, 6], 2, 6), [0, 1])
    np.testing.assert_array_equal(resource_column([5, 5], 5, 5), [1, 1])


def test_multifidelity_training_data_appends_the_resource_and_ranks_failures_last():
    points = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8]])
    X, y = multifidelity_training_data(points, np.array([1, 3, 9, 9]),
                                       np.array([0.5, np.nan, 0.7, 0.9]), 1, 9)
    np.testing.assert_array_equal(X[:, :2], points)
    np.testing.assert_allclose(X[:, 2], [0, 0.5, 1, 1])
    assert y[1] == y[0] < y[2] < y[3]
    assert abs(y.mean()) < 1e-12 and abs(y.std() - 1) < 1e-12


def test_multifidelity_gp_learns_the_budget_and_proposes_at_the_full_one():
    # the full budget (t = 1) scores 1 more everywhere; the optimum is at u = 0.3
    rng = np.random.RandomState(0)
    u = rng.uniform(size=(40, 1))
    t = np.repeat([0.0, 0.5, 1.0], [30, 7, 3])
    X = np.column_stack([u, t])
    gp = GaussianProcess(2, rng).fit(X, -((u[:, 0] - 0.3) ** 2) * 10 + t)
    grid = np.linspace(0, 1, 101)[:, None]
    full, _ = gp.predict(at_full_resource(grid))
    low, _ = gp.predict(np.column_stack([grid, np.zeros(101)]))
    assert np.all(full > low)
    incumbent = gp.predict(at_full_resource(u))[0].max()
    picks = propose_at_full_resource(gp, incumbent, grid, 4)
    assert len(set(picks.tolist())) == 4  # the kriging believer spreads the batch
    assert abs(grid[picks[0], 0] - 0.3) < 0.1
    assert len(propose_at_full_resource(gp, incumbent, grid[:2], 4)) == 2
    assert len(propose_at_full_resource(gp, incumbent, grid[:0], 4)) == 0


def test_candidate_pool_is_distinct_and_leaves_out_measured_points():
    rng = np.random.RandomState(0)
    grid_space = Space({"a": [1, 2, 3], "b": ["x", "y"]})
    seen = grid_space.to_unit([{"a": 1, "b": "x"}, {"a": 3, "b": "y"}])
    pool = candidate_pool(grid_space, seen, seen, rng)
    assert len(pool) == 4 and not is_seen(pool, seen).any()
    assert len(set(row_keys(pool))) == 4
    space = Space({**ALPHA, "n": [1, 2]})
    seen = space.to_unit(space.sample(5, rng))
    pool = candidate_pool(space, seen, seen, rng)
    assert len(set(row_keys(pool))) == len(pool) > 1000
    assert not is_seen(pool, seen).any()
    # local candidates: the perturbations at the smallest scale stay near a centre
    near = np.abs(pool[:, 0] - seen[0, 0]) < 0.02
    assert near.sum() >= N_PER_CENTRE


# -- resource accounting: promoted models continue -----------------------------

def test_partial_fit_calls_match_the_schedule():
    Counting.reset()
    search = HyperbandSearchCV(Counting(), ALPHA, max_resources=9, cv=3,
                               random_state=0).fit(X, y)
    schedule = hyperband_schedule(9, 1, 3)
    n_searched = Counting.calls - search.best_estimator_.n_calls_
    assert n_searched == 3 * continued_budget(schedule) == search.resources_used_
    results = search.cv_results_
    # each model's score is its own partial_fit count: it reached exactly r_i
    np.testing.assert_array_equal(results["mean_test_score"].round(), results["n_resources"])
    # new models only for the first rung of each bracket: promotions never restart
    assert Counting.serials - 1 == 3 * sum(rungs[0][0] for rungs in schedule)
    assert all(np.array_equal(c, np.unique(y)) for c in Counting.first_classes)
    assert search.n_candidates_ == [[n for n, _ in b] for b in schedule]
    assert search.n_resources_ == [[r for _, r in b] for b in schedule]
    assert (search.resource_, search.min_resources_, search.max_resources_) == ("partial_fit", 1, 9)
    assert search.best_estimator_.n_calls_ == 9  # refit: partial_fit for n_resources passes


def test_best_is_chosen_at_the_largest_budget():
    # scores fall with the budget: the best rows overall are at r=1, but best_* must not be
    Counting.reset()
    search = HyperbandSearchCV(Counting(sign=-1.0), ALPHA, max_resources=9, cv=2,
                               random_state=0).fit(X, y)
    results = search.cv_results_
    assert results["n_resources"][search.best_index_] == 9
    assert results["rank_test_score"][search.best_index_] > 1
    pick = HyperbandSearchCV(Counting(sign=-1.0), ALPHA, max_resources=9, cv=2,
                             random_state=0, refit=lambda r: int(np.argmin(r["rank_test_score"])))
    assert pick.fit(X, y).cv_results_["n_resources"][pick.best_index_] == 1


def test_evaluator_memory_is_bounded_by_the_live_rung():
    live = []

    def record(results):
        live.append(len(search._evaluator.live_trials))

    search = HyperbandSearchCV(SGDClassifier(random_state=0), ALPHA, max_resources=9,
                               cv=2, random_state=0, callbacks=record)
    search.fit(X, y)
    assert live == [3 + 1, 1, 0]  # promoted trials only, then nothing
    assert not hasattr(search, "_evaluator")


def test_warm_start_param_continues_and_restart_does_not():
    from sklearn.ensemble import RandomForestClassifier

    budgets = {}
    # 4 points: the largest bracket (4 candidates) samples them without replacement
    for warm_start in (False, True):
        search = HyperbandSearchCV(
            RandomForestClassifier(warm_start=warm_start, random_state=0),
            {"max_depth": [2, 3, 4, 5]}, resource="n_estimators", max_resources=4,
            factor=2, cv=2, random_state=0).fit(X, y)
        assert search.best_params_["n_estimators"] == 4
        assert search.best_estimator_.n_estimators == 4
        budgets[warm_start] = search.resources_used_
    schedule = hyperband_schedule(4, 1, 2)
    assert budgets[True] == 2 * continued_budget(schedule)
    assert budgets[False] == 2 * sum(n * r for rungs in schedule for n, r in rungs)


class SizeReporter(ClassifierMixin, BaseEstimator):
    """Its score on a set is the size of that set."""

    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def score(self, X, y=None):
        return float(len(X))


def test_n_samples_subsamples_training_folds_only():
    search = HyperbandSearchCV(SizeReporter(), {"C": Real(0.1, 1.0)}, resource="n_samples",
                               min_resources=6, cv=3, random_state=0,
                               return_train_score=True).fit(X, y)
    results = search.cv_results_
    assert search.resource_ == "n_samples" and search.max_resources_ == 60
    for k in range(3):
        np.testing.assert_array_equal(results[f"split{k}_test_score"], 30)  # whole test fold
        np.testing.assert_array_equal(results[f"split{k}_train_score"], results["n_resources"])
    assert search.resources_used_ == 3 * sum(
        n * r for rungs in hyperband_schedule(60, 6, 3) for n, r in rungs)


def test_n_samples_auto_resources_and_nested_subsamples():
    search = HyperbandSearchCV(LogisticRegression(), {"C": Real(0.1, 10.0)}, cv=3,
                               random_state=0).fit(X, y)
    assert search.resource_ == "n_samples"
    assert (search.min_resources_, search.max_resources_) == (2 * 3 * 2, 60)
    context = make_evaluator(LogisticRegression()).context
    evaluator = SubsampleEvaluator(context)
    evaluator.set_random_state(0)
    small, large = (evaluator.splits_of(Trial({}, resource=r)) for r in (10, 30))
    for (train_s, test_s), (train_l, test_l), (train, test) in zip(small, large, context.splits):
        assert len(train_s) == 10 and set(train_s) <= set(train_l) <= set(train)
        np.testing.assert_array_equal(test_s, test)


def test_pipeline_fits_preceding_steps_once_per_fold():
    class CountingScaler(TransformerMixin, BaseEstimator):
        fits = 0

        def fit(self, X, y=None):
            type(self).fits += 1
            self.mean_ = X.mean(axis=0)
            return self

        def transform(self, X):
            return X - self.mean_

    pipe = Pipeline([("scale", CountingScaler()), ("clf", SGDClassifier(random_state=0))])
    search = HyperbandSearchCV(pipe, {"clf__alpha": ALPHA["alpha"]}, max_resources=9, cv=2,
                               random_state=0).fit(X, y)
    assert search.resource_ == "partial_fit"
    first_rungs = sum(rungs[0][0] for rungs in hyperband_schedule(9, 1, 3))
    assert CountingScaler.fits == 2 * first_rungs + 1  # + the refit
    assert search.best_estimator_.score(X, y) > 0.5


def test_results_do_not_depend_on_n_jobs_or_sampler_rerun():
    kwargs = dict(max_resources=3, cv=2, random_state=0, sampler="bayes")
    est = SGDClassifier(random_state=0)
    serial = HyperbandSearchCV(est, ALPHA, n_jobs=1, **kwargs).fit(X, y)
    parallel = HyperbandSearchCV(est, ALPHA, n_jobs=2, **kwargs).fit(X, y)
    assert_same_results(serial.cv_results_, parallel.cv_results_)


def test_failed_partial_fit_drops_the_model_and_is_not_promoted():
    from skhpo.testing import FailingClassifier

    space = {"alpha": Real(1e-5, 1.0, prior="log-uniform")}
    with pytest.warns(FitFailedWarning):
        search = HyperbandSearchCV(FailingClassifier(fail_above=1e-2), space, max_resources=9,
                                   cv=2, random_state=0).fit(X, y)
    results = search.cv_results_
    failed = np.isnan(results["mean_test_score"])
    assert failed.any() and (results["iter"][failed] == 0).all()
    promoted = np.flatnonzero(results["iter"] > 0)
    assert all(results["params"][i]["alpha"] <= 1e-2 for i in promoted)


def test_multimetric_and_train_scores():
    search = HyperbandSearchCV(SGDClassifier(random_state=0), ALPHA, max_resources=3, cv=2,
                               scoring=["accuracy", "f1"], refit="f1", random_state=0,
                               return_train_score=True).fit(X, y)
    results = search.cv_results_
    assert {"mean_test_f1", "mean_train_accuracy", "rank_test_accuracy"} <= set(results)
    assert results["n_resources"][search.best_index_] == 3


# -- the incremental evaluator API (PBT reuses it) -------------------------------

def make_evaluator(estimator, **kwargs):
    context = EvaluationContext(
        estimator=estimator, X=X, y=y, splits=[(np.arange(45), np.arange(45, 90)),
                                               (np.arange(45, 90), np.arange(45))],
        scorers=check_scoring(estimator), fit_params={}, score_params={},
        return_train_score=False, error_score=np.nan, verbose=0)
    return IncrementalEvaluator(context, **kwargs)


def contexts(trials):
    return [None] * (2 * len(trials))


def test_evaluator_moves_to_the_last_child_and_copies_for_the_others():
    Counting.reset()
    evaluator = make_evaluator(Counting())
    evaluator.evaluate([Trial({"alpha": 1.0}, resource=2)], contexts([0]))
    original = evaluator.models_of(0)
    out = evaluator.evaluate([Trial({"alpha": 0.5}, resource=3, parent=0),  # exploit: copy
                              Trial({"alpha": 1.0}, resource=5, parent=0)],  # continue: move
                             contexts([0, 0]))
    assert [r["test_scores"] for r in out[::2]] == pytest.approx([3, 5], abs=0.01)
    copies, moved = evaluator.models_of(1), evaluator.models_of(2)
    assert all(a is b for a, b in zip(moved, original))
    assert all(c is not o and c.alpha == 0.5 and c.n_calls_ == 3 for c, o in zip(copies, original))
    assert all(m.alpha == 1.0 for m in moved)  # set_params went to the copy only
    assert evaluator.live_trials == [1, 2] and evaluator.resources_used == 2 * (2 + 1 + 3)
    with pytest.raises(ValueError, match="trial 0 has no stored models"):
        evaluator.evaluate([Trial({"alpha": 1.0}, resource=6, parent=0)], contexts([0]))
    evaluator.release([1])
    assert evaluator.live_trials == [2]
    evaluator.release_all()
    assert evaluator.live_trials == []


def test_evaluator_copy_parents_keeps_the_parent():
    evaluator = make_evaluator(SGDClassifier(random_state=0), copy_parents=True)
    evaluator.evaluate([Trial({"alpha": 1e-3}, resource=1)], contexts([0]))
    evaluator.evaluate([Trial({"alpha": 1e-2}, resource=2, parent=0)], contexts([0]))
    assert evaluator.live_trials == [0, 1]
    assert evaluator.models_of(0)[0].alpha == 1e-3 and evaluator.models_of(1)[0].alpha == 1e-2
    with pytest.raises(ValueError, match="below the 2 units"):
        evaluator.evaluate([Trial({"alpha": 1e-2}, resource=1, parent=1)], contexts([0]))


# -- bad input, before any fit --------------------------------------------------

@pytest.mark.parametrize("estimator, kwargs, error, match", [
    (SVC(), {"resource": "partial_fit"}, TypeError,
     r"resource='partial_fit' needs an estimator with partial_fit .*; SVC has none"),
    (SGDClassifier(), {"resource": "max_itr"}, ValueError,
     r"resource='max_itr' is not 'auto', 'n_samples', 'partial_fit' or a parameter of "
     r"SGDClassifier; its parameters are \['alpha'"),
    (SGDClassifier(), {"resource": "alpha"}, ValueError,
     r"resource='alpha' is also in search_spaces; the resource is set by the search"),
    (SGDClassifier(), {"min_resources": 10, "max_resources": 9}, ValueError,
     r"min_resources_=10 is greater than max_resources_=9; lower min_resources or raise"),
    (SGDClassifier(), {"factor": 1}, ValueError,
     r"The 'factor' parameter of HyperbandSearchCV must be a float in the range "
     r"\(1.0, inf\)\. Got 1 instead"),
    (SGDClassifier(), {"sampler": "tpe"}, ValueError, r"The 'sampler' parameter"),
    (SVC(), {"max_resources": 61}, ValueError,
     r"max_resources=61 is greater than 60, the size of the smallest training fold "
     r"\(3 folds of 90 samples\); with resource='n_samples' lower max_resources"),
    (SVC(), {"resource": "n_samples", "max_resources": 91}, ValueError,
     r"max_resources=91 is greater than 60"),
    (SVC(), {"resource": "kernel"}, ValueError,
     r"max_resources='auto' takes the estimator's kernel='rbf', which is not a positive "
     r"integer; give max_resources"),
])
def test_bad_input_is_rejected_before_any_fit(estimator, kwargs, error, match):
    def never(self, *args, **kwargs):
        raise AssertionError("fitted before validation")

    methods = {"fit": never}
    if hasattr(estimator, "partial_fit"):
        methods["partial_fit"] = never
    never_fit = type(type(estimator).__name__, (type(estimator),), methods)
    space = {"alpha": Real(1e-4, 1e-1)} if hasattr(estimator, "alpha") else {"C": Real(0.1, 1.0)}
    search = HyperbandSearchCV(never_fit(**estimator.get_params()), space, cv=3, **kwargs)
    with pytest.raises(error, match=match):
        search.fit(X, y)


# -- asynchronous successive halving -------------------------------------------

class PassCounter(SGDClassifier):
    """SGD that counts its ``partial_fit`` passes (``passes_``)."""

    def partial_fit(self, X, y, classes=None, **kwargs):
        self.passes_ = getattr(self, "passes_", 0) + 1
        return super().partial_fit(X, y, classes=classes, **kwargs)


def passes(model, X, y):
    return float(model.passes_)


def test_async_strategy_has_the_synchronous_budget_and_promotes_the_top():
    def objective(params, resource):
        return -(params["alpha"] - 0.3) ** 2 + 0.01 * resource

    space = Space({"alpha": Real(0, 1)})
    sync = HyperbandStrategy(space, np.random.RandomState(0), max_resources=27, factor=3)
    released: list[int] = []
    strategy = AsyncHyperbandStrategy(space, np.random.RandomState(0), max_resources=27,
                                      factor=3, release=released.extend)
    rng = np.random.RandomState(1)
    running, told = [], {}
    while True:
        running += strategy.ask(2)
        if not running:
            break
        trial = running.pop(rng.randint(len(running)))  # finish in random order
        told[trial.id] = trial
        strategy.tell(trial.id, objective(trial.params, trial.resource))
    assert len(told) == sync.max_trials == strategy.max_trials
    counts = defaultdict(int)
    for trial in told.values():
        counts[trial.info["bracket"], trial.info["iter"]] += 1
        if trial.parent is not None:
            parent = told[trial.parent]
            assert parent.params == trial.params and parent.resource < trial.resource
            assert parent.info["iter"] == trial.info["iter"] - 1
    # every rung holds exactly the synchronous schedule's candidates
    for b, rungs in enumerate(sync.schedule):
        for i, (n, _) in enumerate(rungs):
            assert counts[b, i] == n
    # nothing promoted is released; what is released was never promoted
    promoted = {t.parent for t in told.values() if t.parent is not None}
    assert not promoted & set(released)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_async_hyperband_continues_each_model_to_its_budget(n_jobs):
    search = HyperbandSearchCV(PassCounter(random_state=0), ALPHA, resource="partial_fit",
                               max_resources=9, factor=3, cv=3, scoring=passes,
                               asynchronous=True, n_jobs=n_jobs, random_state=0).fit(X, y)
    results = search.cv_results_
    # every model trained exactly its rung's budget: promotions continued their parent
    np.testing.assert_array_equal(results["mean_test_score"], results["n_resources"])
    sync = HyperbandSearchCV(PassCounter(random_state=0), ALPHA, resource="partial_fit",
                             max_resources=9, factor=3, cv=3, scoring=passes,
                             random_state=0).fit(X, y)
    assert len(results["params"]) == len(sync.cv_results_["params"])
    assert search.resources_used_ == sync.resources_used_
    assert (np.asarray(results["parent_id"]) >= 0).sum() == (
        np.asarray(sync.cv_results_["parent_id"]) >= 0).sum()
