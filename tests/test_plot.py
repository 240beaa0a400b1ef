"""Tests of skhpo.plot: what each Display draws, on small fitted searches."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from conftest import SMALL_SEARCHES  # noqa: E402
from scipy.stats import loguniform, yeojohnson  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import LogisticRegression, SGDClassifier  # noqa: E402
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV  # noqa: E402

from skhpo import BayesSearchCV, Categorical, GeneticSearchCV, PBTSearchCV, Real  # noqa: E402
from skhpo.plot import (  # noqa: E402
    ConvergenceDisplay,
    GenerationDisplay,
    ParameterDisplay,
    RungDisplay,
    ScheduleDisplay,
)
from skhpo.plot._surrogate import fit_surrogate, inverse_yeojohnson  # noqa: E402

X, Y = load_iris(return_X_y=True)
_FITTED: dict = {}


def fitted(name):
    """The SMALL_SEARCHES search ``name`` fitted on iris (fitted once per session)."""
    if name not in _FITTED:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lbfgs convergence on unscaled iris
            _FITTED[name] = SMALL_SEARCHES[name]().fit(X, Y)
    return _FITTED[name]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_plot_needs_matplotlib_but_skhpo_does_not():
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import skhpo\n"
        "try:\n"
        "    import skhpo.plot\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "pip install skhpo[plot]" in out


# -- ConvergenceDisplay -------------------------------------------------------


@pytest.mark.parametrize("name", list(SMALL_SEARCHES))
def test_convergence_by_evaluations_draws_running_best(name):
    search = fitted(name)
    scores = search.cv_results_["mean_test_score"]
    display = ConvergenceDisplay.from_search(search, name=name)
    (line,) = display.lines_
    assert display.ax_.get_lines() == [line]
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, len(scores) + 1))
    np.testing.assert_allclose(line.get_ydata(), np.maximum.accumulate(scores))
    assert len(display.points_[0].get_offsets()) == len(scores)
    assert display.ax_.get_xlabel() == "evaluations"
    assert display.ax_.get_ylabel() == "best score so far"
    assert [t.get_text() for t in display.ax_.get_legend().get_texts()] == [name]


@pytest.mark.parametrize("name", list(SMALL_SEARCHES))
def test_convergence_by_fit_time_sums_fit_and_score_time(name):
    search = fitted(name)
    results = search.cv_results_
    display = ConvergenceDisplay.from_search(search, x="fit_time")
    x = display.lines_[0].get_xdata()
    expected = (results["mean_fit_time"] + results["mean_score_time"]).sum() * search.n_splits_
    assert np.all(np.diff(x) >= 0)
    assert x[-1] == pytest.approx(expected)
    assert display.ax_.get_xlabel().startswith("fit and score time")


@pytest.mark.parametrize("name", list(SMALL_SEARCHES))
def test_convergence_by_time_follows_the_trials_in_the_order_they_finished(name):
    search = fitted(name)
    results = search.cv_results_
    display = ConvergenceDisplay.from_search(search, x="time")
    order = np.argsort(search.finish_times_, kind="stable")
    line = display.lines_[0]
    np.testing.assert_array_equal(line.get_xdata(), search.finish_times_[order])
    scores = results["mean_test_score"][order]
    np.testing.assert_allclose(line.get_ydata(), np.maximum.accumulate(scores))
    np.testing.assert_allclose(display.points_[0].get_offsets()[:, 1], scores)
    assert display.ax_.get_xlabel() == "wall-clock time (s)"


def test_convergence_by_time_of_a_scikit_learn_search_points_to_fit_time():
    grid = GridSearchCV(LogisticRegression(max_iter=500), {"C": [0.1, 1.0]}, cv=3).fit(X, Y)
    with pytest.raises(ValueError, match=r"records when each trial finished .*the "
                       r"GridSearchCV given has none\. Use x='fit_time'"):
        ConvergenceDisplay.from_search(grid, x="time")
    display = ConvergenceDisplay.from_search(grid, x="fit_time")
    assert len(display.lines_[0].get_xdata()) == 2


@pytest.mark.parametrize("name", ["hyperband-partial_fit", "pbt"])
def test_convergence_by_resources_adds_up_to_resources_used(name):
    # continued trials count only the steps they added to their parent's
    search = fitted(name)
    x = ConvergenceDisplay.from_search(search, x="resources").lines_[0].get_xdata()
    assert x[-1] * search.n_splits_ == search.resources_used_


def test_convergence_by_resources_counts_subsample_sizes():
    search = fitted("hyperband-samples")
    x = ConvergenceDisplay.from_search(search, x="resources").lines_[0].get_xdata()
    np.testing.assert_array_equal(x, np.cumsum(search.cv_results_["n_resources"]))


def test_convergence_compares_searches_on_one_axes():
    display = ConvergenceDisplay.from_searches(
        {"Bayes": fitted("bayes"), "genetic": fitted("genetic")})
    assert len(display.ax_.get_lines()) == 2
    assert [t.get_text() for t in display.ax_.get_legend().get_texts()] == ["Bayes", "genetic"]
    again = ConvergenceDisplay.from_search(fitted("pbt"), name="PBT", ax=display.ax_,
                                           show_trials=False, linestyle="--")
    assert again.lines_[0].get_linestyle() == "--"
    assert again.ax_ is display.ax_
    assert len(display.ax_.get_lines()) == 3
    assert again.points_ == []
    # the y axis spans every best-so-far curve on the axes, not only the last one
    low, high = display.ax_.get_ylim()
    for line in display.ax_.get_lines():
        assert low <= np.nanmin(line.get_ydata()) and np.nanmax(line.get_ydata()) <= high


# -- ParameterDisplay ---------------------------------------------------------


def test_parameter_display_draws_bayes_surrogate_on_log_axis():
    search = fitted("bayes")
    display = ParameterDisplay.from_search(search, n_points=25)
    (panel,) = display.axes_
    assert panel.get_xscale() == "log"
    assert panel.get_xlabel() == "C"
    assert len(display.points_["C"].get_offsets()) == len(search.cv_results_["params"])
    line = display.surrogate_lines_["C"]
    assert len(line.get_xdata()) == 25
    values, mean, lower, upper = display.surrogate["C"]
    assert np.all(lower <= mean + 1e-12) and np.all(mean <= upper + 1e-12)
    assert values[0] == pytest.approx(1e-2) and values[-1] == pytest.approx(1e2)
    assert len(panel.collections) == 3  # the band, the trials, the best star
    low, high = panel.get_ylim()  # the axis follows the trials and the mean
    assert low < min(search.cv_results_["mean_test_score"].min(), mean.min())
    assert high > max(search.cv_results_["mean_test_score"].max(), mean.max())


def test_surrogate_refit_reproduces_the_told_scores():
    # the GP is fitted on the search's warped scale; mapped back, its mean at the
    # told points is the told scores (the learned noise is small on iris)
    search = BayesSearchCV(LogisticRegression(max_iter=300), {"C": Real(1e-3, 1e2, "log-uniform")},
                           n_iter=10, n_initial_points=5, n_points=5, cv=3,
                           random_state=0).fit(X, Y)
    optimizer = search.optimizer_
    gp, scale = fit_surrogate(optimizer)
    mean, _ = gp.predict(optimizer.X_)
    np.testing.assert_allclose(scale.to_scores(mean), optimizer.y_, atol=1e-3)
    np.testing.assert_allclose(np.sort(optimizer.y_),
                               np.sort(search.cv_results_["mean_test_score"]))


def test_parameter_display_categories_and_surrogate_of_each_parameter():
    space = {"C": Real(1e-2, 1e2, prior="log-uniform"),
             "fit_intercept": Categorical([True, False])}
    search = BayesSearchCV(LogisticRegression(max_iter=300), space, n_iter=5,
                           n_initial_points=3, n_points=2, cv=3, random_state=0).fit(X, Y)
    display = ParameterDisplay.from_search(search, n_points=10)
    c_panel, category_panel = display.axes_
    assert c_panel.get_xscale() == "log"
    assert category_panel.get_xscale() == "linear"
    assert [t.get_text() for t in category_panel.get_xticklabels()] == ["True", "False"] \
        or [t.get_text() for t in category_panel.get_xticklabels()] == ["False", "True"]
    assert len(display.surrogate_lines_["fit_intercept"].get_xdata()) == 2
    assert display.surrogate_lines_["fit_intercept"].get_linestyle() == "None"
    assert display.surrogate_lines_["C"].get_linestyle() == "-"
    assert len(display.surrogate_lines_["C"].get_xdata()) == 10
    # a slice through the best point passes through the best score there
    sliced = ParameterDisplay.from_search(search, dependence="best")
    values, mean, _, _ = sliced.surrogate["fit_intercept"]
    best = search.best_params_["fit_intercept"]
    assert mean[values.index(best)] == pytest.approx(search.best_score_, abs=0.01)


@pytest.mark.parametrize("name", ["genetic", "hyperband-samples", "pbt"])
def test_parameter_display_without_surrogate(name):
    search = fitted(name)
    (param,) = search.cv_results_["params"][0]
    display = ParameterDisplay.from_search(search)
    assert display.surrogate_lines_ == {}
    assert display.axes_[0].get_xscale() == "log"
    finite = np.isfinite(search.cv_results_["mean_test_score"]).sum()
    assert len(display.points_[param].get_offsets()) == finite


def test_parameter_display_on_sklearn_searches():
    grid = GridSearchCV(LogisticRegression(max_iter=300),
                        {"C": [0.01, 0.1, 1, 10], "fit_intercept": [True, False]},
                        cv=3).fit(X, Y)
    display = ParameterDisplay.from_search(grid)
    c_panel, category_panel = display.axes_
    assert c_panel.get_xscale() == "log"
    assert [t.get_text() for t in category_panel.get_xticklabels()] == ["True", "False"]
    assert len(display.points_["C"].get_offsets()) == 8
    assert display.surrogate_lines_ == {}
    assert category_panel.get_xlim() == (-0.5, 1.5)
    random = RandomizedSearchCV(LogisticRegression(max_iter=300),
                                {"C": loguniform(1e-2, 1e2)}, n_iter=4, cv=3,
                                random_state=0).fit(X, Y)
    assert ParameterDisplay.from_search(random).axes_[0].get_xscale() == "log"
    assert len(ConvergenceDisplay.from_search(random).lines_[0].get_xdata()) == 4


def test_parameter_display_splits_one_axes_into_panels():
    grid = GridSearchCV(LogisticRegression(max_iter=300),
                        {"C": [0.1, 1.0], "fit_intercept": [True, False]}, cv=3).fit(X, Y)
    figure, ax = plt.subplots()
    display = ParameterDisplay.from_search(grid, ax=ax)
    assert display.figure_ is figure
    assert len(display.axes_) == 2 and ax not in figure.axes
    assert display.axes_[0].get_xscale() == "linear"  # 0.1 to 1 spans less than 100x


@pytest.mark.parametrize("lmbda", [-1.0, 0.0, 0.5, 1.0, 2.0, 3.6])
def test_inverse_yeojohnson_undoes_the_transform(lmbda):
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(inverse_yeojohnson(yeojohnson(x, lmbda), lmbda), x,
                               atol=1e-9)


# -- RungDisplay --------------------------------------------------------------


@pytest.mark.parametrize("name", ["hyperband-partial_fit", "hyperband-samples"])
def test_rung_display_one_panel_per_bracket_and_a_line_per_promotion(name):
    search = fitted(name)
    results = search.cv_results_
    display = RungDisplay.from_search(search)
    brackets = sorted(set(results["bracket"]))
    assert len(display.axes_) == len(brackets)
    for bracket, panel in zip(brackets, display.axes_):
        rows = results["bracket"] == bracket
        assert panel.get_title() == f"bracket {bracket}"
        assert panel.get_xscale() == "log"
        assert len(display.points_[bracket].get_offsets()) == rows.sum()
        # every row above the first rung is one promotion: one segment of a line
        n_segments = sum(len(line.get_xdata()) - 1 for line in display.promotion_lines_[bracket])
        assert n_segments == (rows & (results["iter"] > 0)).sum()
    assert display.axes_[0].get_xlabel() == f"{search.resource_} (per trial)"


def test_rung_display_draws_on_given_axes():
    figure, axes = plt.subplots(1, 3)
    display = RungDisplay.from_search(fitted("hyperband-partial_fit"), ax=axes)
    assert display.figure_ is figure
    assert list(display.axes_) == list(axes)
    assert [panel.get_title() for panel in axes] == ["bracket 0", "bracket 1", "bracket 2"]


def test_rung_display_follows_parent_ids():
    search = fitted("hyperband-partial_fit")
    results = search.cv_results_
    display = RungDisplay.from_search(search)
    scores = results["mean_test_score"]
    child = int(np.flatnonzero(results["parent_id"] >= 0)[0])
    parent = int(np.flatnonzero(results["trial_id"] == results["parent_id"][child])[0])
    segments = {tuple(line.get_ydata()[:2]) for lines in display.promotion_lines_.values()
                for line in lines}
    assert (scores[parent], scores[child]) in segments


def test_rung_display_on_successive_halving():
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV

    search = HalvingGridSearchCV(LogisticRegression(max_iter=300),
                                 {"C": [0.01, 0.1, 1, 10, 100, 1000]}, factor=3, cv=3,
                                 min_resources=30, random_state=0).fit(X, Y)
    results = search.cv_results_
    display = RungDisplay.from_search(search)
    (panel,) = display.axes_
    assert panel.get_xlabel() == "n_samples (per trial)"
    n_segments = sum(len(line.get_xdata()) - 1 for line in display.promotion_lines_[0])
    assert n_segments == (results["iter"] > 0).sum() > 0
    x = ConvergenceDisplay.from_search(search, x="resources").lines_[0].get_xdata()
    assert x[-1] == results["n_resources"].sum()


def _promotions(display, results):
    drawn = sum(len(line.get_xdata()) - 1
                for lines in display.promotion_lines_.values() for line in lines)
    return drawn, (results["iter"] > 0).sum()


def _copies(display, results):
    copies = (results["parent"] >= 0) & (results["parent"] != results["member"])
    return len(display.copied_.get_segments()), copies.sum()


def _best_fitness(display, results):
    return list(display.best_line_.get_ydata()), list(display.best_scores)


def _surrogate(display, results):
    return list(display.surrogate_lines_), ["C"]


@pytest.mark.parametrize("name, display, drawn_and_expected", [
    ("hyperband-partial_fit", RungDisplay, _promotions),
    ("pbt", ScheduleDisplay, _copies),
    ("genetic", GenerationDisplay, _best_fitness),
    ("bayes", ParameterDisplay, _surrogate),
])
def test_displays_of_asynchronous_searches(name, display, drawn_and_expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = SMALL_SEARCHES[name](asynchronous=True).fit(X, Y)
    drawn, expected = drawn_and_expected(display.from_search(search), search.cv_results_)
    assert drawn == expected


# -- ScheduleDisplay ----------------------------------------------------------


def test_schedule_display_lineage_and_schedules():
    search = fitted("pbt")
    results = search.cv_results_
    display = ScheduleDisplay.from_search(search)
    lineage, alpha = display.axes_
    assert (lineage.get_title(), alpha.get_title()) == ("lineage", "alpha")
    copies = ((results["parent"] >= 0) & (results["parent"] != results["member"])).sum()
    assert copies > 0
    assert len(display.copied_.get_segments()) == copies
    assert len(display.continued_.get_segments()) == len(results["params"]) - copies
    assert len(display.schedule_lines_["alpha"]) == len(search.schedules_)
    best = display.best_schedule_lines_["alpha"]
    np.testing.assert_allclose(best.get_ydata()[:-1],
                               [params["alpha"] for _, params in search.best_schedule_])
    assert best.get_xdata()[-1] == results["n_resources"].max()
    assert alpha.get_yscale() == "log"
    # the ancestry ends at the best trial
    assert display.ancestry_line_.get_xdata()[-1] == results["n_resources"][search.best_index_]
    assert display.ancestry_line_.get_ydata()[-1] == results["member"][search.best_index_]


def test_schedule_display_categorical_parameter_and_refit_metric():
    search = PBTSearchCV(
        SGDClassifier(loss="log_loss", random_state=0),
        {"alpha": Real(1e-5, 1e-1, prior="log-uniform"),
         "penalty": Categorical(["l2", "l1", "elasticnet"])},
        mutable_params=["alpha", "penalty"], population_size=4, max_resources=6,
        perturbation_interval=2, cv=3, random_state=0,
        scoring={"acc": "accuracy", "bal": "balanced_accuracy"}, refit="bal").fit(X, Y)
    display = ScheduleDisplay.from_search(search)
    penalty = display.axes_[2]
    assert [t.get_text() for t in penalty.get_yticklabels()] == ["l2", "l1", "elasticnet"]
    assert penalty.get_ylim() == (-0.5, 2.5)
    order = ["l2", "l1", "elasticnet"]
    expected = [order.index(params["penalty"]) for _, params in search.best_schedule_]
    assert list(display.best_schedule_lines_["penalty"].get_ydata()[:-1]) == expected
    assert display.figure_.axes[-1].get_ylabel() == "mean test bal"  # the color bar
    assert ConvergenceDisplay.from_search(search, metric="acc").ax_.get_ylabel() == \
        "best acc so far"


# -- GenerationDisplay --------------------------------------------------------


def test_generation_display_draws_history():
    search = fitted("genetic")
    display = GenerationDisplay.from_search(search)
    history = search.history_
    np.testing.assert_array_equal(display.best_line_.get_xdata(), history["generation"])
    np.testing.assert_allclose(display.best_line_.get_ydata(), history["best_score"])
    np.testing.assert_allclose(display.mean_line_.get_ydata(), history["mean_score"])
    assert len(display.points_.get_offsets()) == len(search.cv_results_["params"])
    assert display.ax_.get_xlabel() == "generation"
    lower = display.spread_.get_paths()[0].vertices[:, 1].min()
    expected = np.min(np.subtract(history["mean_score"], history["std_score"]))
    assert lower == pytest.approx(expected)


# -- errors -------------------------------------------------------------------


@pytest.mark.parametrize("make_display, name, error, match", [
    (RungDisplay.from_search, "genetic", ValueError,
     r"RungDisplay needs a fitted HyperbandSearchCV \(cv_results_ columns 'bracket', "
     r"'iter', 'n_resources'\); the GeneticSearchCV given has no 'bracket', 'iter', "
     r"'n_resources'\. Use ConvergenceDisplay or ParameterDisplay for it, or "
     r"GenerationDisplay for a GeneticSearchCV\."),
    (ScheduleDisplay.from_search, "hyperband-partial_fit", ValueError,
     r"ScheduleDisplay needs a fitted PBTSearchCV .* has no 'member'\. Use RungDisplay "
     r"for a HyperbandSearchCV"),
    (GenerationDisplay.from_search, "bayes", ValueError,
     r"GenerationDisplay needs a fitted GeneticSearchCV .*has no 'generation'\. Use "
     r"ConvergenceDisplay for any search"),
    (lambda s: ConvergenceDisplay.from_search(s, x="resources"), "bayes", ValueError,
     r"ConvergenceDisplay\(x='resources'\) needs a search that records resources .*"
     r"BayesSearchCV given has no 'n_resources'\. Use x='evaluations' or x='fit_time'"),
    (lambda s: ConvergenceDisplay.from_search(s, x="epochs"), "bayes", ValueError,
     r"x='epochs' is not one of \['evaluations', 'fit_time', 'resources', 'time'\]"),
    (lambda s: ConvergenceDisplay.from_search(s, metric="recall"), "bayes", ValueError,
     r"cv_results_ has no 'mean_test_recall'; pass metric= one of \['score'\]"),
    (lambda s: ParameterDisplay.from_search(s, params=["gamma"]), "bayes", ValueError,
     r"'gamma' is not a parameter of the search; its parameters are \['C'\]"),
    (lambda s: ParameterDisplay.from_search(s, dependence="median"), "bayes", ValueError,
     r"dependence='median' is not one of \['average', 'best'\]"),
    (lambda s: ParameterDisplay.from_search(s, dependence="median"), "genetic", ValueError,
     r"dependence='median' is not one of \['average', 'best'\]"),
    (lambda s: ParameterDisplay.from_search(s, surrogate=True), "genetic", ValueError,
     r"surrogate=True needs a fitted BayesSearchCV; a GeneticSearchCV has no surrogate"),
    (lambda s: RungDisplay.from_search(s, ax=plt.subplots(1, 2)[1]), "hyperband-partial_fit",
     ValueError, r"ax holds 2 Axes but 3 panels are drawn; pass 3 Axes"),
])
def test_bad_input_names_the_problem(make_display, name, error, match):
    with pytest.raises(error, match=match):
        make_display(fitted(name))


@pytest.mark.parametrize("display", [ConvergenceDisplay, ParameterDisplay, RungDisplay,
                                     ScheduleDisplay, GenerationDisplay])
def test_unfitted_search_raises(display):
    search = GeneticSearchCV(LogisticRegression(), {"C": Real(1e-2, 1e2)})
    with pytest.raises(NotFittedError, match=rf"This GeneticSearchCV is not fitted yet; "
                                             rf"call fit\(X, y\) before {display.__name__}"):
        display.from_search(search)
