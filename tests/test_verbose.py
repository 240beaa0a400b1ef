"""What ``verbose`` prints: GridSearchCV's first line, then one progress line per batch."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import SGDClassifier

from skhpo import BayesSearchCV, GeneticSearchCV, HyperbandSearchCV, PBTSearchCV, Real

SPACE = {"alpha": Real(1e-5, 1e-1, prior="log-uniform"), "penalty": ["l2", "l1"]}

# (searcher, the word naming its batches, the cv_results_ column holding their number)
SEARCHES = {
    "bayes": (lambda **kw: BayesSearchCV(n_iter=6, n_points=2, **kw), "batch", "iteration"),
    "hyperband": (lambda **kw: HyperbandSearchCV(resource="partial_fit", max_resources=9, **kw),
                  "rung", "iter"),
    "genetic": (lambda **kw: GeneticSearchCV(population_size=4, n_generations=3, **kw),
                "generation", "generation"),
    "pbt": (lambda **kw: PBTSearchCV(population_size=4, max_resources=6,
                                     perturbation_interval=2, **kw), "round", "round"),
}
LINE = re.compile(
    r"^\[(?P<name>\w+)\] (?P<word>batch|rung|generation|round) (?P<number>\d+)"
    r"(?: \(n_resources=[\d.]+\))?: (?P<done>\d+)/(?P<planned>\d+) trials done, "
    r"best (?P<metric>[\w ]*?)score (?P<best>\S+), (?P<elapsed>[\d.]+)s elapsed$"
)


def fit_search(key, capsys, **params):
    make, _, _ = SEARCHES[key]
    X, y = load_iris(return_X_y=True)
    search = make(estimator=SGDClassifier(random_state=0), search_spaces=SPACE, cv=3,
                  random_state=0, **params)
    search.fit(X, y)
    return search, capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("key", SEARCHES)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_verbose_prints_progress_per_batch(key, capsys):
    search, lines = fit_search(key, capsys, verbose=1)
    _, word, column = SEARCHES[key]
    results = search.cv_results_
    iterations = np.asarray(results["iteration"])
    scores = np.asarray(results["mean_test_score"], dtype=float)
    n_rows = len(scores)

    assert lines[0] == (f"Fitting 3 folds for each of {n_rows} candidates, "
                        f"totalling {3 * n_rows} fits")
    batch_lines = lines[1:]
    assert len(batch_lines) == search.n_iterations_ > 1
    assert len(set(batch_lines)) == len(batch_lines)
    for iteration, line in enumerate(batch_lines):
        match = LINE.match(line)
        assert match, line
        done = int(np.sum(iterations <= iteration))
        assert match["name"] == type(search).__name__
        assert match["word"] == word
        assert int(match["number"]) == np.asarray(results[column])[done - 1]
        assert (int(match["done"]), int(match["planned"])) == (done, n_rows)
        assert match["best"] == f"{np.nanmax(scores[:done]):.4g}"
        assert match["metric"] == ""


def test_verbose_names_the_driving_metric(capsys):
    _, lines = fit_search("bayes", capsys, verbose=1,
                          scoring={"acc": "accuracy", "bal": "balanced_accuracy"}, refit="bal")
    assert all(LINE.match(line)["metric"] == "bal " for line in lines[1:])


def test_verbose_zero_prints_nothing(capsys):
    _, lines = fit_search("bayes", capsys)
    assert lines == []


def test_verbose_two_reports_every_fit(capsys):
    _, lines = fit_search("bayes", capsys, verbose=2)
    # scikit-learn's own line for each of the 6 x 3 fits, and one progress line per batch
    assert sum(line.startswith("[CV] END") for line in lines) == 6 * 3
    assert [line for line in lines if not line.startswith("[CV]")] == [
        "Fitting 3 folds for each of 6 candidates, totalling 18 fits",
        *(line for line in lines if LINE.match(line)),
    ]
    assert len(lines) == 1 + 18 + 3
