"""The shared core: callbacks, sklearn 1.9 callbacks, joblib backends, history."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import GridSearchCV

from conftest import SMALL_SEARCHES
from skhpo import BayesSearchCV, Real
from skhpo._history import SearchHistory
from skhpo._strategy import Trial
from skhpo.callbacks import (
    DeadlineStopper,
    NoImprovementStopper,
    ScoreThresholdStopper,
    SearchCallback,
)
from skhpo.testing import assert_same_results

X, y = make_classification(n_samples=100, n_features=5, random_state=0)
SPACE = {"C": Real(1e-3, 1e2, prior="log-uniform")}


def make_search(**kwargs):
    params = dict(n_iter=6, n_points=2, n_initial_points=2, cv=2, random_state=0)
    return BayesSearchCV(LogisticRegression(), SPACE, **{**params, **kwargs})


class Recorder(SearchCallback):
    def __init__(self):
        self.events = []

    def on_search_begin(self, search, **kwargs):
        self.events.append("begin")

    def on_iteration_end(self, search, *, results, iteration, scores, **kwargs):
        assert len(scores) == len(results["params"])
        self.events.append(iteration)

    def on_search_end(self, search, *, results, **kwargs):
        self.events.append("end")


def test_search_callback_hooks_in_order():
    recorder = Recorder()
    make_search(callbacks=[recorder]).fit(X, y)
    assert recorder.events == ["begin", 0, 1, 2, "end"]


@pytest.mark.parametrize(
    "callback, n_batches",
    [
        (ScoreThresholdStopper(threshold=0.0), 1),
        (ScoreThresholdStopper(threshold=2.0), 3),
        (NoImprovementStopper(patience=1, tol=1.0), 2),
        (DeadlineStopper(total_time=0.0), 1),
    ],
)
def test_builtin_stoppers(callback, n_batches):
    search = make_search(callbacks=callback).fit(X, y)
    assert search.n_iterations_ == n_batches


def test_history_pads_columns_that_appear_later():
    history = SearchHistory()
    history.add(Trial({"a": 1}, id=0), [{}], iteration=0, score=0.5)
    history.add(Trial({"a": 2}, info={"bracket": 3}, parent=0, id=1), [{}], iteration=1,
                score=0.7)
    assert history.more_results["bracket"] == [-1, 3]
    assert history.more_results["iteration"] == [0, 1]
    assert history.more_results["trial_id"] == [0, 1]
    assert history.more_results["parent_id"] == [-1, 0]
    assert history.scores == [0.5, 0.7]
    assert history.n_iterations == 2


class TaskRecorder:
    """A scikit-learn 1.9 fit callback that records task names (n_jobs=1 only)."""

    def __init__(self):
        self.tasks = []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, **kwargs):
        self.tasks.append(context.task_name)

    def on_fit_task_end(self, estimator, context, **kwargs):
        pass


requires_sklearn_callbacks = pytest.mark.skipif(
    not hasattr(GridSearchCV, "set_callbacks"),
    reason="scikit-learn < 1.9 has no estimator callback API",
)


@requires_sklearn_callbacks
def test_sklearn_callbacks_see_the_same_tasks_as_gridsearchcv():
    ours, theirs = TaskRecorder(), TaskRecorder()
    make_search().set_callbacks(ours).fit(X, y)
    GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2).set_callbacks(theirs).fit(X, y)
    assert set(ours.tasks) == set(theirs.tasks)
    assert ours.tasks.count("search") == 1


@requires_sklearn_callbacks
def test_sklearn_progress_bar_runs():
    pytest.importorskip("rich")
    from sklearn.callback import ProgressBar

    search = make_search().set_callbacks(ProgressBar()).fit(X, y)
    assert len(search.cv_results_["params"]) == 6


def test_threading_backend_gives_same_results():
    serial = make_search(n_jobs=1).fit(X, y).cv_results_
    with parallel_backend("threading", n_jobs=2):
        threaded = make_search().fit(X, y).cv_results_
    assert_same_results(serial, threaded)


def test_dask_local_cluster_backend():
    distributed = pytest.importorskip("distributed")
    serial = make_search(n_jobs=1).fit(X, y).cv_results_
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            with parallel_backend("dask"):
                search = make_search(n_jobs=-1).fit(X, y)
            assert len(client.scheduler_info()["workers"]) == 2
    assert_same_results(serial, search.cv_results_)


class LockingCallback(SearchCallback):
    """Holds what cannot be pickled (a lock, an open file) and logs every batch."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.log = open(path, "w")  # noqa: SIM115 (closed by the test)
        self.pids = []

    def on_iteration_end(self, search, *, results, iteration, scores, **kwargs):
        with self.lock:
            self.log.write(f"{iteration} {len(scores)}\n")
        self.pids.append(os.getpid())

    def __call__(self, results):  # the same object as a plain callable
        with self.lock:
            self.pids.append(os.getpid())


@pytest.mark.parametrize("name", sorted(SMALL_SEARCHES))
@pytest.mark.parametrize("as_callable", [False, True], ids=["SearchCallback", "callable"])
def test_callbacks_stay_in_the_main_process(name, as_callable, tmp_path):
    callback = LockingCallback(tmp_path / "log.txt")
    callbacks = [callback.__call__] if as_callable else [callback]
    try:
        with parallel_backend("loky", n_jobs=2):
            search = SMALL_SEARCHES[name](callbacks=callbacks, n_jobs=2).fit(X, y)
    finally:
        callback.log.close()
    assert len(callback.pids) == search.n_iterations_ > 1
    assert set(callback.pids) == {os.getpid()}
    if not as_callable:
        lines = (tmp_path / "log.txt").read_text().splitlines()
        assert lines[-1] == f"{search.n_iterations_ - 1} {len(search.cv_results_['params'])}"


class WorkerSideCheck:
    """A scikit-learn fit callback that fails a task whose search still holds the
    skhpo callbacks (run with ``error_score="raise"``)."""

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, **kwargs):
        if context.task_name == "candidate-split-evaluation":
            assert type(estimator).__name__.endswith("SearchCV"), estimator
            assert estimator.callbacks is None, estimator.callbacks

    def on_fit_task_end(self, estimator, context, **kwargs):
        pass


@requires_sklearn_callbacks
@pytest.mark.parametrize("name", sorted(SMALL_SEARCHES))
def test_sklearn_callbacks_get_the_search_without_skhpo_callbacks(name, tmp_path):
    callback = LockingCallback(tmp_path / "log.txt")
    search = SMALL_SEARCHES[name](callbacks=[callback], n_jobs=2, error_score="raise")
    search.set_callbacks(WorkerSideCheck())
    try:
        with parallel_backend("loky", n_jobs=2):
            search.fit(X, y)
    finally:
        callback.log.close()
    assert search.callbacks == [callback]
    assert len(callback.pids) == search.n_iterations_ > 1
    assert set(callback.pids) == {os.getpid()}


@pytest.mark.parametrize("name", sorted(SMALL_SEARCHES))
def test_folds_given_as_boolean_masks(name):
    # GridSearchCV accepts (train_mask, test_mask) folds; subsampling the training
    # fold (Hyperband's "n_samples") must see the same samples as with indices
    rng = np.random.RandomState(0)
    masks = []
    for _ in range(3):
        test = np.zeros(len(X), dtype=bool)
        test[rng.choice(len(X), 30, replace=False)] = True
        masks.append((~test, test))
    indices = [(np.flatnonzero(train), np.flatnonzero(test)) for train, test in masks]
    by_mask = SMALL_SEARCHES[name]().set_params(cv=masks).fit(X, y)
    by_index = SMALL_SEARCHES[name]().set_params(cv=indices).fit(X, y)
    assert_same_results(by_mask.cv_results_, by_index.cv_results_)
    assert by_mask.n_splits_ == 3


class _EmptyIterator:
    """A cv whose split() yields nothing (an exhausted generator)."""

    def split(self, X, y=None, groups=None):
        return iter(())

    def get_n_splits(self, X=None, y=None, groups=None):
        return 3


class _InconsistentKFold:
    """get_n_splits disagrees with split (scikit-learn's own BrokenKFold)."""

    def split(self, X, y=None, groups=None):
        n = len(X)
        for k in range(3):
            test = np.arange(k, n, 3)
            yield np.setdiff1d(np.arange(n), test), test

    def get_n_splits(self, X=None, y=None, groups=None):
        return 1


@pytest.mark.parametrize("name", sorted(SMALL_SEARCHES))
@pytest.mark.parametrize(
    "cv, match",
    [
        (_EmptyIterator(), r"No fits were performed\. Was the CV iterator empty\? Were "
                           r"there no candidates\?"),
        (_InconsistentKFold(), r"cv\.split and cv\.get_n_splits return inconsistent "
                               r"results\. Expected 1 splits, got 3"),
    ],
    ids=["empty", "inconsistent"],
)
def test_bad_cv_raises_before_fitting(name, cv, match, monkeypatch):
    fits = []
    for cls, method in [(LogisticRegression, "fit"), (SGDClassifier, "fit"),
                        (SGDClassifier, "partial_fit")]:
        monkeypatch.setattr(cls, method, lambda *a, **k: fits.append(1))
    with pytest.raises(ValueError, match=match):
        SMALL_SEARCHES[name]().set_params(cv=cv).fit(X, y)
    assert not fits


class _StrictSetParams(LogisticRegression):
    """set_params needs at least one argument, as some third-party estimators do."""

    def set_params(self, **params):
        if not params:
            raise KeyError("set_params() needs a parameter")
        return super().set_params(**params)


def test_parameter_names_are_checked_without_calling_set_params_with_nothing():
    search = BayesSearchCV(_StrictSetParams(), SPACE, n_iter=2, n_initial_points=1,
                           cv=2, random_state=0).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
