"""Reusable tests of the GridSearchCV contract for skhpo searchers.

:class:`SearchCVContract` follows scikit-learn's ``model_selection/tests/test_search.py``
test by test (refit variants, multi-metric, ``error_score``, fit params, groups,
delegation, pickling, clone, input types, ``cv_results_`` keys) plus what every
skhpo searcher promises on top (seed determinism, ``n_jobs`` invariance, callbacks,
``max_time``, validation before fitting). Subclass it once per searcher, as
scipy's ``QMCEngineTests`` is subclassed once per engine::

    class TestBayesContract(SearchCVContract):
        search_cls = BayesSearchCV
        search_kwargs = {"n_iter": 4, "n_points": 2}

The default classifier (SGD, log loss) has ``partial_fit``, so the same tests run
for searchers that train incrementally.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.exceptions import FitFailedWarning, NotFittedError
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import GroupKFold, KFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .space import Real

__all__ = [
    "FailingClassifier",
    "FitParamClassifier",
    "SearchCVContract",
    "assert_same_params",
    "assert_same_results",
]


class FailingClassifier(SGDClassifier):
    """SGDClassifier whose fit and partial_fit raise when ``alpha > fail_above``."""

    def __init__(self, alpha=1e-4, fail_above=1e-2, loss="log_loss", max_iter=20,
                 tol=None, random_state=0):
        super().__init__(alpha=alpha, loss=loss, max_iter=max_iter, tol=tol,
                         random_state=random_state)
        self.fail_above = fail_above

    def _check_failure(self):
        if self.alpha > self.fail_above:
            raise ValueError(f"failing on purpose: alpha={self.alpha} > {self.fail_above}")

    def fit(self, X, y, **kwargs):
        self._check_failure()
        return super().fit(X, y, **kwargs)

    def partial_fit(self, X, y, classes=None, **kwargs):
        self._check_failure()
        return super().partial_fit(X, y, classes=classes, **kwargs)


class FitParamClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the majority class; asserts that ``spam`` was split alongside X."""

    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def _check(self, X, spam):
        if spam is None or len(spam) != len(X):
            raise AssertionError(f"spam was not routed and split with X: {spam!r}")

    def fit(self, X, y, spam=None):
        self._check(X, spam)
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[np.argmax(counts)]
        return self

    def partial_fit(self, X, y, classes=None, spam=None):
        return self.fit(X, y, spam=spam)

    def predict(self, X):
        return np.full(len(X), self.majority_)


def _data(n_samples=120, random_state=0):
    return make_classification(n_samples=n_samples, n_features=6, n_informative=3,
                               random_state=random_state)


def _without_times(results):
    return {k: v for k, v in results.items() if "time" not in k}


def assert_same_results(first, second, rtol=0.0):
    """Assert two ``cv_results_`` are equal but for the timing columns.

    With ``rtol > 0`` numeric columns may differ by that relative tolerance (for
    inputs, such as sparse matrices, that change the arithmetic slightly).
    """
    a, b = _without_times(first), _without_times(second)
    assert a.keys() == b.keys()
    for key in a:
        if key == "params" and not rtol:
            assert a[key] == b[key]
        elif key != "params":
            left, right = np.asarray(a[key]), np.asarray(b[key])
            if rtol and left.dtype.kind == "f":
                np.testing.assert_allclose(left, right, rtol=rtol, err_msg=key)
            else:
                np.testing.assert_array_equal(left, right, err_msg=key)


def assert_same_params(first: dict, second: dict) -> None:
    """Assert two ``get_params()`` dicts are equal, estimators compared by params."""
    assert first.keys() == second.keys()
    for key, value in first.items():
        other = second[key]
        if hasattr(value, "get_params"):
            assert type(value) is type(other), key
            assert_same_params(value.get_params(deep=False), other.get_params(deep=False))
        elif isinstance(value, float) and np.isnan(value):
            assert isinstance(other, float) and np.isnan(other), key
        else:
            assert value == other, key


class SearchCVContract:
    """GridSearchCV's contract, test by test; subclass with ``search_cls`` set."""

    search_cls: type = None
    search_kwargs: dict = {}
    space = {"alpha": Real(1e-5, 1e-1, prior="log-uniform")}

    def classifier(self):
        return SGDClassifier(loss="log_loss", max_iter=20, tol=None, random_state=0)

    def make_search(self, estimator=None, search_spaces=None, **kwargs):
        params = {"cv": 3, "random_state": 0, **self.search_kwargs, **kwargs}
        estimator = self.classifier() if estimator is None else estimator
        search_spaces = self.space if search_spaces is None else search_spaces
        return self.search_cls(estimator, search_spaces, **params)

    # -- cv_results_ and best_* -------------------------------------------------

    def test_cv_results_keys(self):
        X, y = _data()
        search = self.make_search(return_train_score=True).fit(X, y)
        results = search.cv_results_
        n_rows = len(results["params"])
        expected = {"mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time",
                    "param_alpha", "params", "mean_test_score", "std_test_score",
                    "rank_test_score", "mean_train_score", "std_train_score"}
        expected |= {f"split{i}_{s}_score" for i in range(3) for s in ("test", "train")}
        assert expected <= set(results)
        for key, value in results.items():
            assert len(value) == n_rows, key
        assert isinstance(results["param_alpha"], np.ma.MaskedArray)
        assert search.n_splits_ == 3

    def test_no_train_score_by_default(self):
        X, y = _data()
        results = self.make_search().fit(X, y).cv_results_
        assert not any(k.endswith("train_score") for k in results)

    def test_best_index_matches_rank(self):
        X, y = _data()
        search = self.make_search().fit(X, y)
        results = search.cv_results_
        assert search.best_params_ == results["params"][search.best_index_]
        assert search.best_score_ == results["mean_test_score"][search.best_index_]
        assert results["rank_test_score"][search.best_index_] == 1

    # -- refit ----------------------------------------------------------------

    def test_refit_false(self):
        X, y = _data()
        search = self.make_search(refit=False).fit(X, y)
        assert not hasattr(search, "best_estimator_")
        assert hasattr(search, "best_params_")
        with np.testing.assert_raises(AttributeError):
            search.predict(X)

    def test_refit_callable(self):
        X, y = _data()

        def pick_first(results):
            return 0

        search = self.make_search(refit=pick_first).fit(X, y)
        assert search.best_index_ == 0
        assert not hasattr(search, "best_score_")
        assert search.best_params_ == search.cv_results_["params"][0]
        search.predict(X)

    def test_refit_callable_must_return_int(self):
        import pytest

        X, y = _data()
        with pytest.raises(TypeError, match="best_index_ returned is not an integer"):
            self.make_search(refit=lambda results: "one").fit(X, y)

    # -- scoring --------------------------------------------------------------

    def test_multimetric(self):
        X, y = _data()
        scoring = {"acc": "accuracy", "bal": "balanced_accuracy"}
        search = self.make_search(scoring=scoring, refit="bal").fit(X, y)
        results = search.cv_results_
        for name in scoring:
            assert f"mean_test_{name}" in results and f"rank_test_{name}" in results
        assert search.multimetric_
        assert search.best_score_ == results["mean_test_bal"][search.best_index_]
        assert set(search.scorer_) == set(scoring)

    def test_multimetric_needs_refit_name(self):
        import pytest

        X, y = _data()
        search = self.make_search(scoring=["accuracy", "balanced_accuracy"], refit=True)
        with pytest.raises(ValueError, match="refit must be set to a scorer key"):
            search.fit(X, y)

    def test_callable_scoring(self):
        X, y = _data()
        calls = []

        def minus_one_minus_error(estimator, X, y):
            # outside [0, 1], so the results show that this scorer, not accuracy, ran
            calls.append(len(X))
            return -1.0 - float(np.mean(estimator.predict(X) != y))

        search = self.make_search(scoring=minus_one_minus_error).fit(X, y)
        scores = search.cv_results_["mean_test_score"]
        assert np.all((scores >= -2.0) & (scores <= -1.0))
        assert calls, "the scorer was not called in this process"
        assert search.best_score_ == scores[search.best_index_]
        np.testing.assert_allclose(search.score(X, y),
                                   minus_one_minus_error(search.best_estimator_, X, y))

    # -- failures -------------------------------------------------------------

    def test_error_score_nan_keeps_other_results(self):
        X, y = _data()
        space = {"alpha": Real(1e-5, 1e-2, prior="log-uniform")}
        search = self.make_search(FailingClassifier(fail_above=1e-3), space,
                                  error_score=np.nan)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            search.fit(X, y)
        results = search.cv_results_
        failed = np.array([p["alpha"] > 1e-3 for p in results["params"]])
        assert failed.any() and (~failed).any(), "the space must mix failing and working"
        assert np.isnan(results["mean_test_score"][failed]).all()
        assert np.isfinite(results["mean_test_score"][~failed]).all()
        assert results["rank_test_score"][failed].min() > results["rank_test_score"][~failed].max()
        assert search.best_params_["alpha"] <= 1e-3
        assert any(issubclass(w.category, FitFailedWarning) for w in caught)

    def test_error_score_numeric(self):
        X, y = _data()
        space = {"alpha": Real(1e-5, 1e-2, prior="log-uniform")}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitFailedWarning)
            search = self.make_search(FailingClassifier(fail_above=1e-3), space,
                                      error_score=-1.0).fit(X, y)
        scores = search.cv_results_["mean_test_score"]
        failed = np.array([p["alpha"] > 1e-3 for p in search.cv_results_["params"]])
        np.testing.assert_array_equal(scores[failed], -1.0)

    def test_error_score_raise(self):
        import pytest

        X, y = _data()
        search = self.make_search(FailingClassifier(fail_above=0.0), error_score="raise")
        with pytest.raises(ValueError, match="failing on purpose"):
            search.fit(X, y)

    def test_all_fits_failing_raises(self):
        import pytest

        X, y = _data()
        search = self.make_search(FailingClassifier(fail_above=0.0))
        with pytest.raises(ValueError, match="fits failed"):
            search.fit(X, y)

    # -- data and routing -----------------------------------------------------

    def test_fit_params_are_split_with_X(self):
        X, y = _data()
        search = self.make_search(FitParamClassifier(), {"alpha": Real(0.1, 1.0)})
        search.fit(X, y, spam=np.arange(len(X)))
        assert np.isfinite(search.cv_results_["mean_test_score"]).all()

    def test_groups(self):
        import pytest

        X, y = _data()
        groups = np.arange(len(X)) % 4
        search = self.make_search(cv=GroupKFold(n_splits=2))
        search.fit(X, y, groups=groups)
        assert search.n_splits_ == 2
        with pytest.raises(ValueError, match="groups"):
            self.make_search(cv=GroupKFold(n_splits=2)).fit(X, y)

    def test_input_types(self):
        import pytest
        import scipy.sparse as sp

        X, y = _data()
        dense = self.make_search().fit(X, y)
        sparse = self.make_search().fit(sp.csr_matrix(X), y)
        as_list = self.make_search().fit(X.tolist(), y.tolist())
        # SGD treats sparse input differently (intercept decay): only check it runs
        assert np.isfinite(sparse.cv_results_["mean_test_score"]).all()
        assert len(sparse.cv_results_["params"]) == len(dense.cv_results_["params"])
        assert_same_results(dense.cv_results_, as_list.cv_results_)
        pd = pytest.importorskip("pandas")
        frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
        search = self.make_search().fit(frame, pd.Series(y))
        np.testing.assert_array_equal(search.feature_names_in_, frame.columns)

    def test_pipeline_params(self):
        X, y = _data()
        pipe = Pipeline([("scale", StandardScaler()), ("clf", self.classifier())])
        search = self.make_search(pipe, {"clf__alpha": Real(1e-5, 1e-1, prior="log-uniform")})
        search.fit(X, y)
        assert set(search.best_params_) == {"clf__alpha"}
        assert search.best_estimator_.named_steps["clf"].alpha == search.best_params_["clf__alpha"]

    def test_nested_in_cross_val_score(self):
        X, y = _data()
        scores = cross_val_score(self.make_search(cv=2), X, y, cv=2)
        assert scores.shape == (2,) and np.isfinite(scores).all()

    # -- delegation, clone, pickle ---------------------------------------------

    def test_delegation(self):
        X, y = _data()
        search = self.make_search().fit(X, y)
        best = search.best_estimator_
        np.testing.assert_array_equal(search.predict(X), best.predict(X))
        np.testing.assert_allclose(search.predict_proba(X), best.predict_proba(X))
        np.testing.assert_allclose(search.decision_function(X), best.decision_function(X))
        np.testing.assert_array_equal(search.classes_, np.unique(y))
        assert search.n_features_in_ == X.shape[1]
        assert search.score(X, y) == best.score(X, y)

    def test_transform_delegation(self):
        X, y = _data()
        pipe = Pipeline([("scale", StandardScaler()), ("clf", self.classifier())])
        search = self.make_search(pipe, {"clf__alpha": Real(1e-5, 1e-1, prior="log-uniform")})
        search.fit(X, y)
        assert not hasattr(search, "transform")  # Pipeline ending in a classifier
        search = self.make_search(StandardScaler(), {"with_mean": [True, False]},
                                  scoring=lambda est, X, y=None: -float(np.abs(est.transform(X)).mean()))
        search.fit(X, y)
        np.testing.assert_allclose(search.transform(X), search.best_estimator_.transform(X))

    def test_not_fitted(self):
        import pytest

        X, _ = _data()
        with pytest.raises(NotFittedError):
            self.make_search().predict(X)

    def test_pickle_and_clone(self):
        X, y = _data()
        search = self.make_search(error_score=-5.0, return_train_score=True)
        cloned = clone(search)
        assert_same_params(cloned.get_params(deep=False), search.get_params(deep=False))
        search.fit(X, y)
        restored = pickle.loads(pickle.dumps(search))
        np.testing.assert_array_equal(restored.predict(X), search.predict(X))
        assert_same_results(restored.cv_results_, search.cv_results_)

    def test_set_params_search_spaces_takes_effect(self):
        X, y = _data()
        search = self.make_search()
        search.set_params(search_spaces={"alpha": [1e-3, 1e-2]})
        search.fit(X, y)
        assert {p["alpha"] for p in search.cv_results_["params"]} <= {1e-3, 1e-2}

    def test_estimator_not_mutated(self):
        X, y = _data()
        estimator = self.classifier()
        before = estimator.get_params()
        self.make_search(estimator).fit(X, y)
        assert estimator.get_params() == before
        assert not hasattr(estimator, "coef_")

    # -- skhpo promises ---------------------------------------------------------

    def test_seed_determinism(self):
        X, y = _data()
        first = self.make_search(random_state=3).fit(X, y).cv_results_
        second = self.make_search(random_state=3).fit(X, y).cv_results_
        assert_same_results(first, second)
        # the default space is continuous: another seed gives other candidates
        other = self.make_search(random_state=4).fit(X, y).cv_results_
        assert other["params"] != first["params"]

    def test_n_jobs_invariance(self):
        X, y = _data()
        serial = self.make_search(n_jobs=1).fit(X, y).cv_results_
        parallel = self.make_search(n_jobs=2).fit(X, y).cv_results_
        assert_same_results(serial, parallel)

    def test_folds_fixed_within_fit(self):
        # a shuffling splitter without a seed must not give each batch new folds
        X, y = _data()
        search = self.make_search(FitParamClassifier(), {"alpha": Real(0.1, 1.0)},
                                  cv=KFold(3, shuffle=True))
        search.fit(X, y, spam=np.ones(len(X)))
        results = search.cv_results_
        # the majority-class predictor scores a fold identically for every candidate
        for k in range(3):
            assert len(np.unique(results[f"split{k}_test_score"])) == 1

    def test_callback_can_stop(self):
        X, y = _data()
        calls = []

        def stop_at_once(results):
            calls.append(len(results["params"]))
            return True

        search = self.make_search(callbacks=stop_at_once).fit(X, y)
        assert len(calls) == 1
        assert len(search.cv_results_["params"]) == calls[0]
        assert search.n_iterations_ == 1

    def test_max_time_stops_after_first_batch(self):
        X, y = _data()
        search = self.make_search(max_time=1e-9).fit(X, y)
        assert search.n_iterations_ == 1
        assert set(search.cv_results_["iteration"]) == {0}

    def test_unknown_parameter_name(self):
        import pytest

        X, y = _data()
        search = self.make_search(search_spaces={"not_a_param": [1, 2]})
        with pytest.raises(ValueError, match="search_spaces names a parameter"):
            search.fit(X, y)

    def test_invalid_search_spaces(self):
        import pytest

        X, y = _data()
        with pytest.raises(ValueError, match="empty list"):
            self.make_search(search_spaces={"alpha": []}).fit(X, y)
        with pytest.raises(ValueError, match="search_spaces"):
            self.make_search(search_spaces="alpha").fit(X, y)
