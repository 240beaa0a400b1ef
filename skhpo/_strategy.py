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

__all__ = ["Strategy", "Trial"]


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
        For incremental evaluators: the index of an earlier trial whose fitted
        models this trial continues from (Hyperband promotion, PBT exploit).
    info : mapping
        Extra ``cv_results_`` columns for this trial (``generation``, ``bracket``...).
    """

    params: dict[str, Any]
    resource: int | None = None
    parent: int | None = None
    info: Mapping[str, Any] = field(default_factory=dict)


class Strategy(ABC):
    """Proposes trials in batches and learns from their scores.

    Parameters
    ----------
    space : skhpo.space.Space
        The search space.
    rng : numpy.random.RandomState
        The one random state of this search; child seeds are drawn from it.
    """

    def __init__(self, space, rng: np.random.RandomState) -> None:
        self.space = space
        self.rng = rng

    @abstractmethod
    def ask(self) -> list[Trial]:
        """The next batch of trials; an empty list ends the search."""

    @abstractmethod
    def tell(self, trials: list[Trial], scores: np.ndarray) -> None:
        """Record the scores (shape ``(len(trials),)``) of the last batch."""

    @property
    def max_trials(self) -> int | None:
        """Upper bound on the number of trials, if known (used for progress bars)."""
        return None
