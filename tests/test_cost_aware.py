"""cost_aware=True of BayesSearchCV and GeneticSearchCV (skhpo._cost)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from skhpo import BayesSearchCV, GeneticSearchCV, Real, Space
from skhpo._cost import cooling_exponent, cost_cooled, log_fit_times
from skhpo._genetic import GeneticStrategy
from skhpo.bayes._strategy import AsyncBayesStrategy, BayesStrategy

# the score does not depend on "cost": cheap and expensive regions hold equally
# good candidates, so a cost-aware search can reach the optimum for less
SPACE = {"cost": Real(0, 1), "a": Real(0, 1), "b": Real(0, 1)}
X_DUMMY = np.zeros((8, 1))


def score_of(params):
    return -((params["a"] - 0.3) ** 2 + (params["b"] - 0.6) ** 2)


def fit_time_of(params):
    return float(np.exp(4 * params["cost"]))  # 1 to 55 "seconds"


def drive(strategy):
    """Ask/tell until the end, telling the deterministic fit time of each trial;
    returns the summed fit time and the best score."""
    fit_times, scores = [], []
    while trials := strategy.ask():
        for trial in trials:
            fit_times.append(fit_time_of(trial.params))
            scores.append(score_of(trial.params))
            strategy.tell_fit_time(trial.id, fit_times[-1])
            strategy.tell(trial.id, scores[-1])
    return float(np.sum(fit_times)), float(np.max(scores))


def make_bayes(seed, cost_aware, asynchronous=False):
    strategy = AsyncBayesStrategy if asynchronous else BayesStrategy
    return strategy(Space(SPACE), np.random.RandomState(seed), n_iter=30,
                    n_initial_points=8, n_points=2, cost_aware=cost_aware)


def make_genetic(seed, cost_aware):
    return GeneticStrategy(Space(SPACE), np.random.RandomState(seed), population_size=5,
                           n_generations=8, crossover_probability=0.8,
                           mutation_probability=0.2, tournament_size=3, elitism=1,
                           cost_aware=cost_aware)


@pytest.mark.parametrize(
    "n_told, n_initial, budget, expected",
    [(8, 8, 30, 1.0), (19, 8, 30, 0.5), (30, 8, 30, 0.0), (3, 8, 30, 1.0), (40, 8, 30, 0.0),
     (5, 10, 10, 0.0)],
)
def test_cooling_exponent(n_told, n_initial, budget, expected):
    assert cooling_exponent(n_told, n_initial, budget) == pytest.approx(expected)


def test_cost_cooled_is_value_per_cost_to_the_alpha():
    value, cost = np.array([0.2, 0.5]), np.array([4.0, 0.25])
    for alpha in (0.0, 0.5, 1.0):
        cooled = cost_cooled(np.log(value), np.log(cost), alpha)
        np.testing.assert_allclose(np.exp(cooled), value / cost**alpha)


def test_log_fit_times_floors_zero_and_imputes_missing():
    logs = log_fit_times(np.array([0.0, np.e, np.nan, 1.0]))
    assert logs[0] == pytest.approx(np.log(1e-6))
    assert logs[1] == pytest.approx(1.0) and logs[3] == pytest.approx(0.0)
    assert logs[2] == pytest.approx(np.mean(logs[[0, 1, 3]]))
    np.testing.assert_array_equal(log_fit_times(np.array([np.nan, np.nan])), [0.0, 0.0])


@pytest.mark.parametrize("asynchronous", [False, True])
def test_bayes_spends_less_for_the_same_optimum(asynchronous):
    # a single seed's cost varies a lot with the path taken; summed over seeds,
    # ignoring the cost (alpha = 0) gives ratios of 0.67 and 0.80, EI-cool 0.44
    runs = {flag: [drive(make_bayes(seed, flag, asynchronous)) for seed in range(6)]
            for flag in (False, True)}
    default_cost = sum(cost for cost, _ in runs[False])
    cost = sum(cost for cost, _ in runs[True])
    assert cost < 0.55 * default_cost
    assert min(best for _, best in runs[True]) > -1e-3
    assert min(best for _, best in runs[False]) > -1e-3


def test_genetic_spends_less_for_the_same_optimum():
    # one seed can go either way (the search distribution follows the scores
    # only); over several the cheaper children add up
    runs = {flag: [drive(make_genetic(seed, flag)) for seed in range(4)]
            for flag in (False, True)}
    default_cost = sum(cost for cost, _ in runs[False])
    cost = sum(cost for cost, _ in runs[True])
    assert cost < 0.5 * default_cost
    assert np.median([best for _, best in runs[True]]) > -1e-3


def test_strategies_ignore_fit_time_without_cost_aware():
    told = make_bayes(0, False)
    while trials := told.ask():
        for trial in trials:
            told.tell_fit_time(trial.id, 1e3 * np.random.RandomState(trial.id).uniform())
            told.tell(trial.id, score_of(trial.params))
    reference = make_bayes(0, False)
    drive(reference)
    np.testing.assert_array_equal(told.X_, reference.X_)


class SleepyOracle(BaseEstimator):
    """Fit sleeps ``SLEEP_PER_COST * exp(4 cost)`` seconds; the score ignores ``cost``."""

    SLEEP_PER_COST = 0.002

    def __init__(self, cost=0.0, a=0.0, b=0.0):
        self.cost, self.a, self.b = cost, a, b

    def fit(self, X, y=None):
        time.sleep(self.SLEEP_PER_COST * fit_time_of(self.get_params()))
        return self

    def score(self, X, y=None):
        return score_of(self.get_params())


@pytest.mark.parametrize("searcher, budget", [
    (BayesSearchCV, {"n_iter": 20, "n_initial_points": 6, "n_points": 2}),
    (GeneticSearchCV, {"population_size": 5, "n_generations": 5}),
])
@pytest.mark.parametrize("asynchronous", [False, True])
def test_searchers_tell_the_measured_fit_times(searcher, budget, asynchronous):
    search = searcher(SleepyOracle(), SPACE, cv=2, random_state=0, refit=False,
                      cost_aware=True, asynchronous=asynchronous, **budget).fit(X_DUMMY)
    told = (search.optimizer_.fit_time_ if searcher is BayesSearchCV
            else search.optimizer_._archive_fit_times)
    np.testing.assert_allclose(told, search.cv_results_["mean_fit_time"])
    slept = SleepyOracle.SLEEP_PER_COST * np.array(
        [fit_time_of(p) for p in search.cv_results_["params"]])
    assert np.all(told >= slept)


@pytest.mark.parametrize("searcher", [BayesSearchCV, GeneticSearchCV])
def test_cost_aware_must_be_a_bool(searcher):
    with pytest.raises(ValueError, match="The 'cost_aware' parameter of "
                                         f"{searcher.__name__} must be an instance of"):
        searcher(SleepyOracle(), SPACE, cv=2, cost_aware="yes").fit(X_DUMMY)


def test_cost_aware_bayes_needs_an_improvement_acquisition():
    search = BayesSearchCV(SleepyOracle(), SPACE, cv=2, acquisition="lcb", cost_aware=True)
    with pytest.raises(ValueError, match="cost_aware=True divides the expected or probable "
                                         "improvement by the predicted fit time, which "
                                         "acquisition='lcb' does not have; use"):
        search.fit(X_DUMMY)


@pytest.mark.parametrize("acquisition", ["ei", "pi"])
def test_cost_cooled_acquisition_gradient_matches_finite_differences(acquisition):
    strategy = BayesStrategy(Space(SPACE), np.random.RandomState(0), n_iter=30,
                             n_initial_points=8, n_points=2, acquisition=acquisition,
                             cost_aware=True)
    for _ in range(5):  # the initial design and a few proposals
        trials = strategy.ask()
        for trial in trials:
            strategy.tell_fit_time(trial.id, fit_time_of(trial.params))
            strategy.tell(trial.id, score_of(trial.params))
    gp, best = strategy._surrogate()
    strategy._cost_model = strategy._cost_surrogate()
    assert strategy._cost_model[3] > 0  # the cost term is active
    points = np.random.RandomState(1).uniform(0.1, 0.9, size=(4, 3))
    value, gradient = strategy._acquire_with_gradient(gp, best, points)
    np.testing.assert_allclose(value, strategy._acquire(gp, best, points))
    step = 1e-6
    for j in range(3):
        shifted = points.copy()
        shifted[:, j] += step
        numeric = (strategy._acquire(gp, best, shifted) - value) / step
        np.testing.assert_allclose(gradient[:, j], numeric, rtol=1e-3, atol=1e-4)
