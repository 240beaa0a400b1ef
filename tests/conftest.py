"""Shared fixtures of the test suite."""

from __future__ import annotations

import pytest

from skhpo import BayesSearchCV, GeneticSearchCV, HyperbandSearchCV, PBTSearchCV

# Small budgets, one per searcher, for end-to-end tests that run every searcher.
SMALL_BUDGETS = {
    BayesSearchCV: {"n_iter": 8, "n_initial_points": 4},
    GeneticSearchCV: {"population_size": 4, "n_generations": 3},
    HyperbandSearchCV: {"max_resources": 3, "factor": 3},
    PBTSearchCV: {"population_size": 3, "max_resources": 2, "perturbation_interval": 1},
}


@pytest.fixture(params=list(SMALL_BUDGETS), ids=lambda cls: cls.__name__)
def make_search(request):
    """A searcher factory, parametrized over the four searchers.

    ``make_search(estimator, search_spaces, **params)`` builds the searcher with a
    small budget, ``cv=3`` and ``random_state=0``; ``params`` override them. The
    class is ``make_search.searcher``.
    """
    searcher = request.param

    def make(estimator, search_spaces, **params):
        return searcher(estimator, search_spaces,
                        **{"cv": 3, "random_state": 0, **SMALL_BUDGETS[searcher], **params})

    make.searcher = searcher
    return make
