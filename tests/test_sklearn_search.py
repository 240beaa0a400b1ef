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
is listed in ``NOT_APPLICABLE`` with its reason; one that fails only because
of a search-space feature not yet merged is in ``WAITING_ON_SPACES``.
"""

from __future__ import annotations

import builtins
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


def _bayes_budget(n_candidates: int) -> dict:
    return {"n_iter": n_candidates}


def _genetic_budget(n_candidates: int) -> dict:
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


def _hyperband_budget(self) -> dict:
    """``partial_fit`` epochs when the estimator has it, else an iteration
    parameter that is not searched, else subsamples (which change the training set)."""
    if has_partial_fit(self.estimator):
        return {"resource": "partial_fit", "max_resources": 9, "min_resources": 1}
    searched = {name for sub in _as_list(_search_spaces(self)) for name in sub}
    for name, value in self.estimator.get_params(deep=True).items():
        leaf = name.rpartition("__")[2]
        if (leaf in ("max_iter", "n_estimators") and name not in searched
                and isinstance(value, int) and value >= 9):
            return {"resource": name, "max_resources": value,
                    "min_resources": max(1, value // 9)}
    return {"resource": "n_samples", "max_resources": "auto", "min_resources": "auto"}


def _pbt_budget(n_candidates: int) -> dict:
    return {"population_size": max(n_candidates, 2), "max_resources": 2,
            "perturbation_interval": 1}


def _as_list(spaces):
    return spaces if isinstance(spaces, list) else [spaces]


SEARCHERS = {
    "bayes": (BayesSearchCV, _bayes_budget),
    "genetic": (GeneticSearchCV, _genetic_budget),
    "hyperband": (HyperbandSearchCV, None),
    "pbt": (PBTSearchCV, _pbt_budget),
}


def _make_adapters(search_cls, budget):
    """GridSearchCV- and RandomizedSearchCV-shaped subclasses of ``search_cls``.

    They store their own constructor arguments (so ``get_params``, ``clone`` and
    ``set_params`` see GridSearchCV's names) and expose the searcher's own
    parameters as properties computed from them.
    """
    def searcher_params(self, n_candidates):
        if budget is None:  # Hyperband: the budget follows the estimator
            return _hyperband_budget(self)
        return budget(n_candidates)

    def read(name):
        def getter(self):
            params = self._searcher_params()
            if name in params:
                return params[name]
            return _SEARCHER_DEFAULTS[search_cls][name]
        return property(getter)

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
            return searcher_params(self, size or DEFAULT_GRID_BUDGET)

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
            return searcher_params(self, self.n_iter)

    for cls in (GridSearchCV, RandomizedSearchCV):
        for name, prop in shared.items():
            if name not in cls.__init__.__code__.co_varnames:
                setattr(cls, name, prop)
        cls.__qualname__ = cls.__name__
    return GridSearchCV, RandomizedSearchCV


def _constructor_defaults(search_cls) -> dict:
    import inspect

    signature = inspect.signature(search_cls.__init__)
    return {
        name: p.default for name, p in signature.parameters.items()
        if p.default is not inspect.Parameter.empty
    }


_SEARCHER_DEFAULTS = {
    cls: {k: v for k, v in _constructor_defaults(cls).items()
          if k not in ("random_state",)}
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
        reason = NOT_APPLICABLE.get((key, name)) or NOT_APPLICABLE.get(("*", name))
        if reason is not None:
            func.pytestmark.append(pytest.mark.skip(reason=reason).mark)
        reason = WAITING_ON_SPACES.get((key, name)) or WAITING_ON_SPACES.get(("*", name))
        if reason is not None:
            func.pytestmark.append(pytest.mark.xfail(
                strict=False, reason=f"waiting on spaces branch: {reason}").mark)
        globals()[f"test_{key}__{name[len('test_'):]}"] = func


# scikit-learn's tests that build no GridSearchCV or RandomizedSearchCV (not run)
NOT_A_SEARCH_TEST: set[str] = set()

# (searcher or "*", test name) -> why scikit-learn's test cannot apply
NOT_APPLICABLE: dict[tuple[str, str], str] = {}

# (searcher or "*", test name) -> the search-space feature it waits for
WAITING_ON_SPACES: dict[tuple[str, str], str] = {}

for _key, (_search_cls, _budget) in SEARCHERS.items():
    _export(_key, _load_sklearn_tests(_key, _search_cls, _budget))
