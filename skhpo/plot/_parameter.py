"""ParameterDisplay: score against each parameter, with BayesSearchCV's surrogate."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..space import Categorical, Constant, Dimension, Integer, Real, ScipyDimension, Space
from ._common import check_search, panel_axes, score_key
from ._surrogate import fit_surrogate, partial_dependence

__all__ = ["ParameterDisplay"]

LOG_RATIO = 100.0  # numeric candidates spanning this ratio (all > 0) get a log axis


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def axis_scale(dim: Dimension | None, values: list) -> str:
    """``"log"``, ``"linear"`` or ``"category"`` for a parameter.

    Log priors (``Real``/``Integer`` with ``prior="log-uniform"``, scipy's
    ``loguniform``) give ``"log"``. Numeric candidate lists (GridSearchCV
    grids) are numbers, on a log axis when all are positive and span a ratio of
    at least ``LOG_RATIO``; anything else is a category.
    """
    if isinstance(dim, (Real, Integer)):
        return "log" if dim.prior == "log-uniform" else "linear"
    if isinstance(dim, ScipyDimension):
        name = getattr(getattr(dim.distribution, "dist", None), "name", "")
        return "log" if name in ("loguniform", "reciprocal") else "linear"
    candidates = dim.grid() if isinstance(dim, Categorical) else values
    if not candidates or not all(_is_number(v) for v in candidates):
        return "category"
    low, high = min(candidates), max(candidates)
    return "log" if low > 0 and high / low >= LOG_RATIO else "linear"


def search_space(search: Any) -> Space | None:
    """The search's space: ``search_spaces``, ``param_grid`` or ``param_distributions``."""
    for attribute in ("search_spaces", "param_grid", "param_distributions"):
        spaces = getattr(search, attribute, None)
        if spaces is not None:
            try:
                return Space(spaces)
            except (ValueError, TypeError):
                return None
    return None


def _dimension(space: Space | None, name: str) -> Dimension | None:
    for sub in space.subspaces if space is not None else ():
        if name in sub:
            return sub[name]
    return None


class ParameterDisplay:
    """Mean test score against each searched parameter, one panel each.

    Every trial is a point; the best one is a red star. Log priors get log
    axes and categorical parameters their categories as ticks. For a
    :class:`~skhpo.BayesSearchCV` the Gaussian-process surrogate's partial
    dependence (its mean averaged over random values of the other parameters,
    as ``skopt.plots.plot_objective`` draws it, or a slice through the best
    point) is a line with its 95% band; the y axis follows the trials and the
    mean, so a band that widens far from the trials runs off the axes.
    Build it with :meth:`from_search`.

    Parameters
    ----------
    names : list of str
        The parameters, one panel each.
    values : dict of str to list
        Each parameter's value in each trial that has it.
    scores : dict of str to ndarray
        The matching mean test scores.
    scales : dict of str to {"log", "linear", "category"}
        Each parameter's axis.
    best : dict of str to tuple
        ``(value, score)`` of the best trial, for each parameter it has.
    surrogate : dict of str to tuple, default=None
        ``(values, mean, lower, upper)`` of the surrogate's partial dependence.
    score_name : str, default="score"
        The metric, for the y labels.

    Attributes
    ----------
    points_ : dict of str to matplotlib PathCollection
        The trial points of each panel.
    surrogate_lines_ : dict of str to matplotlib Line2D
        The surrogate's mean of each panel (empty without a surrogate).
    axes_ : ndarray of matplotlib Axes
        One per parameter.
    figure_ : matplotlib Figure

    See Also
    --------
    ConvergenceDisplay : Best score so far against what the search spent.

    Notes
    -----
    The surrogate is fitted anew on every told point with the search's own
    transform of the scores (Yeo-Johnson warp, standardization), starting from
    the search's last kernel; its mean and band are mapped back to scores. A
    search over a list of spaces (a union) is drawn without the surrogate.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skhpo import BayesSearchCV, Real
    >>> from skhpo.plot import ParameterDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> search = BayesSearchCV(LogisticRegression(max_iter=500),
    ...                        {"C": Real(1e-2, 1e2, prior="log-uniform")},
    ...                        n_iter=4, n_initial_points=2, n_points=2, cv=3,
    ...                        random_state=0).fit(X, y)
    >>> display = ParameterDisplay.from_search(search)
    >>> display.axes_[0].get_xscale()
    'log'
    """

    def __init__(self, *, names, values, scores, scales, best, surrogate=None,
                 score_name="score"):
        self.names = list(names)
        self.values = values
        self.scores = scores
        self.scales = scales
        self.best = best
        self.surrogate = surrogate or {}
        self.score_name = score_name

    def _positions(self, name: str, values: list) -> np.ndarray:
        if self.scales[name] != "category":
            return np.asarray(values, dtype=float)
        return np.array([self._categories(name).index(repr(v)) for v in values], dtype=float)

    def _category_values(self, name: str) -> list:
        seen = list(self.surrogate.get(name, ([],))[0]) + list(self.values[name])
        return list({repr(v): v for v in seen}.values())

    def _categories(self, name: str) -> list[str]:
        return [repr(v) for v in self._category_values(name)]

    def plot(self, ax=None, *, n_cols=3):
        """Draw one panel per parameter.

        Parameters
        ----------
        ax : matplotlib Axes or array of Axes, default=None
            One Axes is split into the panels; an array gives one Axes per
            parameter; None makes a figure.
        n_cols : int, default=3
            Panels per row.

        Returns
        -------
        self : ParameterDisplay
        """
        self.figure_, self.axes_ = panel_axes(ax, len(self.names), n_cols)
        self.points_, self.surrogate_lines_ = {}, {}
        for i, (name, panel) in enumerate(zip(self.names, self.axes_)):
            category = self.scales[name] == "category"
            shown = list(self.scores[name])
            if name in self.surrogate:
                values, mean, lower, upper = self.surrogate[name]
                x = self._positions(name, values)
                shown += list(mean)
                if category:
                    (self.surrogate_lines_[name],) = panel.plot(
                        x, mean, ls="none", marker="D", color="C1", label="surrogate mean")
                    panel.vlines(x, lower, upper, color="C1", alpha=0.3, lw=8,
                                 label="95% band")
                else:
                    (self.surrogate_lines_[name],) = panel.plot(
                        x, mean, color="C1", label="surrogate mean")
                    panel.fill_between(x, lower, upper, color="C1", alpha=0.2,
                                       label="95% band")
            self.points_[name] = panel.scatter(
                self._positions(name, self.values[name]), self.scores[name], s=16,
                color="C0", alpha=0.7, label="trials")
            if name in self.best:
                value, score = self.best[name]
                panel.scatter(self._positions(name, [value]), [score], marker="*",
                              s=120, color="red", zorder=3, label="best")
            if category:
                labels = [str(v) for v in self._category_values(name)]
                panel.set_xticks(range(len(labels)), labels,
                                 rotation=30 if len(labels) > 3 else 0)
                panel.set_xlim(-0.5, len(labels) - 0.5)
            else:
                panel.set_xscale(self.scales[name])
            if shown:
                # the band may run far beyond the scores where the surrogate knows
                # little; the axis follows the trials and the mean
                low, high = np.nanmin(shown), np.nanmax(shown)
                margin = 0.08 * (high - low) or 0.05 * max(abs(high), 1e-3)
                panel.set_ylim(low - margin, high + margin)
            panel.set_xlabel(name)
            if i % n_cols == 0:
                panel.set_ylabel(f"mean test {self.score_name}")
        if self.surrogate:
            self.axes_[0].legend(fontsize="small")
        return self

    @classmethod
    def from_search(cls, search, *, params=None, surrogate="auto", dependence="average",
                    metric=None, n_points=40, n_samples=100, random_state=0, ax=None,
                    n_cols=3):
        """Plot a fitted search: any skhpo searcher, GridSearchCV, RandomizedSearchCV.

        Parameters
        ----------
        search : fitted search estimator
            Any estimator with ``cv_results_``.
        params : list of str, default=None
            Parameters to draw; default: every parameter that takes more than
            one value in the trials.
        surrogate : "auto" or bool, default="auto"
            Draw the surrogate's partial dependence; ``"auto"``: for a
            :class:`~skhpo.BayesSearchCV` over one space (not a union).
        dependence : {"average", "best"}, default="average"
            What the other parameters are set to along one parameter:
            ``"average"``, the surrogate is averaged over ``n_samples`` random
            points (partial dependence, ``skopt.plots.plot_objective``'s
            default); ``"best"``, they are the best told point's (a slice
            through it, where the band shows how sure the model is around it).
        metric : str, default=None
            Scorer of a multi-metric search; default: the ``refit`` metric.
        n_points : int, default=40
            Points along each continuous parameter for the surrogate.
        n_samples : int, default=100
            Random points of the other parameters averaged over.
        random_state : int, default=0
            Seeds those points and the surrogate's likelihood search.
        ax : matplotlib Axes or array of Axes, default=None
            See :meth:`plot`.
        n_cols : int, default=3
            Panels per row.

        Returns
        -------
        display : ParameterDisplay
        """
        results = check_search(search, "ParameterDisplay")
        if dependence not in ("average", "best"):
            raise ValueError(f"dependence={dependence!r} is not one of ['average', 'best'].")
        key = score_key(search, metric)
        all_scores = np.asarray(results[key], dtype=float)
        space = search_space(search)
        trial_params = list(results["params"])
        names = list(dict.fromkeys(k for p in trial_params for k in p))
        if params is None:
            params = [n for n in names
                      if len({repr(p[n]) for p in trial_params if n in p}) > 1]
        unknown = [name for name in params if name not in names]
        if unknown:
            raise ValueError(
                f"{unknown[0]!r} is not a parameter of the search; its parameters "
                f"are {sorted(names)}."
            )
        if not params:
            raise ValueError(
                f"no parameter of the {type(search).__name__} takes more than one "
                "value in its trials: there is nothing to plot against."
            )
        best_index = getattr(search, "best_index_", None)
        if metric is not None or best_index is None:
            best_index = int(np.nanargmax(all_scores))
        values, scores, scales, best = {}, {}, {}, {}
        for name in params:
            rows = [i for i, p in enumerate(trial_params)
                    if name in p and np.isfinite(all_scores[i])]
            values[name] = [trial_params[i][name] for i in rows]
            scores[name] = all_scores[rows]
            scales[name] = axis_scale(_dimension(space, name), values[name])
            if name in trial_params[best_index]:
                best[name] = (trial_params[best_index][name], all_scores[best_index])
        curves = None
        if cls._wants_surrogate(search, space, surrogate):
            curves = cls._surrogate_curves(search, params, dependence, n_points, n_samples,
                                           random_state)
        display = cls(names=params, values=values, scores=scores, scales=scales,
                      best=best, surrogate=curves, score_name=key[len("mean_test_"):])
        return display.plot(ax=ax, n_cols=n_cols)

    @staticmethod
    def _wants_surrogate(search, space, surrogate) -> bool:
        optimizer = getattr(search, "optimizer_", None)
        has_gp = optimizer is not None and hasattr(optimizer, "X_") and hasattr(optimizer, "y_") \
            and "surrogate_" in vars(optimizer)
        single = space is not None and len(space.subspaces) == 1
        if surrogate == "auto":
            return has_gp and single
        if surrogate and not has_gp:
            raise ValueError(
                f"surrogate=True needs a fitted BayesSearchCV; a "
                f"{type(search).__name__} has no surrogate. Pass surrogate=False."
            )
        if surrogate and not single:
            raise ValueError(
                "surrogate=True is not available for a search over a list of spaces "
                "(a union); pass surrogate=False."
            )
        return bool(surrogate)

    @staticmethod
    def _surrogate_curves(search, params, dependence, n_points, n_samples,
                          random_state) -> dict:
        optimizer = search.optimizer_
        gp, scale = fit_surrogate(optimizer, random_state)
        space = optimizer.space
        if dependence == "best":
            best = np.nanargmax(np.where(np.isfinite(optimizer.y_), optimizer.y_, -np.inf))
            samples = np.asarray(optimizer.X_, dtype=float)[[best]]
        else:
            rng = np.random.RandomState(random_state)
            samples = space.round_unit(rng.uniform(size=(n_samples, space.n_columns)))
        curves = {}
        for name in params:
            if not isinstance(space.subspaces[0].get(name, Constant(None)), Constant):
                curves[name] = partial_dependence(gp, scale, space, name, samples, n_points)
        return curves
