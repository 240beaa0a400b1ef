"""GenerationDisplay: GeneticSearchCV's fitness per generation."""

from __future__ import annotations

import numpy as np

from ._common import check_search, score_key, single_axes

__all__ = ["GenerationDisplay"]


class GenerationDisplay:
    """GeneticSearchCV: best, mean and spread of the fitness per generation.

    The population's best and mean score are lines, mean +- one standard
    deviation a band, and every candidate fitted in a generation a point.
    Build it with :meth:`from_search`.

    Parameters
    ----------
    generations : ndarray of shape (n_generations,)
    best_scores, mean_scores, std_scores : ndarray of shape (n_generations,)
        Statistics of each generation's whole population (elites and
        candidates known from earlier generations included, failed fits left
        out), as in ``GeneticSearchCV.history_``.
    trial_generations, trial_scores : ndarray of shape (n_trials,)
        The generation and score of each fitted candidate.
    score_name : str, default="score"
        The metric, for the y label.

    Attributes
    ----------
    best_line_ : matplotlib Line2D
    mean_line_ : matplotlib Line2D
    spread_ : matplotlib PolyCollection
        Mean +- one standard deviation.
    points_ : matplotlib PathCollection
        The fitted candidates.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    ConvergenceDisplay : Best score so far against evaluations.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skhpo import GeneticSearchCV, Real
    >>> from skhpo.plot import GenerationDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> search = GeneticSearchCV(LogisticRegression(max_iter=500),
    ...                          {"C": Real(1e-2, 1e2, prior="log-uniform")},
    ...                          population_size=4, n_generations=2, cv=3,
    ...                          random_state=0).fit(X, y)
    >>> display = GenerationDisplay.from_search(search)
    >>> len(display.best_line_.get_xdata())
    2
    """

    def __init__(self, *, generations, best_scores, mean_scores, std_scores,
                 trial_generations, trial_scores, score_name="score"):
        self.generations = np.asarray(generations, dtype=float)
        self.best_scores = np.asarray(best_scores, dtype=float)
        self.mean_scores = np.asarray(mean_scores, dtype=float)
        self.std_scores = np.asarray(std_scores, dtype=float)
        self.trial_generations = np.asarray(trial_generations, dtype=float)
        self.trial_scores = np.asarray(trial_scores, dtype=float)
        self.score_name = score_name

    def plot(self, ax=None):
        """Draw the generations.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a figure.

        Returns
        -------
        self : GenerationDisplay
        """
        self.figure_, self.ax_ = single_axes(ax)
        g = self.generations
        self.spread_ = self.ax_.fill_between(
            g, self.mean_scores - self.std_scores, self.mean_scores + self.std_scores,
            color="C0", alpha=0.2, label="mean +- std")
        (self.mean_line_,) = self.ax_.plot(g, self.mean_scores, color="C0", marker="o",
                                           label="population mean")
        (self.best_line_,) = self.ax_.plot(g, self.best_scores, color="C3", marker="o",
                                           label="population best")
        # a small horizontal jitter keeps equal scores of one generation visible
        jitter = np.random.RandomState(0).uniform(-0.08, 0.08, len(self.trial_scores))
        self.points_ = self.ax_.scatter(self.trial_generations + jitter, self.trial_scores,
                                        s=12, color="0.4", alpha=0.6, label="fitted candidates")
        self.ax_.set_xticks(g)
        self.ax_.set_xlabel("generation")
        self.ax_.set_ylabel(f"mean test {self.score_name}")
        self.ax_.legend(fontsize="small")
        return self

    @classmethod
    def from_search(cls, search, *, ax=None):
        """Plot a fitted :class:`~skhpo.GeneticSearchCV`.

        Parameters
        ----------
        search : fitted GeneticSearchCV
        ax : matplotlib Axes, default=None
            Axes to draw on; None makes a figure.

        Returns
        -------
        display : GenerationDisplay
        """
        results = check_search(
            search, "GenerationDisplay", ["generation"], needs="a fitted GeneticSearchCV",
            use_instead="Use ConvergenceDisplay for any search (RungDisplay for "
            "Hyperband, ScheduleDisplay for PBT).",
        )
        history = search.history_
        key = score_key(search)
        return cls(
            generations=history["generation"], best_scores=history["best_score"],
            mean_scores=history["mean_score"], std_scores=history["std_score"],
            trial_generations=results["generation"], trial_scores=results[key],
            score_name=key[len("mean_test_"):],
        ).plot(ax=ax)
