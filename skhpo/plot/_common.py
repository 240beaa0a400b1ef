"""What every Display shares: input checks, scores, resources and panel layout."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.exceptions import NotFittedError

__all__ = [
    "best_so_far",
    "check_search",
    "panel_axes",
    "resources_spent",
    "score_key",
]


def check_search(search: Any, display: str, columns: Sequence[str] = (),
                 needs: str = "", use_instead: str = "", results: dict | None = None) -> dict:
    """The ``cv_results_`` of a fitted ``search`` that has ``columns``.

    Raises NotFittedError for an unfitted search and ValueError naming the
    missing columns, what has them (``needs``) and what to use instead.
    ``results`` replaces ``search.cv_results_`` (completed by the caller).
    """
    name = type(search).__name__
    if results is None:
        results = getattr(search, "cv_results_", None)
    if results is None:
        raise NotFittedError(
            f"This {name} is not fitted yet; call fit(X, y) before "
            f"{display}.from_search."
        )
    missing = [column for column in columns if column not in results]
    if missing:
        raise ValueError(
            f"{display} needs {needs} (cv_results_ columns "
            f"{', '.join(map(repr, columns))}); the {name} given has no "
            f"{', '.join(map(repr, missing))}. {use_instead}".rstrip()
        )
    return results


def score_key(search: Any, metric: str | None = None) -> str:
    """The ``cv_results_`` key of the mean test score to plot.

    ``metric`` names a scorer of a multi-metric search; by default the ``refit``
    metric (the one the search optimized) or, for one scorer, ``"score"``.
    """
    results = search.cv_results_
    if metric is None:
        refit = getattr(search, "refit", True)
        metric = refit if isinstance(refit, str) else "score"
    key = f"mean_test_{metric}"
    if key not in results:
        metrics = sorted(k[len("mean_test_"):] for k in results if k.startswith("mean_test_"))
        raise ValueError(
            f"cv_results_ has no {key!r}; pass metric= one of {metrics}."
        )
    return key


def best_so_far(scores: np.ndarray) -> np.ndarray:
    """Running maximum of ``scores`` (shape (n,)); NaN (failed fits) never count.

    Entries before the first finite score stay NaN.
    """
    scores = np.asarray(scores, dtype=float)
    running = np.fmax.accumulate(scores) if len(scores) else scores
    return running


def resources_spent(n_resources: np.ndarray, trial_ids: np.ndarray,
                    parent_ids: np.ndarray) -> np.ndarray:
    """Resource units each row trained, shape (n,).

    A row that continued its parent's models (``parent_id`` >= 0, as in
    Hyperband on ``partial_fit`` and PBT) trained ``n_resources - n_resources of
    the parent``; a row without a parent trained ``n_resources`` from scratch.
    """
    n_resources = np.asarray(n_resources, dtype=float)
    row_of = {int(t): row for row, t in enumerate(trial_ids)}
    inherited = np.array([
        n_resources[row_of[int(p)]] if int(p) >= 0 and int(p) in row_of else 0.0
        for p in parent_ids
    ])
    return n_resources - inherited


def panel_axes(ax: Any, n_panels: int, n_cols: int = 3, panel_size: float = 3.2):
    """``(figure, axes)``: ``n_panels`` Axes in a grid of up to ``n_cols`` columns.

    ``ax`` None makes a new figure; one Axes is split into the grid (as
    scikit-learn's PartialDependenceDisplay does with its ``bounding_ax_``); a
    sequence of Axes must hold ``n_panels`` of them.
    """
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    n_cols = max(1, min(n_cols, n_panels))
    n_rows = math.ceil(n_panels / n_cols)
    if ax is None:
        figure, grid = plt.subplots(n_rows, n_cols, squeeze=False, layout="constrained",
                                    figsize=(panel_size * n_cols + 0.6, panel_size * n_rows))
        axes = grid.ravel()
        for extra in axes[n_panels:]:
            extra.remove()
        return figure, axes[:n_panels]
    if isinstance(ax, Axes):
        figure = ax.figure
        spec = ax.get_subplotspec().subgridspec(n_rows, n_cols)
        ax.remove()
        axes = np.array([figure.add_subplot(spec[i // n_cols, i % n_cols])
                         for i in range(n_panels)])
        return figure, axes
    axes = np.asarray(ax, dtype=object).ravel()
    if len(axes) != n_panels:
        raise ValueError(
            f"ax holds {len(axes)} Axes but {n_panels} panels are drawn; pass "
            f"{n_panels} Axes, one Axes (split into a grid) or None."
        )
    return axes[0].figure, axes


def single_axes(ax: Any):
    """``(figure, ax)``: ``ax``, or a new figure's one Axes when ``ax`` is None."""
    import matplotlib.pyplot as plt

    if ax is None:
        figure, ax = plt.subplots(layout="constrained")
        return figure, ax
    return ax.figure, ax
