"""ScheduleDisplay: PBT's lineage and its hyperparameter schedules."""

from __future__ import annotations

import numpy as np

from ..space import Categorical
from ._common import check_search, panel_axes, score_key
from ._parameter import axis_scale, search_space, _dimension

__all__ = ["ScheduleDisplay", "lineage_segments"]

PBT_COLUMNS = ("member", "n_resources", "trial_id", "parent_id")


def lineage_segments(results: dict) -> tuple[list, list, list]:
    """Segments ``((step0, member0), (step1, member1))`` of a PBT lineage.

    Each ``cv_results_`` row trained its member from its parent's step (0 for
    a row without a parent) to its ``n_resources``. Returns the segments of
    rows that continued their own member's models, those of rows that copied
    another member's (exploit), and the rows of the best row's ancestry (best
    row last), given ``results["best_index"]``.
    """
    members = np.asarray(results["member"])
    steps = np.asarray(results["n_resources"], dtype=float)
    row_of = {int(t): row for row, t in enumerate(results["trial_id"])}
    parents = [row_of.get(int(p), -1) for p in results["parent_id"]]
    continued, copied = [], []
    for row, parent in enumerate(parents):
        if parent < 0:
            continued.append(((0.0, members[row]), (steps[row], members[row])))
        else:
            segment = ((steps[parent], members[parent]), (steps[row], members[row]))
            (copied if members[parent] != members[row] else continued).append(segment)
    ancestry = [int(results["best_index"])]
    while parents[ancestry[0]] >= 0:
        ancestry.insert(0, parents[ancestry[0]])
    return continued, copied, ancestry


def schedule_curve(schedule: list, name: str, end: float) -> tuple[list, list]:
    """Steps and values of one parameter along a ``(step, params)`` schedule, to ``end``."""
    steps = [float(step) for step, params in schedule if name in params]
    values = [params[name] for step, params in schedule if name in params]
    if values:
        steps.append(float(end))
        values.append(values[-1])
    return steps, values


class ScheduleDisplay:
    """PBT: who copied whom, and each mutable hyperparameter's schedule.

    The first panel is the lineage: each member is a row, each trial a point
    at the step it trained to (colored by score); grey segments continue a
    member's own models and red dashed ones are exploits (a member copying
    another's models), the best member's ancestry in black. Then one panel per
    mutable hyperparameter: every member's schedule (grey) and the best
    member's (black, inherited history included). Build it with
    :meth:`from_search`.

    Parameters
    ----------
    continued, copied : list of tuple
        Lineage segments ``((step0, member0), (step1, member1))``.
    points : ndarray of shape (n_trials, 3)
        ``(step, member, score)`` of each trial.
    ancestry : ndarray of shape (n, 2)
        ``(step, member)`` along the best trial's ancestry.
    schedules : dict of str to list of tuple
        For each mutable parameter, each member's ``(steps, values)``.
    best_schedules : dict of str to tuple
        For each mutable parameter, the best member's ``(steps, values)``.
    scales : dict of str to {"log", "linear", "category"}
        Each parameter's axis.
    categories : dict of str to list, default=None
        The order of a categorical parameter's values on its axis (default:
        the order they first appear in ``schedules``).
    score_name : str, default="score"
        The metric, for the color bar.

    Attributes
    ----------
    continued_ : matplotlib LineCollection
    copied_ : matplotlib LineCollection
        One segment per exploit.
    ancestry_line_ : matplotlib Line2D
    schedule_lines_ : dict of str to list of matplotlib Line2D
        Each member's schedule, per parameter.
    best_schedule_lines_ : dict of str to matplotlib Line2D
    axes_ : ndarray of matplotlib Axes
        The lineage panel, then one per mutable parameter.
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import SGDClassifier
    >>> from skhpo import PBTSearchCV, Real
    >>> from skhpo.plot import ScheduleDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> search = PBTSearchCV(SGDClassifier(random_state=0),
    ...                      {"alpha": Real(1e-5, 1e-1, prior="log-uniform")},
    ...                      population_size=4, max_resources=6,
    ...                      perturbation_interval=2, cv=3, random_state=0).fit(X, y)
    >>> display = ScheduleDisplay.from_search(search)
    >>> [panel.get_title() for panel in display.axes_]
    ['lineage', 'alpha']
    """

    def __init__(self, *, continued, copied, points, ancestry, schedules, best_schedules,
                 scales, categories=None, score_name="score"):
        self.continued = continued
        self.copied = copied
        self.points = np.asarray(points, dtype=float)
        self.ancestry = np.asarray(ancestry, dtype=float)
        self.schedules = schedules
        self.best_schedules = best_schedules
        self.scales = scales
        self.categories = categories or {}
        self.score_name = score_name

    def plot(self, ax=None, *, n_cols=3):
        """Draw the lineage and the schedules.

        Parameters
        ----------
        ax : matplotlib Axes or array of Axes, default=None
            One Axes is split into the panels; an array gives one Axes per
            panel; None makes a figure.
        n_cols : int, default=3
            Panels per row.

        Returns
        -------
        self : ScheduleDisplay
        """
        from matplotlib.collections import LineCollection

        names = list(self.schedules)
        self.figure_, self.axes_ = panel_axes(ax, 1 + len(names), n_cols)
        lineage = self.axes_[0]
        self.continued_ = lineage.add_collection(
            LineCollection(self.continued, colors="0.6", linewidths=1))
        self.copied_ = lineage.add_collection(
            LineCollection(self.copied, colors="C3", linestyles="--", linewidths=1.2,
                           label="copied (exploit)"))
        (self.ancestry_line_,) = lineage.plot(self.ancestry[:, 0], self.ancestry[:, 1],
                                              color="black", lw=2, label="best's ancestry")
        points = lineage.scatter(self.points[:, 0], self.points[:, 1], c=self.points[:, 2],
                                 cmap="viridis", s=30, zorder=3)
        self.figure_.colorbar(points, ax=lineage, label=f"mean test {self.score_name}")
        lineage.set_yticks(np.unique(self.points[:, 1]))
        lineage.set_xlabel("step")
        lineage.set_ylabel("member")
        lineage.set_title("lineage")
        lineage.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.2),
                       ncol=2)
        self.schedule_lines_, self.best_schedule_lines_ = {}, {}
        for name, panel in zip(names, self.axes_[1:]):
            categories = self._categories(name)
            self.schedule_lines_[name] = [
                panel.plot(steps, self._positions(values, categories), drawstyle="steps-post",
                           color="0.6", lw=1)[0]
                for steps, values in self.schedules[name]]
            steps, values = self.best_schedules[name]
            (self.best_schedule_lines_[name],) = panel.plot(
                steps, self._positions(values, categories), drawstyle="steps-post",
                color="black", lw=2, label="best member")
            if categories is None:
                panel.set_yscale(self.scales[name])
            else:
                labels = [str(value) for value in self._category_values(name)]
                panel.set_yticks(range(len(labels)), labels)
                panel.set_ylim(-0.5, len(labels) - 0.5)
            panel.set_title(name)
            panel.set_xlabel("step")
            panel.set_ylabel(name)
        return self

    def _category_values(self, name: str) -> list:
        values = list(self.categories.get(name, []))
        values += [v for _, vs in self.schedules[name] for v in vs]
        return list({repr(v): v for v in values}.values())

    def _categories(self, name: str) -> list[str] | None:
        if self.scales[name] != "category":
            return None
        return [repr(v) for v in self._category_values(name)]

    @staticmethod
    def _positions(values: list, categories: list[str] | None) -> list:
        return values if categories is None else [categories.index(repr(v)) for v in values]

    @classmethod
    def from_search(cls, search, *, metric=None, ax=None, n_cols=3):
        """Plot a fitted :class:`~skhpo.PBTSearchCV`.

        Parameters
        ----------
        search : fitted PBTSearchCV
        metric : str, default=None
            Scorer of a multi-metric search; default: the ``refit`` metric.
        ax : matplotlib Axes or array of Axes, default=None
            See :meth:`plot`.
        n_cols : int, default=3
            Panels per row.

        Returns
        -------
        display : ScheduleDisplay
        """
        results = check_search(
            search, "ScheduleDisplay", PBT_COLUMNS, needs="a fitted PBTSearchCV",
            use_instead="Use RungDisplay for a HyperbandSearchCV, GenerationDisplay "
            "for a GeneticSearchCV, ConvergenceDisplay for any search.",
        )
        key = score_key(search, metric)
        scores = np.asarray(results[key], dtype=float)
        best_index = getattr(search, "best_index_", None)
        if best_index is None:
            best_index = int(np.nanargmax(scores))
        continued, copied, ancestry = lineage_segments({**results, "best_index": best_index})
        steps = np.asarray(results["n_resources"], dtype=float)
        members = np.asarray(results["member"], dtype=float)
        end = steps.max()
        space = search_space(search)
        schedules, best_schedules, scales, categories = {}, {}, {}, {}
        for name in getattr(search, "mutable_params_", []):
            schedules[name] = [schedule_curve(s, name, end) for s in search.schedules_]
            best_schedules[name] = schedule_curve(search.best_schedule_, name, end)
            values = [v for _, vs in schedules[name] for v in vs]
            dim = _dimension(space, name)
            scales[name] = axis_scale(dim, values)
            if isinstance(dim, Categorical):
                categories[name] = dim.grid()
        display = cls(
            continued=continued, copied=copied,
            points=np.column_stack([steps, members, scores]),
            ancestry=[(0.0, members[ancestry[0]])]
            + [(steps[row], members[row]) for row in ancestry],
            schedules=schedules, best_schedules=best_schedules, scales=scales,
            categories=categories, score_name=key[len("mean_test_"):])
        return display.plot(ax=ax, n_cols=n_cols)
