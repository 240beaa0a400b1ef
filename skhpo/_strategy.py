"""The ask/tell interface between the shared search loop and each algorithm.

A strategy never sees estimators or data: it proposes :class:`Trial` objects and is
told one score per trial (the mean cross-validated test score of the metric that
drives the search, greater is better, NaN for a failed fit). This keeps every
algorithm unit-testable with a plain Python function as the objective.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["BatchStrategy", "Strategy", "Trial"]


@dataclass(frozen=True, eq=False)
class Trial:
    """One candidate to evaluate.

    Parameters
    ----------
    params : dict
        Estimator parameters (``set_params`` keys).
    resource : int or None
        Budget of this evaluation (Hyperband rung, PBT step count); None for a
        full from-scratch fit.
    parent : int or None
        For incremental evaluators: the id of an earlier trial whose fitted
        models this trial continues from (Hyperband promotion, PBT exploit).
    info : mapping
        Extra ``cv_results_`` columns for this trial (``generation``, ``bracket``...).

    Attributes
    ----------
    id : int
        Stable id, given by :meth:`Strategy.ask` in the order trials are asked
        (0, 1, ...); -1 before. ``cv_results_['trial_id']`` shows it and
        ``cv_results_['parent_id']`` the parent's (-1 for none).
    """

    params: dict[str, Any]
    resource: int | None = None
    parent: int | None = None
    info: Mapping[str, Any] = field(default_factory=dict)
    id: int = field(default=-1, compare=False)


class Strategy(ABC):
    """Proposes trials for free workers and learns from each finished one.

    The search loop calls :meth:`ask` with the number of workers it can keep
    busy and :meth:`tell` once per finished trial (all its folds). Subclasses
    implement :meth:`_ask` and :meth:`tell`; :meth:`ask` numbers the trials.

    Parameters
    ----------
    space : skhpo.space.Space
        The search space.
    rng : numpy.random.RandomState
        The one random state of this search; child seeds are drawn from it.
    """

    # callables into the evaluator of one ``fit`` (``release``): never saved in a
    # checkpoint, re-attached from the new fit's strategy on resume
    _TRANSIENT = ("release",)

    def __init__(self, space, rng: np.random.RandomState) -> None:
        self.space = space
        self.rng = rng
        self.n_asked = 0

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in self._TRANSIENT}

    def rebind(self, fresh: Strategy) -> None:
        """Take the transient callables of ``fresh`` (a resumed strategy has none)."""
        for name in self._TRANSIENT:
            if hasattr(fresh, name):
                setattr(self, name, getattr(fresh, name))

    def ask(self, n: int | None = None) -> list[Trial]:
        """Up to ``n`` new trials (None: as many as the algorithm wants now).

        May return fewer, or none while the algorithm waits for results; the
        search ends when nothing is asked and nothing is running.
        """
        trials = self._ask(n)
        for trial in trials:
            object.__setattr__(trial, "id", self.n_asked)
            self.n_asked += 1
        return trials

    @abstractmethod
    def _ask(self, n: int | None) -> list[Trial]:
        """The trials to start now (ids are assigned by :meth:`ask`)."""

    @abstractmethod
    def tell(self, trial_id: int, score: float) -> None:
        """Record the score of one finished trial (NaN when it failed)."""

    def tell_fit_time(self, trial_id: int, seconds: float) -> None:
        """Record the mean fit time over the folds of one finished trial.

        Called just before :meth:`tell` for the same trial. Cost-aware
        strategies model it; the others ignore it.
        """

    @property
    def max_trials(self) -> int | None:
        """Upper bound on the number of trials, if known (used for progress bars)."""
        return None


class BatchStrategy(Strategy):
    """A synchronous algorithm: one batch at a time, learned from once it is all told.

    :meth:`ask` proposes the next batch only when no trial of the previous one
    is pending (any ``n``: a batch is as large as the algorithm makes it), and
    :meth:`tell_batch` gets the whole batch's scores in the order it was asked.
    Subclasses implement :meth:`ask_batch` and :meth:`tell_batch`.
    """

    def __init__(self, space, rng: np.random.RandomState) -> None:
        super().__init__(space, rng)
        self._batch: list[Trial] = []
        self._scores: dict[int, float] = {}

    def _ask(self, n: int | None) -> list[Trial]:
        if self._batch:
            return []  # waiting for the batch in flight
        self._batch = list(self.ask_batch())
        return self._batch

    def tell(self, trial_id: int, score: float) -> None:
        self._scores[trial_id] = float(score)
        if len(self._scores) < len(self._batch):
            return
        batch, self._batch = self._batch, []
        scores, self._scores = self._scores, {}
        self.tell_batch(batch, np.array([scores[t.id] for t in batch], dtype=float))

    @abstractmethod
    def ask_batch(self) -> list[Trial]:
        """The next batch of trials; an empty list ends the search."""

    @abstractmethod
    def tell_batch(self, trials: list[Trial], scores: np.ndarray) -> None:
        """Record the scores (shape ``(len(trials),)``) of the last batch."""
