"""ConvergenceDisplay: best score so far against evaluations, time or resources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ._common import best_so_far, check_search, resources_spent, score_key, single_axes

__all__ = ["ConvergenceDisplay"]

BEST_GID = "skhpo-best-so-far"  # marks the curves the y axis spans
X_LABELS = {
    "evaluations": "evaluations",
    "time": "wall-clock time (s)",
    "fit_time": "fit and score time spent (s, all folds)",
    "resources": "resources spent (per fold)",
}


def convergence_x(search: Any, x: str) -> np.ndarray:
    """The x value of each ``cv_results_`` row: what the search spent up to it.

    ``"evaluations"``: the row's number (1-based); ``"time"``: the wall-clock
    second of the search at which the row's trial finished (``finish_times_``);
    ``"fit_time"``: cumulative fit and score seconds, all folds together;
    ``"resources"``: cumulative resource units trained (see
    :func:`~skhpo.plot._common.resources_spent`).
    """
    results = search.cv_results_
    n_rows = len(results["params"])
    if x == "evaluations":
        return np.arange(1, n_rows + 1, dtype=float)
    if x == "time":
        finish_times = getattr(search, "finish_times_", None)
        if finish_times is None:
            raise ValueError(
                "ConvergenceDisplay(x='time') needs a search that records when each "
                f"trial finished (finish_times_: any skhpo searcher); the "
                f"{type(search).__name__} given has none. Use x='fit_time' (fit and "
                "score time summed) for it.")
        return np.asarray(finish_times, dtype=float)
    if x == "fit_time":
        n_splits = getattr(search, "n_splits_", 1)
        seconds = (np.asarray(results["mean_fit_time"], dtype=float)
                   + np.asarray(results["mean_score_time"], dtype=float)) * n_splits
        return np.cumsum(seconds)
    if x == "resources":
        check_search(
            search, "ConvergenceDisplay(x='resources')", ["n_resources"],
            needs="a search that records resources (Hyperband, PBT, Halving)",
            use_instead="Use x='evaluations' or x='fit_time' for it.",
        )
        no_parent = np.full(n_rows, -1)
        spent = resources_spent(results["n_resources"],
                                results.get("trial_id", np.arange(n_rows)),
                                results.get("parent_id", no_parent))
        return np.cumsum(spent)
    raise ValueError(
        f"x={x!r} is not one of {sorted(X_LABELS)}."
    )


class ConvergenceDisplay:
    """Best mean test score so far against what the search spent.

    Each search is one curve: the running best score (a step line) and every
    trial's score (points of the same color), against the number of
    evaluations, the wall-clock time, the fit and score time, or the resources
    (epochs, samples) spent. Several searches share one axes for comparison. The y axis spans
    the best-so-far curves, so trials scoring far below them are off the axes
    (``points_`` holds them all). Build it with :meth:`from_search` or
    :meth:`from_searches`.

    Parameters
    ----------
    x_values : list of ndarray
        For each search, the x value of each of its trials.
    scores : list of ndarray
        For each search, the mean test score of each trial; the curves follow
        the trials in increasing ``x_values``.
    names : list of str or None
        Legend label of each search.
    x : {"evaluations", "time", "fit_time", "resources"}, default="evaluations"
        What ``x_values`` count; sets the x label.
    score_name : str, default="score"
        The metric, for the y label.

    Attributes
    ----------
    best_scores : list of ndarray
        Running maximum of each search's scores (NaN scores never count).
    lines_ : list of matplotlib Line2D
        The best-so-far line of each search.
    points_ : list of matplotlib PathCollection
        The trial scores of each search.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    ParameterDisplay : Score against each parameter.

    Notes
    -----
    ``"time"`` is the wall clock of the search: an skhpo searcher's
    ``finish_times_`` (seconds from the start of ``fit`` to each
    ``cv_results_`` row's last fold, resumed runs counted on). scikit-learn's searches record
    no such time; for them, and to compare searches run with different
    ``n_jobs``, ``"fit_time"`` sums ``(mean_fit_time + mean_score_time) *
    n_splits_`` over the trials: the compute time spent, which is the wall
    time of a one-worker search without its overhead. ``"resources"`` counts each trial's resource units once per
    fold: ``n_resources`` for a trial trained from scratch, the steps added to
    its parent's for a continued one (Hyperband on ``partial_fit``, PBT).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skhpo import BayesSearchCV, Real
    >>> from skhpo.plot import ConvergenceDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> search = BayesSearchCV(LogisticRegression(max_iter=500),
    ...                        {"C": Real(1e-2, 1e2, prior="log-uniform")},
    ...                        n_iter=4, n_initial_points=2, n_points=2, cv=3,
    ...                        random_state=0).fit(X, y)
    >>> display = ConvergenceDisplay.from_search(search, name="Bayes")
    >>> len(display.lines_[0].get_xdata())
    4
    """

    def __init__(self, *, x_values, scores, names, x="evaluations", score_name="score"):
        # a batch's trials are told in id order, not in the order they finished
        orders = [np.argsort(np.asarray(v, dtype=float), kind="stable") for v in x_values]
        self.x_values = [np.asarray(v, dtype=float)[o] for v, o in zip(x_values, orders)]
        self.scores = [np.asarray(s, dtype=float)[o] for s, o in zip(scores, orders)]
        self.names = list(names)
        self.x = x
        self.score_name = score_name
        self.best_scores = [best_so_far(s) for s in self.scores]

    def plot(self, ax=None, *, show_trials=True, **line_kwargs):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on (other curves there stay); None makes a figure.
        show_trials : bool, default=True
            Also draw every trial's score as a point.
        **line_kwargs : dict
            Passed to ``Axes.plot`` for every best-so-far line (``color``,
            ``linestyle``, ...).

        Returns
        -------
        self : ConvergenceDisplay
        """
        self.figure_, self.ax_ = single_axes(ax)
        self.lines_, self.points_ = [], []
        for x_values, scores, best, name in zip(self.x_values, self.scores,
                                                self.best_scores, self.names):
            (line,) = self.ax_.plot(x_values, best, **{
                "drawstyle": "steps-post", "label": name, **line_kwargs, "gid": BEST_GID})
            self.lines_.append(line)
            if show_trials:
                self.points_.append(self.ax_.scatter(
                    x_values, scores, s=12, alpha=0.4, color=line.get_color()))
        self._focus_on_best()
        self.ax_.set_xlabel(X_LABELS[self.x])
        self.ax_.set_ylabel(f"best {self.score_name} so far")
        if any(name is not None for name in self.names):
            self.ax_.legend(loc="lower right")
        return self

    def _focus_on_best(self):
        # early bad trials (a failing fit scores at chance) would squash the
        # best-so-far curves into a line at the top; the axis spans the curves,
        # those drawn earlier on the same axes included
        curves = np.concatenate([np.asarray(line.get_ydata(), dtype=float)
                                 for line in self.ax_.get_lines() if line.get_gid() == BEST_GID])
        curves = curves[np.isfinite(curves)]
        if not len(curves):
            return
        bottom, top = curves.min(), curves.max()
        margin = 0.1 * (top - bottom) or 0.05 * max(abs(top), 1e-3)
        self.ax_.set_ylim(bottom - margin, top + margin)

    @classmethod
    def from_search(cls, search, *, x="evaluations", name=None, metric=None, ax=None,
                    show_trials=True, **line_kwargs):
        """Plot one fitted search (any skhpo searcher, GridSearchCV, ...).

        Parameters
        ----------
        search : fitted search estimator
            Any estimator with ``cv_results_``.
        x : {"evaluations", "time", "fit_time", "resources"}, default="evaluations"
            ``"time"`` needs ``finish_times_`` (skhpo searchers);
            ``"resources"`` needs an ``n_resources`` column (Hyperband, PBT,
            scikit-learn's Halving searches).
        name : str, default=None
            Legend label.
        metric : str, default=None
            Scorer of a multi-metric search; default: the ``refit`` metric.
        ax : matplotlib Axes, default=None
            Draw on these axes, next to what is there (to compare searches).
        show_trials : bool, default=True
            Also draw every trial's score as a point.
        **line_kwargs : dict
            Passed to ``Axes.plot`` for the best-so-far line.

        Returns
        -------
        display : ConvergenceDisplay
        """
        return cls.from_searches({name: search}, x=x, metric=metric, ax=ax,
                                 show_trials=show_trials, **line_kwargs)

    @classmethod
    def from_searches(cls, searches, *, x="evaluations", metric=None, ax=None,
                      show_trials=True, **line_kwargs):
        """Plot several fitted searches on one axes.

        Parameters
        ----------
        searches : dict of str to search, or list of searches
            The searches; dict keys are legend labels (a list is labelled by
            class name).
        x, metric, ax, show_trials, **line_kwargs
            As in :meth:`from_search`.

        Returns
        -------
        display : ConvergenceDisplay
        """
        if not isinstance(searches, Mapping):
            searches = {type(s).__name__: s for s in searches}
        x_values, scores = [], []
        for search in searches.values():
            results = check_search(search, "ConvergenceDisplay")
            x_values.append(convergence_x(search, x))
            scores.append(np.asarray(results[score_key(search, metric)], dtype=float))
        display = cls(x_values=x_values, scores=scores, names=list(searches), x=x,
                      score_name=score_key(next(iter(searches.values())), metric)[10:])
        return display.plot(ax=ax, show_trials=show_trials, **line_kwargs)
