"""Incrementally trained searchers (Hyperband on ``partial_fit``, PBT): failures are
never the best and never lose the search; user objects are never trained; every
``y`` that GridSearchCV takes works."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.multioutput import MultiOutputClassifier
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skhpo import BayesSearchCV, GeneticSearchCV, HyperbandSearchCV, PBTSearchCV, Real
from skhpo.exceptions import SkhpoWarning

X, y = make_classification(n_samples=120, n_features=6, random_state=0)
SPACE = {"alpha": Real(1e-5, 1e-1, prior="log-uniform")}


class TiredSGD(SGDClassifier):
    """SGD whose ``partial_fit`` fails after ``max_passes`` passes on one model."""

    def __init__(self, max_passes=3, alpha=1e-4, loss="log_loss", random_state=0):
        super().__init__(alpha=alpha, loss=loss, random_state=random_state)
        self.max_passes = max_passes

    def partial_fit(self, X, y, classes=None, **kwargs):
        self.passes_ = getattr(self, "passes_", 0) + 1
        if self.passes_ > self.max_passes:
            raise ValueError(f"tired after {self.max_passes} passes")
        return super().partial_fit(X, y, classes=classes, **kwargs)


class NoFullDataSGD(SGDClassifier):
    """SGD that fails on more than ``max_samples`` samples: every refit fails."""

    def __init__(self, max_samples=100, alpha=1e-4, loss="log_loss", max_iter=5,
                 tol=None, random_state=0):
        super().__init__(alpha=alpha, loss=loss, max_iter=max_iter, tol=tol,
                         random_state=random_state)
        self.max_samples = max_samples

    def _check(self, X):
        if len(X) > self.max_samples:
            raise ValueError(f"refusing {len(X)} samples")

    def fit(self, X, y, **kwargs):
        self._check(X)
        return super().fit(X, y, **kwargs)

    def partial_fit(self, X, y, classes=None, **kwargs):
        self._check(X)
        return super().partial_fit(X, y, classes=classes, **kwargs)


INCREMENTAL = {
    "hyperband": lambda est, space, **kw: HyperbandSearchCV(
        est, space, resource="partial_fit", max_resources=9, factor=3, cv=3,
        **{"random_state": 0, **kw}),
    "pbt": lambda est, space, **kw: PBTSearchCV(
        est, space, population_size=4, max_resources=6, perturbation_interval=3, cv=3,
        **{"random_state": 0, **kw}),
}
ALL = {
    **INCREMENTAL,
    "bayes": lambda est, space, **kw: BayesSearchCV(est, space, n_iter=3, cv=3,
                                                    random_state=0, **kw),
    "genetic": lambda est, space, **kw: GeneticSearchCV(
        est, space, population_size=3, n_generations=2, cv=3, random_state=0, **kw),
}


@pytest.mark.parametrize("searcher", sorted(INCREMENTAL))
def test_failures_at_the_largest_budget_are_never_the_best(searcher):
    # every model fails on its 4th pass: the largest budget fails everywhere
    search = INCREMENTAL[searcher](TiredSGD(max_passes=3), SPACE, refit=False)
    with pytest.warns(SkhpoWarning, match="Every evaluation at the largest budget"):
        search.fit(X, y)
    results = search.cv_results_
    n_resources = np.asarray(results["n_resources"])
    scores = np.asarray(results["mean_test_score"])
    assert np.isnan(scores[n_resources == n_resources.max()]).all()
    assert np.isfinite(search.best_score_)
    best_budget = n_resources[search.best_index_]
    assert best_budget == n_resources[np.isfinite(scores)].max() == 3
    assert search.best_score_ == np.nanmax(scores[n_resources == best_budget])


def test_hyperband_refits_the_best_finite_row_at_its_own_budget():
    with pytest.warns(SkhpoWarning, match="largest budget with a finite score"):
        search = INCREMENTAL["hyperband"](TiredSGD(max_passes=3), SPACE).fit(X, y)
    assert search.best_estimator_.passes_ == 3
    assert search.predict(X).shape == y.shape


@pytest.mark.parametrize("searcher", sorted(ALL))
def test_a_failing_refit_keeps_the_results_of_the_search(searcher):
    search = ALL[searcher](NoFullDataSGD(max_samples=100), SPACE)
    with pytest.raises(ValueError, match="refusing 120 samples") as raised:
        search.fit(X, y)  # folds of 80 samples fit; the refit on 120 does not
    if sys.version_info >= (3, 11):  # exception notes
        assert "cv_results_ and best_params_ of the search are kept" in "".join(
            raised.value.__notes__)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_params_ == search.cv_results_["params"][search.best_index_]


def test_pbt_refit_sets_clones_of_the_users_objects():
    scalers = [StandardScaler(), MinMaxScaler()]
    pipe = Pipeline([("scale", StandardScaler()), ("clf", SGDClassifier(random_state=0))])
    space = {"scale": scalers, "clf__alpha": Real(1e-5, 1e-1, prior="log-uniform")}
    first = INCREMENTAL["pbt"](pipe, space).fit(X, y)
    best_scaler = first.best_estimator_.named_steps["scale"]
    assert all(best_scaler is not s for s in scalers)
    assert type(best_scaler) is type(first.best_params_["scale"])
    assert hasattr(best_scaler, "n_features_in_")
    # the user's objects were never fitted
    assert not any(hasattr(s, "n_features_in_") for s in scalers)
    before = [first.best_estimator_.predict(X), clone(first.best_estimator_).get_params()]
    INCREMENTAL["pbt"](pipe, space, random_state=1).fit(X[::-1], y[::-1])
    np.testing.assert_array_equal(first.best_estimator_.predict(X), before[0])
    assert not any(hasattr(s, "n_features_in_") for s in scalers)


def multilabel():
    X_ml, Y = make_multilabel_classification(n_samples=150, n_classes=3, random_state=0)
    return MLPClassifier(hidden_layer_sizes=(8,), random_state=0), X_ml, Y


def multiclass_multioutput():
    X_mo, y_mo = make_classification(n_samples=150, n_classes=3, n_informative=4,
                                     random_state=0)
    Y = np.c_[y_mo, (y_mo + X_mo[:, 0].round().astype(int)) % 4]
    return MultiOutputClassifier(SGDClassifier(random_state=0)), X_mo, Y


def multioutput_regression():
    rng = np.random.RandomState(0)
    X_r = rng.normal(size=(150, 4))
    Y = np.c_[X_r[:, 0] + X_r[:, 1], X_r[:, 2] - X_r[:, 3]]
    return MLPRegressor(hidden_layer_sizes=(8,), random_state=0), X_r, Y


@pytest.mark.parametrize("searcher", sorted(INCREMENTAL))
@pytest.mark.parametrize("task", [multilabel, multiclass_multioutput, multioutput_regression],
                         ids=lambda task: task.__name__)
def test_multilabel_and_multioutput_y_work_as_in_gridsearchcv(task, searcher):
    estimator, X_task, Y = task()
    param = "estimator__alpha" if isinstance(estimator, MultiOutputClassifier) else "alpha"
    grid = GridSearchCV(estimator, {param: [1e-4]}, cv=3).fit(X_task, Y)
    assert np.isfinite(grid.best_score_)  # GridSearchCV takes this y
    search = INCREMENTAL[searcher](estimator, {param: Real(1e-5, 1e-2, prior="log-uniform")})
    search.fit(X_task, Y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.predict(X_task).shape == Y.shape
