"""GridSearchCV and RandomizedSearchCV inputs, end to end through every searcher.

Each test runs the four searchers (the ``make_search`` fixture of conftest.py)
on grids written as GridSearchCV users write them, and uses GridSearchCV itself
as the oracle where the two must agree.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Perceptron, SGDClassifier
from sklearn.model_selection import GridSearchCV, ParameterGrid
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skhpo import BayesSearchCV, GeneticSearchCV, HyperbandSearchCV, Real
from skhpo._base import check_parameter_names
from skhpo.exceptions import SearchSpaceError
from skhpo.space import Space

X, y = load_iris(return_X_y=True)
# the candidates of a finite space are evaluated once each by these two
EXHAUSTIVE = (BayesSearchCV, GeneticSearchCV)


def sgd():
    return SGDClassifier(random_state=0)


def sgd_pipeline():
    return Pipeline([("scale", StandardScaler()), ("clf", sgd())])


def _never_called(X):
    raise AssertionError("a model was fitted although search_spaces is invalid")


def pipeline_that_must_not_fit():
    """A Pipeline whose first step fails as soon as anything is fitted."""
    return Pipeline([("guard", FunctionTransformer(_never_called)), ("clf", sgd())])


def key(params: dict) -> str:
    """A candidate's identity, whatever the order of its names (NumPy scalars, which
    GridSearchCV takes from arrays, as Python scalars)."""
    return repr(sorted((k, v.item() if isinstance(v, np.generic) else v)
                       for k, v in params.items()))


def grid_search_scores(estimator, param_grid) -> dict[str, float]:
    """GridSearchCV's mean test score of every candidate, by :func:`key`."""
    search = GridSearchCV(estimator, param_grid, cv=3).fit(X, y)
    return {key(p): s for p, s in zip(search.cv_results_["params"],
                                      search.cv_results_["mean_test_score"])}


# -- one-point grids --------------------------------------------------------------


@pytest.mark.parametrize(
    "estimator, search_spaces, candidate",
    [
        (sgd(), {"alpha": [1e-3]}, {"alpha": 1e-3}),
        (sgd(), {"alpha": 1e-3, "penalty": "l1"}, {"alpha": 1e-3, "penalty": "l1"}),
        (sgd(), {"alpha": (1e-3,), "penalty": ["l1"], "average": range(1, 2)},
         {"alpha": 1e-3, "penalty": "l1", "average": 1}),
        (sgd_pipeline(), {"clf__alpha": [1e-3]}, {"clf__alpha": 1e-3}),
    ],
    ids=["one-value-list", "all-fixed", "one-value-sequences", "pipeline"],
)
def test_one_point_grid_evaluates_its_candidate(make_search, estimator, search_spaces,
                                                 candidate):
    search = make_search(estimator, search_spaces).fit(X, y)
    results = search.cv_results_
    assert all(params == candidate for params in results["params"])
    assert search.best_params_ == candidate
    fitted = search.best_estimator_.get_params()
    assert all(fitted[name] == value for name, value in candidate.items())
    if make_search.searcher in EXHAUSTIVE:  # once, scored as GridSearchCV scores it
        oracle = grid_search_scores(estimator, {k: [v] for k, v in candidate.items()})
        assert len(results["params"]) == 1
        assert results["mean_test_score"][0] == oracle[key(candidate)]
    elif make_search.searcher is HyperbandSearchCV:  # one candidate on every rung
        assert search.n_resources_ == [[1, 3], [3]]
        assert search.n_candidates_ == [[1, 1], [1]]
    else:  # every member of the population trains the one configuration
        assert len(results["params"]) == 3 * 2
    assert np.isfinite(results["mean_test_score"]).all()


def test_union_of_one_point_grids(make_search):
    grid = [{"alpha": [1e-3]}, {"alpha": [1e-1], "penalty": ["l1"]}]
    search = make_search(sgd(), grid).fit(X, y)
    seen = {key(p) for p in search.cv_results_["params"]}
    assert seen == {key(p) for p in ParameterGrid(grid)}
    if make_search.searcher in EXHAUSTIVE:
        assert len(search.cv_results_["params"]) == 2
        oracle = grid_search_scores(sgd(), grid)
        for params, score in zip(search.cv_results_["params"],
                                 search.cv_results_["mean_test_score"]):
            assert score == oracle[key(params)]


# -- sequences are candidate lists -----------------------------------------------


GRID = {"alpha": np.array([1e-4, 1e-2]), "penalty": ("l2", "l1"), "average": range(1, 3)}


def test_tuples_ranges_and_arrays_are_candidate_lists(make_search):
    search = make_search(sgd(), GRID).fit(X, y)
    rows = search.cv_results_["params"]
    candidates = {key(p) for p in ParameterGrid(GRID)}
    assert {key(p) for p in rows} <= candidates
    if make_search.searcher in EXHAUSTIVE:
        # every point once (Genetic may stop before it has seen all 8)
        assert len({key(p) for p in rows}) == len(rows)
        if make_search.searcher is BayesSearchCV:
            assert len(rows) == len(candidates) == 8
        oracle = grid_search_scores(sgd(), GRID)
        for params, score in zip(rows, search.cv_results_["mean_test_score"]):
            assert score == oracle[key(params)]
    elif make_search.searcher is HyperbandSearchCV:
        # a finite space gives each bracket distinct candidates
        first_rungs = [
            [key(p) for p, b, i in zip(rows, search.cv_results_["bracket"],
                                        search.cv_results_["iter"]) if (b, i) == (bracket, 0)]
            for bracket in set(search.cv_results_["bracket"])
        ]
        assert all(len(set(rung)) == len(rung) for rung in first_rungs)
    assert search.best_params_["penalty"] in GRID["penalty"]


@pytest.mark.parametrize(
    "hidden_layer_sizes, expected",
    [([(4,), (3, 2)], [(4,), (3, 2)]), ((4, 5), [4, 5])],
    ids=["list-of-tuples", "tuple-of-ints"],
)
def test_tuple_values_follow_grid_search(make_search, hidden_layer_sizes, expected):
    grid = {"hidden_layer_sizes": hidden_layer_sizes}
    assert [p["hidden_layer_sizes"] for p in ParameterGrid(grid)] == expected
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = make_search(MLPClassifier(max_iter=5, random_state=0), grid).fit(X, y)
    values = [p["hidden_layer_sizes"] for p in search.cv_results_["params"]]
    assert all(any(v == e and type(v) is type(e) for e in expected) for v in values)
    best = search.best_params_["hidden_layer_sizes"]
    layers = best if isinstance(best, tuple) else (best,)
    assert [w.shape[1] for w in search.best_estimator_.coefs_[:-1]] == list(layers)


# -- estimators as candidate values ------------------------------------------------


def _estimator_grid(kind):
    """(estimator, name, the user's objects, grid, fitted model of a search)."""
    users = [SGDClassifier(random_state=0), Perceptron(random_state=0)]
    if kind == "pipeline":
        return (sgd_pipeline(), "clf", users, {"clf": users, "clf__alpha": [1e-4, 1e-2]},
                lambda search: search.best_estimator_.named_steps["clf"])
    return (OneVsRestClassifier(sgd()), "estimator", users,
            {"estimator": users, "estimator__alpha": [1e-4, 1e-2]},
            lambda search: search.best_estimator_.estimators_[0])


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("kind", ["pipeline", "meta-estimator"])
def test_estimator_values_are_cloned_never_changed(make_search, kind, n_jobs):
    estimator, name, users, grid, fitted_model = _estimator_grid(kind)
    before = [u.get_params() for u in users]

    first = make_search(estimator, grid, n_jobs=n_jobs).fit(X, y)

    assert [u.get_params() for u in users] == before
    assert not any(hasattr(u, "coef_") for u in users)
    # as GridSearchCV keeps them: the very objects the user gave
    assert all(any(p[name] is u for u in users) for p in first.cv_results_["params"])
    assert any(first.best_params_[name] is u for u in users)
    set_model = first.best_estimator_.get_params()[name]
    model = fitted_model(first)
    assert all(set_model is not u and model is not u for u in users)
    assert type(model) is type(first.best_params_[name])
    assert model.alpha == first.best_params_[f"{name}__alpha"]
    first_state = (model.get_params(), model.coef_.copy())

    second = make_search(estimator, grid, n_jobs=n_jobs, random_state=1).fit(X, y)

    assert fitted_model(second) is not model and fitted_model(first) is model
    assert model.get_params() == first_state[0]
    np.testing.assert_array_equal(model.coef_, first_state[1])
    assert [u.get_params() for u in users] == before


def test_grid_search_keeps_the_users_objects_in_its_results():
    """The behaviour the test above asks of every searcher."""
    estimator, name, users, grid, _ = _estimator_grid("pipeline")
    before = [u.get_params() for u in users]
    search = GridSearchCV(estimator, grid, cv=3).fit(X, y)
    assert all(any(p[name] is u for u in users) for p in search.cv_results_["params"])
    assert all(search.best_estimator_.get_params()[name] is not u for u in users)
    assert [u.get_params() for u in users] == before


# -- bad input fails before any fit, naming the key --------------------------------


def _changed_dimension():
    dim = Real(1e-4, 1e-1)
    dim.low = -np.inf
    return dim


@pytest.mark.parametrize(
    "search_spaces, match",
    [
        ({"sgd__alpha": [1e-4, 1e-3]},
         r"^search_spaces\['sgd__alpha'\]: search_spaces names a parameter that Pipeline "
         r"does not have; check the name against Pipeline.get_params\(deep=True\). "
         r"scikit-learn says: Invalid parameter 'sgd'"),
        ({"clf__nonexistent": [1, 2]},
         r"^search_spaces\['clf__nonexistent'\]: .*Invalid parameter 'nonexistent'"),
        ({"nonexistent": 1}, r"^search_spaces\['nonexistent'\]: search_spaces names"),
        ({"clf": [SGDClassifier(), Perceptron()], "clf__kernel": ["rbf", "linear"]},
         r"^search_spaces\['clf__kernel'\]: search_spaces names a parameter that Pipeline "
         r"does not have with any value of \['clf'\]"),
        ([{"clf__alpha": [1e-4]}, {"clf__alpah": [1e-3]}],
         r"^search_spaces\[1\]\['clf__alpah'\]: "),
        ({"clf__alpha": stats.uniform(0, np.inf)},
         r"^search_spaces\['clf__alpha'\]: scipy.stats.uniform.*bounds must be finite"),
        ({"clf__alpha": stats.norm(0, -1)},
         r"^search_spaces\['clf__alpha'\]: ScipyDimension\(norm.*not all finite"),
        ({"clf__max_iter": stats.randint(1, 10**19)},
         r"^search_spaces\['clf__max_iter'\]: .*bounds must lie within \[-2\*\*53, 2\*\*53\]"),
        ({"clf__alpha": _changed_dimension()},
         r"^search_spaces\['clf__alpha'\]: Real\(low=-inf, high=0.1\): bounds must be finite"),
        ({"clf__alpha": []},
         r"^search_spaces\['clf__alpha'\]: \[\] is an empty list of candidates"),
    ],
    ids=["unknown-step", "unknown-nested", "unknown-fixed", "unknown-for-every-category",
         "union", "infinite-uniform", "invalid-norm", "randint-overflow",
         "changed-dimension", "empty"],
)
def test_bad_search_spaces_fail_before_any_fit_naming_the_key(make_search, search_spaces,
                                                               match):
    search = make_search(pipeline_that_must_not_fit(), search_spaces)
    with pytest.raises(SearchSpaceError, match=match):
        search.fit(X, y)


@pytest.mark.parametrize(
    "search_spaces",
    [
        {"clf": [SGDClassifier(), Perceptron()], "clf__loss": ["hinge", "log_loss"]},
        {"clf": [Perceptron(), SGDClassifier()], "clf__loss": "hinge"},
        {"clf__estimator": [sgd()], "clf": [OneVsRestClassifier(sgd())],
         "clf__estimator__alpha": [1e-4, 1e-3]},
    ],
    ids=["one-category-has-it", "fixed-value", "two-levels"],
)
def test_a_nested_name_one_candidate_has_is_accepted(search_spaces):
    """As GridSearchCV would fit it; the other combinations fail at fit time."""
    users = [v for value in search_spaces.values() if isinstance(value, list)
             for v in value if hasattr(v, "get_params")]
    before = [u.get_params() for u in users]
    check_parameter_names(sgd_pipeline(), Space(search_spaces))
    assert [u.get_params() for u in users] == before


# -- RandomizedSearchCV distributions -----------------------------------------------


DISTRIBUTIONS = {
    "alpha": stats.loguniform(1e-5, 1e-1),
    "l1_ratio": stats.uniform(0, 1),
    "n_iter_no_change": stats.randint(3, 6),
    "eta0": stats.expon(scale=0.1),  # unbounded above: sampled through its PPF
    "tol": stats.norm(1e-3, 1e-4),  # unbounded: the tails at 1e-12 stay positive
    "penalty": ["l2", "elasticnet"],
}


def test_scipy_distributions_give_finite_values_in_their_support(make_search):
    search = make_search(sgd(), DISTRIBUTIONS).fit(X, y)
    for params in search.cv_results_["params"]:
        for name, distribution in DISTRIBUTIONS.items():
            value = params[name]
            if isinstance(distribution, list):
                assert value in distribution
                continue
            low, high = distribution.support()
            assert np.isfinite(value) and low <= value <= high
        assert isinstance(params["n_iter_no_change"], int)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
