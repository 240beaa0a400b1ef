"""BayesSearchCV: contract, GP/acquisition math, finite grids, oracle optimum."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from skhpo import BayesSearchCV, Categorical, Integer, Real, Space
from skhpo.bayes._acquisition import log_h
from skhpo.bayes._strategy import BayesStrategy
from skhpo.testing import SearchCVContract
from conftest import tell_scores


class TestBayesContract(SearchCVContract):
    search_cls = BayesSearchCV
    search_kwargs = {"n_iter": 4, "n_points": 2, "n_initial_points": 2}


class Oracle(BaseEstimator):
    """Score is minus a known function of the params; fitting does nothing."""

    def __init__(self, x=1.0, y=0.0, kind="a"):
        self.x, self.y, self.kind = x, y, kind

    def fit(self, X, y=None):
        return self

    def score(self, X, y=None):
        offset = {"a": 0.0, "b": 0.5, "c": 1.0}[self.kind]
        return -((np.log10(self.x) + 2) ** 2 + (self.y - 3) ** 2 + offset)


X_DUMMY = np.zeros((8, 1))


def run(strategy, objective, max_rounds=100):
    for _ in range(max_rounds):
        trials = strategy.ask()
        if not trials:
            break
        tell_scores(strategy, trials, np.array([objective(t.params) for t in trials]))
    return strategy


# PI is greedy (it ignores how large an improvement is): a looser tolerance
@pytest.mark.parametrize("acquisition, tolerance", [("ei", 0.3), ("pi", 0.6), ("lcb", 0.3)])
def test_oracle_optimum_found(acquisition, tolerance):
    space = {"x": Real(1e-4, 1e0, prior="log-uniform"), "y": Integer(0, 10),
             "kind": Categorical(["a", "b", "c"])}
    search = BayesSearchCV(Oracle(), space, n_iter=30, n_points=2, cv=2,
                           acquisition=acquisition, random_state=0).fit(X_DUMMY)
    best = search.best_params_
    assert best["kind"] == "a" and best["y"] == 3
    assert abs(np.log10(best["x"]) + 2) < tolerance
    assert search.best_score_ > -tolerance**2


def test_strategy_beats_its_initial_design_without_fitting():
    space = Space({"a": Real(-5, 10), "b": Real(0, 15)})

    def branin(p):
        a, b = p["a"], p["b"]
        return -((b - 5.1 / (4 * np.pi**2) * a**2 + 5 / np.pi * a - 6) ** 2
                 + 10 * (1 - 1 / (8 * np.pi)) * np.cos(a) + 10)

    strategy = run(BayesStrategy(space, np.random.RandomState(0), n_iter=30,
                                 n_initial_points=8, n_points=1), branin)
    assert len(strategy.y_) == 30
    assert strategy.y_[8:].max() > strategy.y_[:8].max()
    assert -strategy.y_.max() - 0.397887 < 0.1  # regret


def test_finite_grid_evaluated_exactly_once_when_budget_covers_it():
    space = {"x": [0.1, 0.01, 0.001], "y": [1, 3], "kind": "a"}
    search = BayesSearchCV(Oracle(), space, n_iter=50, cv=2, random_state=0).fit(X_DUMMY)
    params = search.cv_results_["params"]
    assert len(params) == 6
    assert {(p["x"], p["y"]) for p in params} == {(x, y) for x in [0.1, 0.01, 0.001] for y in [1, 3]}


def test_finite_space_never_reproposes():
    space = Space({"y": Integer(0, 9), "kind": Categorical(["a", "b"])})
    strategy = BayesStrategy(space, np.random.RandomState(1), n_iter=15,
                             n_initial_points=4, n_points=3)
    seen = []
    run(strategy, lambda p: -abs(p["y"] - 4) - (p["kind"] == "b"))
    for trial_params in space.from_unit(strategy.X_):
        seen.append((trial_params["y"], trial_params["kind"]))
    assert len(seen) == 15 == len(set(seen))


def test_failed_candidates_do_not_poison_the_model():
    space = Space({"a": Real(0, 1)})
    strategy = BayesStrategy(space, np.random.RandomState(0), n_iter=20,
                             n_initial_points=5, n_points=2)
    run(strategy, lambda p: np.nan if p["a"] > 0.7 else -(p["a"] - 0.3) ** 2)
    assert np.isfinite(strategy.y_).sum() >= 10
    assert abs(space.from_unit(strategy.X_[np.nanargmax(strategy.y_)][None])[0]["a"] - 0.3) < 0.05


def test_results_depend_on_n_points_not_n_jobs():
    space = {"x": Real(1e-4, 1e0, prior="log-uniform"), "y": Integer(0, 10)}
    runs = [BayesSearchCV(Oracle(), space, n_iter=8, n_points=3, n_initial_points=3,
                          cv=2, n_jobs=n_jobs, random_state=0).fit(X_DUMMY)
            for n_jobs in (1, 2)]
    assert runs[0].cv_results_["params"] == runs[1].cv_results_["params"]


def test_batches_have_n_points_and_iteration_column():
    space = {"x": Real(1e-4, 1e0, prior="log-uniform")}
    search = BayesSearchCV(Oracle(), space, n_iter=7, n_points=3, n_initial_points=3,
                           cv=2, random_state=0).fit(X_DUMMY)
    np.testing.assert_array_equal(search.cv_results_["iteration"], [0, 0, 0, 1, 1, 1, 2])
    assert search.n_iterations_ == 3
    assert search.optimizer_.X_.shape == (7, 1)
    assert search.optimizer_.surrogate_ is not None


def test_union_of_subspaces():
    space = [{"kind": ["a"], "x": Real(1e-3, 1e0, prior="log-uniform")},
             {"kind": ["c"], "y": Integer(0, 10)}]
    search = BayesSearchCV(Oracle(), space, n_iter=12, n_points=2, cv=2,
                           random_state=0).fit(X_DUMMY)
    for params in search.cv_results_["params"]:
        assert set(params) in ({"kind", "x"}, {"kind", "y"})
    # subspace "c" scores -(2**2 + (y - 3)**2 + 1): best -5 at y=3, above "a"'s -9
    assert search.best_params_ == {"kind": "c", "y": 3}


@pytest.mark.parametrize("z", [-1e10, -1e4, -40.0, -5.0, -1.0, 0.0, 3.0, 30.0])
def test_log_h_is_finite_and_accurate(z):
    value = log_h(np.array([z]))[0]
    assert np.isfinite(value)
    if z > -30:
        from scipy.stats import norm

        expected = np.log(z * norm.cdf(z) + norm.pdf(z))
        assert value == pytest.approx(expected, rel=1e-6)


def test_log_h_monotone():
    z = np.linspace(-60, 10, 500)
    assert np.all(np.diff(log_h(z)) > 0)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_iter": 0}, "The 'n_iter' parameter of BayesSearchCV must be"),
        ({"acquisition": "ucb"}, "The 'acquisition' parameter of BayesSearchCV must be"),
        ({"n_initial_points": 0}, "The 'n_initial_points' parameter"),
        ({"n_points": 0}, "The 'n_points' parameter"),
        ({"max_time": -1}, "The 'max_time' parameter"),
        ({"callbacks": "stop"}, "The 'callbacks' parameter"),
    ],
)
def test_bad_parameters(params, match):
    search = BayesSearchCV(Oracle(), {"x": Real(1e-3, 1.0)}, cv=2, **params)
    with pytest.raises(ValueError, match=match):
        search.fit(X_DUMMY)


def test_default_n_points_does_not_depend_on_n_jobs():
    space = {"x": Real(1e-4, 1e0, prior="log-uniform"), "y": Integer(0, 10)}
    runs = [BayesSearchCV(Oracle(), space, n_iter=9, n_initial_points=1, cv=2,
                          n_jobs=n_jobs, random_state=0).fit(X_DUMMY)
            for n_jobs in (1, 2)]
    assert runs[0].cv_results_["params"] == runs[1].cv_results_["params"]
    for search in runs:
        assert search.optimizer_.n_points == 4
        # one initial point, then the GP proposes batches of 4
        np.testing.assert_array_equal(search.cv_results_["iteration"], [0] + [1] * 4 + [2] * 4)
