"""Search-level callbacks: called after each batch, able to stop the search.

Every searcher takes ``callbacks=``: a callable or a list of callables. A plain
callable is called as ``callback(results)`` with the ``cv_results_``-like dict of
all results so far; a :class:`SearchCallback` gets its ``on_*`` hooks called with
keyword arguments. Returning True from a callable or from
``on_iteration_end`` stops the search after the current batch.

Callbacks run in the main process only and are never sent to the joblib workers,
so they may hold what cannot be pickled (an open file, a lock, a database
connection) and may change their own state, whatever ``n_jobs`` and the backend.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = [
    "DeadlineStopper",
    "NoImprovementStopper",
    "ScoreThresholdStopper",
    "SearchCallback",
]


class SearchCallback:
    """Base class of search callbacks; all hooks take ``**kwargs`` (as skorch's)."""

    def on_search_begin(self, search, **kwargs) -> None:
        """Called once, before the first batch is evaluated."""

    def on_iteration_end(self, search, *, results, iteration, scores, **kwargs):
        """Called after each batch; return True to stop the search.

        Parameters
        ----------
        search : BaseSearchCV
            The search being fitted.
        results : dict
            All results so far, formatted as ``cv_results_``.
        iteration : int
            Index of the batch that just ended.
        scores : ndarray of shape (n_evaluated,)
            Mean test score, for the metric driving the search, of every
            evaluation so far (NaN for failed fits).
        """

    def on_search_end(self, search, *, results, **kwargs) -> None:
        """Called once, after the last batch."""

    def __call__(self, results):  # so that a callback object is a plain callable too
        return None


class DeadlineStopper(SearchCallback):
    """Stop once ``total_time`` seconds have passed since the search began."""

    def __init__(self, total_time: float) -> None:
        self.total_time = total_time

    def on_search_begin(self, search, **kwargs) -> None:
        self._start = time.perf_counter()

    def on_iteration_end(self, search, **kwargs) -> bool:
        return time.perf_counter() - self._start >= self.total_time


class ScoreThresholdStopper(SearchCallback):
    """Stop once any evaluation reaches a mean test score of ``threshold``."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def on_iteration_end(self, search, *, scores, **kwargs) -> bool:
        return bool(np.nanmax(scores, initial=-np.inf) >= self.threshold)


class NoImprovementStopper(SearchCallback):
    """Stop when the best score has not improved for ``patience`` batches.

    Parameters
    ----------
    patience : int
        Batches without an improvement of more than ``tol`` before stopping.
    tol : float, default=0.0
        Minimum improvement that resets the count.
    """

    def __init__(self, patience: int, tol: float = 0.0) -> None:
        self.patience = patience
        self.tol = tol

    def on_search_begin(self, search, **kwargs) -> None:
        self._best = -np.inf
        self._stale = 0

    def on_iteration_end(self, search, *, scores, **kwargs) -> bool:
        best = np.nanmax(scores, initial=-np.inf)
        if best > self._best + self.tol:
            self._best, self._stale = best, 0
        else:
            self._stale += 1
        return self._stale >= self.patience
