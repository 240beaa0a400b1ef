"""Shared fixtures and helpers of the test suite."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression, SGDClassifier

from skhpo import BayesSearchCV, GeneticSearchCV, HyperbandSearchCV, PBTSearchCV, Real

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


C_SPACE = {"C": Real(1e-2, 1e2, prior="log-uniform")}
ALPHA_SPACE = {"alpha": Real(1e-5, 1e-1, prior="log-uniform")}


def _sgd():
    return SGDClassifier(loss="log_loss", random_state=0)


#: One small search of every searcher and every way of training (Hyperband on
#: subsamples and on ``partial_fit`` epochs); ``make(**kwargs)`` builds it.
SMALL_SEARCHES = {
    "bayes": lambda **kw: BayesSearchCV(
        LogisticRegression(), C_SPACE, n_iter=4, n_points=2, n_initial_points=2,
        cv=3, random_state=0, **kw),
    "genetic": lambda **kw: GeneticSearchCV(
        LogisticRegression(), C_SPACE, population_size=4, n_generations=2,
        tournament_size=2, cv=3, random_state=0, **kw),
    "hyperband-samples": lambda **kw: HyperbandSearchCV(
        LogisticRegression(), C_SPACE, factor=3, cv=3, random_state=0, **kw),
    "hyperband-partial_fit": lambda **kw: HyperbandSearchCV(
        _sgd(), ALPHA_SPACE, resource="partial_fit", max_resources=9, factor=3, cv=3,
        random_state=0, **kw),
    "pbt": lambda **kw: PBTSearchCV(
        _sgd(), ALPHA_SPACE, population_size=4, max_resources=6,
        perturbation_interval=2, cv=3, random_state=0, **kw),
}


@pytest.fixture
def global_random_seed():
    """scikit-learn's fixture of the same name, at its default seed (42).

    scikit-learn's own test_search.py, run by test_sklearn_search.py, takes it.
    """
    return 42


def pytest_configure(config):
    # a mark of scikit-learn's test_search.py (for free-threaded runs)
    config.addinivalue_line("markers", "thread_unsafe: not safe to run in threads")


def tell_scores(strategy, trials, scores) -> None:
    """Tell ``strategy`` each trial's score, one finished trial at a time."""
    for trial, score in zip(trials, scores):
        strategy.tell(trial.id, score)


def run_async(strategy, objective, n_workers, seed=0):
    """Drive ``strategy`` as the asynchronous loop does, without fitting.

    ``n_workers`` trials run at once; whenever one finishes (a random one of
    those running, so trials finish out of order) it is told and the strategy is
    asked for as many trials as there are free workers. Returns each asked trial
    with the trials that were running when it was asked.
    """
    rng = np.random.RandomState(seed)
    running, asked = [], []
    while True:
        if len(running) < n_workers:
            for trial in strategy.ask(n_workers - len(running)):
                asked.append((trial, list(running)))
                running.append(trial)
        if not running:
            return asked
        trial = running.pop(rng.randint(len(running)))
        strategy.tell(trial.id, objective(trial.params))


def interrupt_after(n_trials):
    """A callback that raises KeyboardInterrupt (as Ctrl-C does) once ``n_trials``
    trials are finished."""

    def interrupt(results):
        if len(results["params"]) == n_trials:
            raise KeyboardInterrupt

    return interrupt


class FitRecorder(ClassifierMixin, BaseEstimator):
    """A classifier that appends ``(device, pid, start, end)`` of each fit to ``log``.

    ``fit`` and ``partial_fit`` (so every searcher can train it) sleep ``duration``
    seconds, so that tasks of several workers overlap; the score is a known
    function of ``C`` (best at ``C=1``). ``out_of_memory_at``: the ``C`` whose fit
    raises torch's CUDA out-of-memory error.
    """

    def __init__(self, C=1.0, log=None, duration=0.05, out_of_memory_at=None):
        self.C = C
        self.log = log
        self.duration = duration
        self.out_of_memory_at = out_of_memory_at

    def fit(self, X, y, **fit_params):
        start = time.time()
        if self.C == self.out_of_memory_at:
            import torch

            raise torch.cuda.OutOfMemoryError(
                "CUDA out of memory. Tried to allocate 2.00 GiB")
        time.sleep(self.duration)
        if self.log is not None:
            with open(self.log, "a") as file:
                file.write(f"{getattr(self, 'device', None)} {os.getpid()} {start} "
                           f"{time.time()}\n")
        self.classes_ = np.unique(y)
        return self

    def partial_fit(self, X, y, classes=None, **fit_params):
        return self.fit(X, y)

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def score(self, X, y):
        return -abs(np.log(self.C))


class DeviceRecorder(FitRecorder):
    """:class:`FitRecorder` with a ``device`` parameter, as skorch nets have."""

    def __init__(self, C=1.0, log=None, duration=0.05, out_of_memory_at=None, device="cpu"):
        super().__init__(C=C, log=log, duration=duration, out_of_memory_at=out_of_memory_at)
        self.device = device


def read_fit_log(path) -> list[tuple[str, int, float, float]]:
    """The ``(device, pid, start, end)`` records of :class:`FitRecorder`."""
    if not os.path.exists(path):
        return []
    with open(path) as file:
        return [(device, int(pid), float(start), float(end))
                for device, pid, start, end in (line.split() for line in file)]
