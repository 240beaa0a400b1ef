"""RungDisplay: Hyperband's trials against their resource, one panel per bracket."""

from __future__ import annotations

import numpy as np

from ._common import check_search, panel_axes, score_key

__all__ = ["RungDisplay", "promotion_paths"]

RUNG_COLUMNS = ("bracket", "iter", "n_resources")


def promotion_paths(results: dict) -> list[list[int]]:
    """The ``cv_results_`` rows of each candidate, rung by rung.

    A row continues the row its ``parent_id`` names (models continued on
    ``partial_fit``); without a parent, a row at rung ``iter > 0`` continues
    the row of the same bracket, one rung lower, with equal ``params`` (a
    candidate retrained on a larger subsample). Returns one list of rows per
    candidate, lowest rung first.
    """
    brackets, rungs = np.asarray(results["bracket"]), np.asarray(results["iter"])
    n_rows = len(brackets)
    trial_ids = np.asarray(results.get("trial_id", np.arange(n_rows)))
    parent_ids = np.asarray(results.get("parent_id", np.full(n_rows, -1)))
    row_of = {int(t): row for row, t in enumerate(trial_ids)}
    previous = np.full(n_rows, -1)
    taken: set[int] = set()
    for row in np.argsort(rungs, kind="stable"):
        parent = row_of.get(int(parent_ids[row]), -1)
        if parent < 0 and rungs[row] > 0:
            for other in range(n_rows):
                if (other not in taken and brackets[other] == brackets[row]
                        and rungs[other] == rungs[row] - 1
                        and results["params"][other] == results["params"][row]):
                    parent = other
                    break
        if parent >= 0:
            previous[row] = parent
            taken.add(parent)
    paths = []
    for row in range(n_rows):
        if row in taken:
            continue  # not a candidate's last rung
        path = [row]
        while previous[path[0]] >= 0:
            path.insert(0, int(previous[path[0]]))
        paths.append(path)
    return sorted(paths, key=lambda path: path[0])


class RungDisplay:
    """Hyperband: each trial's score against its resource, one panel per bracket.

    Every evaluated (candidate, rung) is a point; a candidate promoted to
    higher rungs is a line through its rungs, so the panel shows which
    candidates survived each halving and how their scores changed with more
    resource; a red cross marks where a candidate was stopped below its
    bracket's top rung. All panels share the resource axis (log scale).
    Build it with :meth:`from_search`.

    Parameters
    ----------
    brackets : list of int
        The brackets, one panel each.
    paths : dict of int to list of tuple
        For each bracket, each candidate's ``(n_resources, score)`` rung by rung.
    resource : str, default="resource"
        The resource's name, for the x label.
    score_name : str, default="score"
        The metric, for the y labels.

    Attributes
    ----------
    promotion_lines_ : dict of int to list of matplotlib Line2D
        For each bracket, one line per promoted candidate.
    points_ : dict of int to matplotlib PathCollection
        For each bracket, every evaluated (candidate, rung).
    axes_ : ndarray of matplotlib Axes
        One per bracket.
    figure_ : matplotlib Figure

    See Also
    --------
    ConvergenceDisplay : Best score so far against resources spent.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import SGDClassifier
    >>> from skhpo import HyperbandSearchCV, Real
    >>> from skhpo.plot import RungDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> search = HyperbandSearchCV(SGDClassifier(random_state=0),
    ...                            {"alpha": Real(1e-5, 1e-1, prior="log-uniform")},
    ...                            resource="partial_fit", max_resources=9, factor=3,
    ...                            cv=3, random_state=0).fit(X, y)
    >>> display = RungDisplay.from_search(search)
    >>> len(display.axes_)  # one panel per bracket
    3
    """

    def __init__(self, *, brackets, paths, resource="resource", score_name="score"):
        self.brackets = list(brackets)
        self.paths = paths
        self.resource = resource
        self.score_name = score_name

    def plot(self, ax=None, *, n_cols=3):
        """Draw one panel per bracket.

        Parameters
        ----------
        ax : matplotlib Axes or array of Axes, default=None
            One Axes is split into the panels; an array gives one Axes per
            bracket; None makes a figure.
        n_cols : int, default=3
            Panels per row.

        Returns
        -------
        self : RungDisplay
        """
        from matplotlib.ticker import NullFormatter, ScalarFormatter

        self.figure_, self.axes_ = panel_axes(ax, len(self.brackets), n_cols)
        self.promotion_lines_, self.points_ = {}, {}
        all_resources = sorted({r for paths in self.paths.values()
                                for path in paths for r, _ in path})
        for i, (bracket, panel) in enumerate(zip(self.brackets, self.axes_)):
            lines = []
            for path in self.paths[bracket]:
                if len(path) > 1:
                    resources, scores = zip(*path)
                    (line,) = panel.plot(resources, scores, color="C0", alpha=0.6)
                    lines.append(line)
            self.promotion_lines_[bracket] = lines
            points = np.array([point for path in self.paths[bracket] for point in path])
            top = points[:, 0].max()
            # a candidate whose last rung is below the bracket's top was eliminated there
            stopped = np.array([path[-1] for path in self.paths[bracket] if path[-1][0] < top])
            self.points_[bracket] = panel.scatter(points[:, 0], points[:, 1], s=16,
                                                  color="C0", zorder=3, label="evaluated")
            if len(stopped):
                panel.scatter(stopped[:, 0], stopped[:, 1], s=30, marker="x", color="C3",
                              zorder=4, label="stopped here")
            panel.set_xscale("log")
            panel.set_xticks(all_resources)
            panel.xaxis.set_major_formatter(ScalarFormatter())
            panel.xaxis.set_minor_formatter(NullFormatter())
            panel.set_xlim(all_resources[0] / 1.5, all_resources[-1] * 1.5)
            panel.set_title(f"bracket {bracket}")
            panel.set_xlabel(f"{self.resource} (per trial)")
            if i % n_cols == 0:
                panel.set_ylabel(f"mean test {self.score_name}")
        self.axes_[0].legend(fontsize="small")
        return self

    @classmethod
    def from_search(cls, search, *, metric=None, ax=None, n_cols=3):
        """Plot a fitted :class:`~skhpo.HyperbandSearchCV`.

        Parameters
        ----------
        search : fitted HyperbandSearchCV
            Or any search with ``bracket``, ``iter`` and ``n_resources``
            columns in ``cv_results_``; scikit-learn's HalvingGridSearchCV and
            HalvingRandomSearchCV (no ``bracket``) are one bracket.
        metric : str, default=None
            Scorer of a multi-metric search; default: the ``refit`` metric.
        ax : matplotlib Axes or array of Axes, default=None
            See :meth:`plot`.
        n_cols : int, default=3
            Panels per row.

        Returns
        -------
        display : RungDisplay
        """
        results = getattr(search, "cv_results_", None)
        halving = results is not None and "bracket" not in results \
            and {"iter", "n_resources"} <= set(results)
        if halving:
            # scikit-learn's successive halving: one bracket
            results = {**results, "bracket": np.zeros(len(results["iter"]), dtype=int)}
        results = check_search(
            search, "RungDisplay", RUNG_COLUMNS, needs="a fitted HyperbandSearchCV",
            use_instead="Use ConvergenceDisplay or ParameterDisplay for it"
            + (", or GenerationDisplay for a GeneticSearchCV."
               if "generation" in getattr(search, "cv_results_", {}) else "."),
            results=results,
        )
        key = score_key(search, metric)
        scores = np.asarray(results[key], dtype=float)
        resources = np.asarray(results["n_resources"], dtype=float)
        brackets = sorted({int(b) for b in results["bracket"]})
        paths = {b: [] for b in brackets}
        for path in promotion_paths(results):
            paths[int(results["bracket"][path[0]])].append(
                [(resources[row], scores[row]) for row in path])
        display = cls(brackets=brackets, paths=paths,
                      resource=getattr(search, "resource_",
                                       getattr(search, "resource", "resource")),
                      score_name=key[len("mean_test_"):])
        return display.plot(ax=ax, n_cols=n_cols)
