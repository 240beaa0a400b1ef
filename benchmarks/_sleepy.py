"""Estimators for ``bench_engine.py``: one that sleeps, one that does nothing.

They live in their own module so that joblib's loky workers can import them.

:class:`SleepyRegressor` stands for a model whose training time is heavy-tailed
and depends on its hyperparameters. ``fit`` sleeps for a lognormal time (median
``median_s``, log standard deviation ``sigma``, capped at ``cap_s``) drawn from a
``RandomState`` seeded with the hyperparameters and the training fold, so a
given (params, fold) always sleeps the same time, whatever tool asks for it.
``partial_fit`` sleeps ``partial_fit_share`` of that time per call, so ten calls
cost one ``fit`` at the default share. The score is a known smooth function of
the two real parameters and the categorical one; continued training approaches
it as the number of ``partial_fit`` calls grows.

The training fold is identified by the sum of column 0 of ``X``, which must hold
the row numbers (the benchmark builds ``X`` that way): each training fold of a
fixed ``KFold`` has its own sum.

Every sleep is measured and, when ``log_path`` is set, appended to that file
(one number per line, written with ``O_APPEND`` from any process), so the
benchmark knows the fit time actually spent, whatever a tool reports.
"""

from __future__ import annotations

import math
import os
import time
import zlib

import numpy as np
from sklearn.base import BaseEstimator

KIND_OFFSET = {"a": 0.0, "b": 0.15, "c": -0.15}
X0_BEST, X1_BEST = 0.3, 0.6


def quality(x0: float, x1: float, kind: str) -> float:
    """Score of a fully trained model: best (0.15) at x0=0.3, x1=0.6, kind="b"."""
    return KIND_OFFSET[kind] - (x0 - X0_BEST) ** 2 - (x1 - X1_BEST) ** 2


def _fold_key(X) -> int:
    return int(round(float(np.asarray(X)[:, 0].sum())))


def _params_key(x0: float, x1: float, kind: str) -> str:
    return f"{float(x0)!r}|{float(x1)!r}|{kind}"


class SleepyRegressor(BaseEstimator):
    """Sleeps a heavy-tailed, deterministic time per fit; known score.

    Parameters
    ----------
    x0, x1 : float, default=0.5
        Searched, in [0, 1].
    kind : {"a", "b", "c"}, default="a"
        Searched.
    median_s, sigma, cap_s : float
        The lognormal fit time: median, log standard deviation, upper cap.
    partial_fit_share : float, default=0.1
        Sleep of one ``partial_fit`` call as a share of the ``fit`` sleep.
    log_path : str or None, default=None
        File to which every sleep (seconds) is appended.
    """

    def __init__(self, x0=0.5, x1=0.5, kind="a", *, median_s=0.2, sigma=1.0, cap_s=3.0,
                 partial_fit_share=0.1, log_path=None):
        self.x0 = x0
        self.x1 = x1
        self.kind = kind
        self.median_s = median_s
        self.sigma = sigma
        self.cap_s = cap_s
        self.partial_fit_share = partial_fit_share
        self.log_path = log_path

    def fit_seconds(self, X) -> float:
        """The ``fit`` sleep for these params on this training fold."""
        key = f"{_params_key(self.x0, self.x1, self.kind)}|{_fold_key(X)}"
        rng = np.random.RandomState(zlib.crc32(key.encode()))
        return min(self.cap_s, self.median_s * math.exp(self.sigma * rng.standard_normal()))

    def _sleep(self, seconds: float) -> None:
        start = time.perf_counter()
        time.sleep(seconds)
        slept = time.perf_counter() - start
        if self.log_path is not None:
            fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, f"{slept:.6f}\n".encode())
            finally:
                os.close(fd)

    def fit(self, X, y=None):
        self._sleep(self.fit_seconds(X))
        self.n_partial_fits_ = None  # fully trained
        return self

    def partial_fit(self, X, y=None):
        self._sleep(self.partial_fit_share * self.fit_seconds(X))
        self.n_partial_fits_ = getattr(self, "n_partial_fits_", 0) or 0
        self.n_partial_fits_ += 1
        return self

    def predict(self, X):
        return np.full(len(X), self.score(X))

    def score(self, X, y=None):
        value = quality(self.x0, self.x1, self.kind)
        steps = getattr(self, "n_partial_fits_", None)
        if steps is not None:  # continued training approaches the fitted score
            value -= 0.5 * math.exp(-steps * self.partial_fit_share)
        return value


class NoopRegressor(BaseEstimator):
    """``fit`` and ``partial_fit`` return at once; the score is :func:`quality`.

    ``budget`` does nothing: it is there to be a Hyperband parameter resource.
    """

    def __init__(self, x0=0.5, x1=0.5, kind="a", budget=1):
        self.x0 = x0
        self.x1 = x1
        self.kind = kind
        self.budget = budget

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def partial_fit(self, X, y=None):
        self.fitted_ = True
        return self

    def predict(self, X):
        return np.zeros(len(X))

    def score(self, X, y=None):
        return quality(self.x0, self.x1, self.kind)
