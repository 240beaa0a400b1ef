"""scikit-learn's own GridSearchCV tests, run against every skhpo searcher.

The source of ``sklearn/model_selection/tests/test_search.py`` is read from the
installed scikit-learn and executed, unchanged, once per searcher in a fresh
module where ``from sklearn.model_selection import GridSearchCV,
RandomizedSearchCV`` yields adapters: subclasses of the skhpo searcher that take
GridSearchCV's (``param_grid``) or RandomizedSearchCV's (``param_distributions``,
``n_iter``, ``random_state``) signature and give the searcher a budget that
covers a small grid. Every ``test_*`` function of that module is re-exported
here under ``test_<searcher>__<name>``, so pytest collects it natively with its
own ``parametrize`` marks and fixtures.

Parametrized cases that run scikit-learn's Halving searches are dropped (they
test scikit-learn's classes, not ours). A test that cannot apply to a searcher
is listed in ``NOT_APPLICABLE`` (or, for one parametrized case,
``CASE_NOT_APPLICABLE``) with its reason.
"""

from __future__ import annotations

import builtins
import inspect
import math
import os
import sys
import types

import cloudpickle
import numpy as np
import pytest
import sklearn
from sklearn.model_selection import ParameterGrid

from skhpo import BayesSearchCV, GeneticSearchCV, HyperbandSearchCV, PBTSearchCV
from skhpo._incremental import has_partial_fit

SOURCE_PATH = os.path.join(
    os.path.dirname(sklearn.__file__), "model_selection", "tests", "test_search.py"
)
DEFAULT_GRID_BUDGET = 10  # RandomizedSearchCV's n_iter; used when a grid is not finite


def _grid_size(param_grid) -> int | None:
    """Number of points of a GridSearchCV grid, or None if it is not one."""
    try:
        return len(ParameterGrid(param_grid))
    except (TypeError, ValueError):
        return None


def _search_spaces(self):
    return self.param_grid if hasattr(self, "param_grid") else self.param_distributions


# -- budgets: what each searcher gets for a grid or an n_iter ---------------------------


def _bayes_budget(search, n_candidates: int) -> dict:
    return {"n_iter": n_candidates}


def _genetic_budget(search, n_candidates: int) -> dict:
    """Exactly ``n_candidates`` on a continuous space; two generations when it can.

    ``p`` individuals then ``p - elitism`` children; on a finite space the search
    stops once every point was evaluated, so a grid of ``2p - elitism`` points or
    fewer is covered.
    """
    if n_candidates < 4:
        return {"population_size": max(n_candidates, 2), "n_generations": 1,
                "elitism": 0, "tournament_size": 1}
    population = math.ceil(n_candidates / 2)
    return {"population_size": population, "n_generations": 2,
            "elitism": 2 * population - n_candidates, "tournament_size": 2}


def _hyperband_budget(search, n_candidates: int) -> dict:
    """An iteration parameter that is not searched, else ``partial_fit`` epochs,
    else subsamples (the one resource that changes the training set)."""
    searched = {name for sub in _as_list(_search_spaces(search)) for name in sub}
    for name, value in search.estimator.get_params(deep=True).items():
        leaf = name.rpartition("__")[2]
        if (leaf in ("max_iter", "n_estimators") and name not in searched
                and isinstance(value, int) and value >= 9):
            return {"resource": name, "max_resources": value,
                    "min_resources": max(1, value // 9)}
    if has_partial_fit(search.estimator):
        return {"resource": "partial_fit", "max_resources": 9, "min_resources": 1}
    return {"resource": "n_samples", "max_resources": "auto", "min_resources": "auto"}


def _pbt_budget(search, n_candidates: int) -> dict:
    return {"population_size": max(n_candidates, 2), "max_resources": 2,
            "perturbation_interval": 1}


def _as_list(spaces):
    return spaces if isinstance(spaces, list) else [spaces]


SEARCHERS = {
    "bayes": (BayesSearchCV, _bayes_budget),
    "genetic": (GeneticSearchCV, _genetic_budget),
    "hyperband": (HyperbandSearchCV, _hyperband_budget),
    "pbt": (PBTSearchCV, _pbt_budget),
}


def _make_adapters(search_cls, budget):
    """GridSearchCV- and RandomizedSearchCV-shaped subclasses of ``search_cls``.

    They store their own constructor arguments (so ``get_params``, ``clone`` and
    ``set_params`` see GridSearchCV's names) and expose the searcher's own
    parameters as properties computed from them.
    """
    def read(name):
        def getter(self):
            if name in vars(self):  # set on a copy of the search (skhpo does)
                return vars(self)[name]
            params = self._searcher_params()
            if name in params:
                return params[name]
            return _SEARCHER_DEFAULTS[search_cls][name]

        def setter(self, value):
            vars(self)[name] = value

        return property(getter, setter)

    shared = {name: read(name) for name in _SEARCHER_DEFAULTS[search_cls]}
    shared["search_spaces"] = property(_search_spaces)

    class GridSearchCV(search_cls):
        _parameter_constraints = {**search_cls._parameter_constraints,
                                  "param_grid": [dict, list]}

        def __init__(self, estimator, param_grid, *, scoring=None, n_jobs=None,
                     refit=True, cv=None, verbose=0, pre_dispatch="2*n_jobs",
                     error_score=np.nan, return_train_score=False):
            self.estimator = estimator
            self.param_grid = param_grid
            self.scoring = scoring
            self.n_jobs = n_jobs
            self.refit = refit
            self.cv = cv
            self.verbose = verbose
            self.pre_dispatch = pre_dispatch
            self.error_score = error_score
            self.return_train_score = return_train_score

        random_state = 0  # a grid search is deterministic

        def _searcher_params(self):
            size = _grid_size(self.param_grid)
            return budget(self, size or DEFAULT_GRID_BUDGET)

    class RandomizedSearchCV(search_cls):
        _parameter_constraints = {**search_cls._parameter_constraints,
                                  "param_distributions": [dict, list]}

        def __init__(self, estimator, param_distributions, *, n_iter=10, scoring=None,
                     n_jobs=None, refit=True, cv=None, verbose=0,
                     pre_dispatch="2*n_jobs", random_state=None, error_score=np.nan,
                     return_train_score=False):
            self.estimator = estimator
            self.param_distributions = param_distributions
            self.n_iter = n_iter
            self.scoring = scoring
            self.n_jobs = n_jobs
            self.refit = refit
            self.cv = cv
            self.verbose = verbose
            self.pre_dispatch = pre_dispatch
            self.random_state = random_state
            self.error_score = error_score
            self.return_train_score = return_train_score

        def _searcher_params(self):
            return budget(self, self.n_iter)

    for cls in (GridSearchCV, RandomizedSearchCV):
        for name, prop in shared.items():
            if name not in cls.__init__.__code__.co_varnames:
                setattr(cls, name, prop)
        cls.__qualname__ = cls.__name__
    return GridSearchCV, RandomizedSearchCV


def _constructor_defaults(search_cls) -> dict:
    signature = inspect.signature(search_cls.__init__)
    return {
        name: p.default for name, p in signature.parameters.items()
        if p.default is not inspect.Parameter.empty
    }


# the searchers' own parameters, read by the adapters; random_state is the
# adapters' own (a constructor argument of RandomizedSearchCV, 0 for GridSearchCV)
_SEARCHER_DEFAULTS = {
    cls: {k: v for k, v in _constructor_defaults(cls).items() if k != "random_state"}
    for cls, _ in SEARCHERS.values()
}


# -- loading scikit-learn's module once per searcher -------------------------------------


def _load_sklearn_tests(key: str, search_cls, budget) -> types.ModuleType:
    """Execute scikit-learn's test_search.py with the adapters in place."""
    name = f"{__name__}_{key}"
    grid_cls, random_cls = _make_adapters(search_cls, budget)
    for cls in (grid_cls, random_cls):
        cls.__module__ = name  # the module's own GridSearchCV: pickles by reference

    def import_with_adapters(name, globals=None, locals=None, fromlist=(), level=0):
        module = builtins.__import__(name, globals, locals, fromlist, level)
        if name != "sklearn.model_selection" or not fromlist:
            return module
        proxy = types.ModuleType(name)
        # built at import time: sklearn.experimental adds the Halving names then
        proxy.__dict__.update(vars(module))
        for cls in (grid_cls, random_cls):
            setattr(proxy, cls.__name__, cls)
        proxy.__getattr__ = getattr(module, "__getattr__", None)
        return proxy

    module = types.ModuleType(name)
    module.__file__ = SOURCE_PATH
    module.__builtins__ = {**vars(builtins), "__import__": import_with_adapters}
    sys.modules[name] = module  # so that its classes pickle by reference...
    cloudpickle.register_pickle_by_value(module)  # ...and by value to loky workers
    with open(SOURCE_PATH, encoding="utf-8") as f:
        code = compile(f.read(), SOURCE_PATH, "exec")
    exec(code, vars(module))
    return module


def _is_halving(value) -> bool:
    values = value if isinstance(value, (tuple, list)) else (value,)
    return any(
        getattr(v, "__name__", type(v).__name__).startswith("Halving") for v in values
    )


def _without_halving_cases(func) -> None:
    """Drop the parametrized cases that run scikit-learn's Halving searches."""
    marks = []
    for mark in getattr(func, "pytestmark", []):
        if mark.name == "parametrize":
            argnames, argvalues = mark.args[0], mark.args[1]
            kept = [v for v in argvalues
                    if not _is_halving(getattr(v, "values", v))]
            mark = pytest.mark.parametrize(argnames, kept, **mark.kwargs).mark
        marks.append(mark)
    func.pytestmark = marks


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _uses_a_search(func, adapters) -> bool:
    """Whether a test builds one of the adapted searches (in its body or its cases)."""
    if _code_names(func.__code__) & {cls.__name__ for cls in adapters}:
        return True
    for mark in getattr(func, "pytestmark", []):
        if mark.name == "parametrize":
            for case in mark.args[1]:
                values = getattr(case, "values", case)
                values = values if isinstance(values, (tuple, list)) else (values,)
                if any(v in adapters or isinstance(v, adapters) for v in values):
                    return True
    return False


def _mark_cases(key: str, name: str, func) -> None:
    """Skip the parametrized cases listed in ``CASE_NOT_APPLICABLE``."""
    marks = []
    for mark in func.pytestmark:
        argname = mark.args[0] if mark.name == "parametrize" else None
        if argname is not None and "," not in argname:
            cases = []
            for value in mark.args[1]:
                reason = CASE_NOT_APPLICABLE.get((key, name, argname, type(value).__name__))
                if reason is None and getattr(type(value), "__hash__", None) is not None:
                    reason = CASE_NOT_APPLICABLE.get((key, name, argname, value))
                cases.append(value if reason is None
                             else pytest.param(value, marks=pytest.mark.skip(reason=reason)))
            mark = pytest.mark.parametrize(argname, cases, **mark.kwargs).mark
        marks.append(mark)
    func.pytestmark = marks


def _export(key: str, module: types.ModuleType) -> None:
    adapters = module.GridSearchCV, module.RandomizedSearchCV
    for name, func in list(vars(module).items()):
        if not (name.startswith("test_") and callable(func)):
            continue
        if not _uses_a_search(func, adapters):
            # tests of ParameterGrid, ParameterSampler, scikit-learn's BaseSearchCV...
            NOT_A_SEARCH_TEST.add(name)
            continue
        _without_halving_cases(func)
        _mark_cases(key, name, func)
        reason = NOT_APPLICABLE.get((key, name)) or NOT_APPLICABLE.get(("*", name))
        if reason is not None:
            func.pytestmark.append(pytest.mark.skip(reason=reason).mark)
        globals()[f"test_{key}__{name[len('test_'):]}"] = func


# scikit-learn's tests that build no GridSearchCV or RandomizedSearchCV (not run)
NOT_A_SEARCH_TEST: set[str] = set()

ORDER = "asserts GridSearchCV's candidate order (row i of cv_results_ is grid point i)"
EXTRA_COLUMNS = (
    "asserts the exact set of cv_results_ keys; skhpo adds documented columns "
    "(iteration; generation for Genetic; bracket, iter, n_resources for Hyperband)"
)
CUSTOM_RUN = (
    "compares cv_results_ key for key with scikit-learn's BaseSearchCV evaluating "
    "the grid in GridSearchCV's order, without skhpo's extra columns"
)
SCALAR_VALUE = (
    "expects GridSearchCV's TypeError for a scalar grid value; skhpo's search_spaces "
    "documents a scalar as a fixed value"
)
RANDOM_SEQUENCE = (
    "asserts the exact candidates RandomizedSearchCV's ParameterSampler draws for "
    "random_state=0"
)
ADAPTIVE = (
    "compares searches run with different scoring and assumes they evaluate the same "
    "candidates; an adaptive search chooses later candidates from the scores"
)
MORE_ROWS = (
    "expects index 2 to be out of range of a 2-point grid; Hyperband has one row per "
    "candidate and rung, so index 2 is a valid row"
)
TIE_TO_FIRST = (
    "asserts that a tie (foo_param 2 and 3 both score 1) goes to the grid's first "
    "point; ties go to the first evaluated candidate, and the order is not the grid's"
)
VERBOSE_COUNT = (
    "counts one verbose score line per fold of the one candidate; Hyperband "
    "evaluates it again on every rung (LinearSVC's max_iter is the resource)"
)
CALLBACK_COUNTS = (
    "counts callback hooks for exactly one evaluation per candidate and fold; "
    "Hyperband evaluates candidates again on every rung"
)
FEW_SAMPLES = (
    "the estimator has neither partial_fit nor an iteration parameter, and with the "
    "'n_samples' resource this data set leaves Hyperband a single candidate, so the "
    "asserted candidates and fit counts cannot appear"
)
SUBSAMPLES = (
    "compares scores with models fitted on whole training folds; the 'n_samples' "
    "resource trains lower rungs on subsamples"
)


def _no_partial_fit(*estimators: str) -> str:
    return (
        f"builds {' and '.join(estimators)}, without partial_fit; PBTSearchCV "
        "trains members only with partial_fit"
    )


# (searcher or "*", test name) -> why scikit-learn's test cannot apply
NOT_APPLICABLE: dict[tuple[str, str], str] = {
    ("*", "test_grid_search_bad_param_grid"): SCALAR_VALUE,
    ("*", "test_search_with_2d_array"): RANDOM_SEQUENCE,
    ("*", "test_grid_search_cv_results"): EXTRA_COLUMNS,
    ("*", "test_random_search_cv_results"): EXTRA_COLUMNS,
    ("*", "test_custom_run_search"): CUSTOM_RUN,
    ("genetic", "test_grid_search"): ORDER,
    ("genetic", "test_grid_search_cv_results_multimetric"): ADAPTIVE,
    ("genetic", "test_search_cv_results_rank_tie_breaking"): ORDER,
    ("genetic", "test_grid_search_correct_score_results"): ORDER,
    ("genetic", "test_grid_search_failing_classifier"): ORDER,
    ("genetic", "test_grid_search_cv_splits_consistency"): ORDER,
    ("genetic", "test_callable_multimetric_error_failing_clf"): ORDER,
    ("genetic", "test_search_cv_timing"): ORDER,
    ("genetic", "test_search_default_iid"): ORDER,
    ("genetic", "test_grid_search_when_param_grid_includes_range"): TIE_TO_FIRST,
    ("hyperband", "test_grid_search_when_param_grid_includes_range"): TIE_TO_FIRST,
    ("hyperband", "test_search_cv_verbose_3"): VERBOSE_COUNT,
    ("hyperband", "test_grid_search"): ORDER,
    ("hyperband", "test_grid_search_pipeline_steps"): ORDER,
    ("hyperband", "test_refit_callable"): ORDER,
    ("hyperband", "test_refit_callable_multi_metric"): ORDER,
    ("hyperband", "test_search_default_iid"): ORDER,
    ("hyperband", "test_random_search_cv_results_multimetric"): ADAPTIVE,
    ("hyperband", "test_search_cv_results_rank_tie_breaking"): ORDER,
    ("hyperband", "test_search_cv_results_none_param"): FEW_SAMPLES,
    ("hyperband", "test_search_cv_timing"): ORDER,
    ("hyperband", "test_grid_search_correct_score_results"): ORDER,
    ("hyperband", "test_grid_search_with_multioutput_data"): SUBSAMPLES,
    ("hyperband", "test_grid_search_failing_classifier"): FEW_SAMPLES,
    ("hyperband", "test_grid_search_classifier_all_fits_fail"): FEW_SAMPLES,
    ("hyperband", "test_callable_multimetric_error_failing_clf"): FEW_SAMPLES,
    ("hyperband", "test_callable_multimetric_clf_all_fits_fail"): FEW_SAMPLES,
    ("hyperband", "test_grid_search_cv_splits_consistency"): ORDER,
    ("hyperband", "test_search_callbacks_no_propagation"): CALLBACK_COUNTS,
    ("hyperband", "test_search_callbacks_propagation"): CALLBACK_COUNTS,
    ("hyperband", "test_search_callbacks_with_partial_fit_failures"): CALLBACK_COUNTS,
    ("pbt", "test_SearchCV_with_fit_params"): _no_partial_fit("CheckingClassifier"),
    ("pbt", "test_X_as_list"): _no_partial_fit("CheckingClassifier"),
    ("pbt", "test_callable_multimetric_clf_all_fits_fail"): _no_partial_fit("FailingClassifier"),
    ("pbt", "test_callable_multimetric_confusion_matrix"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_callable_multimetric_error_failing_clf"): _no_partial_fit("FailingClassifier"),
    ("pbt", "test_callable_multimetric_error_on_invalid_key"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_callable_multimetric_same_as_list_of_strings"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_callable_single_metric_same_as_single_string"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_classes__property"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_custom_run_search"): _no_partial_fit("DecisionTreeRegressor"),
    ("pbt", "test_cv_results_dtype_issue_29074"): _no_partial_fit("MetaEstimator"),
    ("pbt", "test_cv_results_multi_size_array"): _no_partial_fit("a Pipeline ending in LogisticRegression"),
    ("pbt", "test_empty_cv_iterator_error"): _no_partial_fit("Ridge"),
    ("pbt", "test_grid_search"): _no_partial_fit("MockClassifier"),
    ("pbt", "test_grid_search_allows_nans"): _no_partial_fit("a Pipeline ending in MockClassifier"),
    ("pbt", "test_grid_search_bad_param_grid"): _no_partial_fit("SVC"),
    ("pbt", "test_grid_search_classifier_all_fits_fail"): _no_partial_fit("FailingClassifier"),
    ("pbt", "test_grid_search_correct_score_results"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_grid_search_cv_results"): _no_partial_fit("SVC"),
    ("pbt", "test_grid_search_cv_results_multimetric"): _no_partial_fit("SVC"),
    ("pbt", "test_grid_search_cv_splits_consistency"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_grid_search_error"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_grid_search_failing_classifier"): _no_partial_fit("FailingClassifier"),
    ("pbt", "test_grid_search_failing_classifier_raise"): _no_partial_fit("FailingClassifier"),
    ("pbt", "test_grid_search_groups"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_grid_search_no_score"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_grid_search_one_grid_point"): _no_partial_fit("SVC"),
    ("pbt", "test_grid_search_pipeline_steps"): _no_partial_fit("a Pipeline ending in LinearRegression or Ridge"),
    ("pbt", "test_grid_search_precomputed_kernel"): _no_partial_fit("SVC"),
    ("pbt", "test_grid_search_precomputed_kernel_error_nonsquare"): _no_partial_fit("SVC"),
    ("pbt", "test_grid_search_score_method"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_grid_search_sparse"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_grid_search_sparse_scoring"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_grid_search_when_param_grid_includes_range"): _no_partial_fit("MockClassifier"),
    ("pbt", "test_grid_search_with_multioutput_data"): _no_partial_fit("DecisionTreeRegressor"),
    ("pbt", "test_gridsearch_nd"): _no_partial_fit("CheckingClassifier"),
    ("pbt", "test_gridsearch_no_predict"): _no_partial_fit("KernelDensity"),
    ("pbt", "test_multi_metric_search_forwards_metadata"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_score_rejects_params_with_no_routing_enabled"): _no_partial_fit(
        "LinearSVC"),
    ("pbt", "test_inverse_transform_Xt_deprecation"): _no_partial_fit("MockClassifier"),
    ("pbt", "test_n_features_in"): _no_partial_fit("HistGradientBoostingClassifier"),
    ("pbt", "test_no_refit"): _no_partial_fit("MockClassifier"),
    ("pbt", "test_pandas_input"): _no_partial_fit("CheckingClassifier"),
    ("pbt", "test_pickle"): _no_partial_fit("MockClassifier"),
    ("pbt", "test_predict_proba_disabled"): _no_partial_fit("SVC"),
    ("pbt", "test_random_search_bad_cv"): _no_partial_fit("Ridge"),
    ("pbt", "test_random_search_cv_results"): _no_partial_fit("SVC"),
    ("pbt", "test_random_search_cv_results_multimetric"): _no_partial_fit("LogisticRegression"),
    ("pbt", "test_refit"): _no_partial_fit("BrokenClassifier"),
    ("pbt", "test_refit_callable"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_refit_callable_invalid_type"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_refit_callable_multi_metric"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_refit_callable_out_bound"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_scalar_fit_param"): _no_partial_fit("TestEstimator"),
    ("pbt", "test_scalar_fit_param_compat"): (
        "passes fit parameters that only the estimator's fit accepts; PBTSearchCV "
        "trains with partial_fit, which rejects them"
    ),
    ("pbt", "test_searchcv_raise_warning_with_non_finite_score"): _no_partial_fit(
        "DecisionTreeClassifier"),
    ("pbt", "test_search_cv_using_minimal_compatible_estimator"): _no_partial_fit(
        "a Pipeline of MinimalTransformer and MinimalRegressor or MinimalClassifier"),
    ("pbt", "test_search_callbacks_no_propagation"): _no_partial_fit("NoCallbackEstimator"),
    ("pbt", "test_search_callbacks_propagation"): _no_partial_fit("MaxIterEstimator"),
    ("pbt", "test_search_callbacks_receive_sample_weight"): _no_partial_fit("MaxIterEstimator"),
    ("pbt", "test_search_callbacks_receive_search_instance"): _no_partial_fit("MaxIterEstimator"),
    ("pbt", "test_search_callbacks_with_partial_fit_failures"): _no_partial_fit("MayFailClassifier"),
    ("pbt", "test_search_cv_pairwise_property_equivalence_of_precomputed"): _no_partial_fit("KNeighborsClassifier"),
    ("pbt", "test_search_cv_results_none_param"): _no_partial_fit("DecisionTreeRegressor"),
    ("pbt", "test_search_cv_results_rank_tie_breaking"): _no_partial_fit("SVC"),
    ("pbt", "test_search_cv_sample_weight_equivalence"): _no_partial_fit(
        "LogisticRegression or Ridge"),
    ("pbt", "test_search_cv_score_samples_error"): _no_partial_fit("DecisionTreeClassifier"),
    ("pbt", "test_search_cv_score_samples_method"): _no_partial_fit("LocalOutlierFactor"),
    ("pbt", "test_search_cv_timing"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_search_cv_verbose_3"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_search_default_iid"): _no_partial_fit("SVC"),
    ("pbt", "test_search_estimator_param"): _no_partial_fit("a Pipeline ending in LinearSVC"),
    ("pbt", "test_search_html_repr"): _no_partial_fit("a Pipeline ending in DummyClassifier or LogisticRegression"),
    ("pbt", "test_search_train_scores_set_to_false"): _no_partial_fit("LinearSVC"),
    ("pbt", "test_search_with_estimators_issue_29157"): _no_partial_fit("a Pipeline ending in LinearRegression"),
    ("pbt", "test_transform_inverse_transform_round_trip"): _no_partial_fit("MockClassifier"),
    ("pbt", "test_trivial_cv_results_attr"): _no_partial_fit("MockClassifier"),
    ("pbt", "test_unsupervised_grid_search"): _no_partial_fit("KMeans"),
    ("pbt", "test_unsupported_sample_weight_scorer"): _no_partial_fit("LogisticRegression"),
    ("pbt", "test_y_as_list"): _no_partial_fit("CheckingClassifier"),
}

with open(SOURCE_PATH, encoding="utf-8") as _source:
    if "cv.get_n_splits returned " in _source.read():
        NOT_APPLICABLE[("*", "test_random_search_bad_cv")] = (
            "this scikit-learn words the error 'returned inconsistent results'; skhpo "
            "raises the wording of newer scikit-learn ('return inconsistent results')"
        )

# (searcher, test name, argument, value or its class name) -> why one parametrized
# case cannot apply
CASE_NOT_APPLICABLE: dict[tuple[str, str, str, object], str] = {
    ("hyperband", "test_refit_callable_out_bound", "out_bound_value", 2): MORE_ROWS,
    # this case searches around Ridge (no iteration parameter: 'n_samples'); the
    # GridSearchCV case searches around LogisticRegression, whose max_iter is used
    ("hyperband", "test_search_cv_sample_weight_equivalence", "estimator",
     "RandomizedSearchCV"): SUBSAMPLES,
}


for _key, (_search_cls, _budget) in SEARCHERS.items():
    _export(_key, _load_sklearn_tests(_key, _search_cls, _budget))


# -- the harness itself ------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(SEARCHERS))
def test_scikit_learn_tests_build_our_searchers(key):
    # if the import were not intercepted, every test above would run
    # scikit-learn's own classes and pass without testing skhpo at all
    search_cls = SEARCHERS[key][0]
    module = sys.modules[f"{__name__}_{key}"]
    for adapter in (module.GridSearchCV, module.RandomizedSearchCV):
        assert issubclass(adapter, search_cls)
        assert module.test_grid_search.__globals__[adapter.__name__] is adapter
    exported = [name for name in globals() if name.startswith(f"test_{key}__")]
    assert len(exported) + len(NOT_A_SEARCH_TEST) == sum(
        name.startswith("test_") and callable(value) for name, value in vars(module).items()
    )


@pytest.mark.parametrize("key", ["bayes", "genetic"])
def test_grid_adapter_covers_the_grid(key):
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=60, random_state=0)
    grid = {"C": [0.01, 0.1, 1.0, 10.0], "fit_intercept": [True, False]}
    search = sys.modules[f"{__name__}_{key}"].GridSearchCV(
        LogisticRegression(), grid, cv=2).fit(X, y)
    evaluated = {tuple(sorted(p.items())) for p in search.cv_results_["params"]}
    assert evaluated == {tuple(sorted(p.items())) for p in ParameterGrid(grid)}
    assert len(search.cv_results_["params"]) == 8
