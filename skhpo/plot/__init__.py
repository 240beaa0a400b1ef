"""Plots of fitted searches, following scikit-learn's visualization API.

Each Display is built with ``XxxDisplay.from_search(search, ...)``, which
computes what to draw from a fitted searcher and calls ``plot``; ``plot(ax=...)``
draws it again on other axes. A Display keeps what it computed as attributes
and what it drew as ``figure_`` and ``ax_`` (or ``axes_`` for several panels).

matplotlib is an optional dependency: ``pip install skhpo[plot]``.
"""

from __future__ import annotations

try:
    import matplotlib  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "skhpo.plot needs matplotlib, which is not installed; install it with "
        "`pip install skhpo[plot]` (or `pip install matplotlib`)."
    ) from error

from ._convergence import ConvergenceDisplay
from ._generation import GenerationDisplay
from ._parameter import ParameterDisplay
from ._rung import RungDisplay
from ._schedule import ScheduleDisplay

__all__ = [
    "ConvergenceDisplay",
    "GenerationDisplay",
    "ParameterDisplay",
    "RungDisplay",
    "ScheduleDisplay",
]
