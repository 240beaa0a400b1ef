"""The search history: every finished trial, its fold results, and ``cv_results_``.

One :class:`SearchHistory` per ``fit`` owns every told result. Rows are added
once, in the order trials are told, and the per-trial score that drives the
search is computed when the trial is added, so a search of ``n`` trials does
``O(n)`` work here; ``cv_results_`` is formatted by scikit-learn's
``_format_results`` only when it is read (once at the end, or when a callback
asks for it).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from ._strategy import Trial

__all__ = ["SearchHistory", "mean_fit_time", "trial_score"]


def trial_score(outs: list[dict], metric: str | None) -> float:
    """Mean test score of one trial over its folds (NaN if any fold failed).

    ``metric`` names the scorer of a multi-metric search; None for one scorer.
    """
    values = []
    for out in outs:
        scores = out["test_scores"]
        value = scores[metric] if isinstance(scores, dict) else scores
        values.append(float(value) if value is not None else np.nan)
    return float(np.mean(values)) if values else np.nan


def mean_fit_time(outs: list[dict]) -> float:
    """Mean fit time of one trial over its folds in seconds, ``mean_fit_time`` of
    ``cv_results_`` (NaN if no fold reports one)."""
    times = [float(out["fit_time"]) for out in outs if out.get("fit_time") is not None]
    return float(np.mean(times)) if times else np.nan


class SearchHistory:
    """All finished trials of one ``fit``, in the order they were told.

    Attributes
    ----------
    trials : list of Trial
        One per ``cv_results_`` row.
    out : list of dict
        ``_fit_and_score``-style result dicts, ``n_splits`` per trial, trial-major.
    more_results : dict of list
        Extra ``cv_results_`` columns: ``iteration``, ``trial_id``, ``parent_id``
        and the strategies' own (``Trial.info``); a column that first appears
        after some rows is padded with -1 for them.
    scores : list of float
        The driving metric's mean test score of each row.
    finish_times : list of float
        The wall-clock second of the search at which each row's trial finished.
    """

    def __init__(self) -> None:
        self.trials: list[Trial] = []
        self.out: list[dict] = []
        self.more_results: dict[str, list] = defaultdict(list)
        self.scores: list[float] = []
        # not a cv_results_ column: two fits of one search must give equal
        # cv_results_ but for scikit-learn's four timing keys
        self.finish_times: list[float] = []

    def __len__(self) -> int:
        return len(self.trials)

    def add(self, trial: Trial, outs: list[dict], iteration: int, score: float,
            finish_time: float = np.nan) -> None:
        """Record one finished trial: its fold results and its driving score.

        ``finish_time`` is the wall-clock second of the search (counted across
        resumed runs) at which the trial's last fold came back.
        """
        n_before = len(self.trials)
        self.trials.append(trial)
        self.out.extend(outs)
        self.scores.append(score)
        self.finish_times.append(finish_time)
        columns: dict[str, Any] = {
            "iteration": iteration,
            "trial_id": trial.id,
            "parent_id": -1 if trial.parent is None else trial.parent,
            **trial.info,
        }
        for key in set(self.more_results) | set(columns):
            column = self.more_results[key]
            column.extend([-1] * (n_before - len(column)))
            column.append(columns.get(key, -1))

    @property
    def n_iterations(self) -> int:
        iterations = self.more_results["iteration"]
        return max(iterations) + 1 if iterations else 0

    def by_id(self) -> dict[int, Trial]:
        """The finished trials by id."""
        return {trial.id: trial for trial in self.trials}
