"""What ``verbose`` prints: GridSearchCV's first line, then one progress line per batch."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import SMALL_SEARCHES
from sklearn.datasets import load_iris

# the word naming each searcher's batches, and the cv_results_ column numbering them
BATCH_NAMES = {
    "bayes": ("batch", "iteration"),
    "genetic": ("generation", "generation"),
    "hyperband-samples": ("rung", "iter"),
    "hyperband-partial_fit": ("rung", "iter"),
    "pbt": ("round", "round"),
}
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
FIRST_LINE = re.compile(r"^Fitting 3 folds for each of (\d+) candidates, totalling (\d+) fits$")
LINE = re.compile(
    r"^\[(?P<name>\w+)\] (?P<word>batch|rung|generation|round) (?P<number>\d+)"
    r"(?: \(n_resources=\d+(?:\.\.\d+)?\))?: (?P<done>\d+)/(?P<planned>\d+) trials done, "
    r"best (?P<metric>[\w ]*?)score (?P<best>\S+), (?P<elapsed>[\d.]+)s elapsed$"
)


def fit_search(key, capsys, **params):
    X, y = load_iris(return_X_y=True)
    search = SMALL_SEARCHES[key](**params).fit(X, y)
    return search, capsys.readouterr().out.splitlines()


def test_every_small_search_is_covered():
    assert set(BATCH_NAMES) == set(SMALL_SEARCHES)


@pytest.mark.parametrize("key", sorted(SMALL_SEARCHES))
def test_verbose_prints_progress_per_batch(key, capsys):
    search, lines = fit_search(key, capsys, verbose=1)
    word, column = BATCH_NAMES[key]
    results = search.cv_results_
    iterations = np.asarray(results["iteration"])
    scores = np.asarray(results["mean_test_score"], dtype=float)
    n_rows = len(scores)

    # the plan (strategy.max_trials) may exceed what ran: a genetic search skips
    # individuals it has already evaluated
    first = FIRST_LINE.match(lines[0])
    planned = int(first[1])
    assert int(first[2]) == 3 * planned and planned >= n_rows
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
        assert (int(match["done"]), int(match["planned"])) == (done, planned)
        assert match["best"] == f"{np.nanmax(scores[:done]):.4g}"
        assert match["metric"] == ""


def test_verbose_names_the_driving_metric(capsys):
    _, lines = fit_search("bayes", capsys, verbose=1,
                          scoring={"acc": "accuracy", "bal": "balanced_accuracy"}, refit="bal")
    assert len(lines) > 2
    assert all(LINE.match(line)["metric"] == "bal " for line in lines[1:])


def test_verbose_zero_prints_nothing(capsys):
    _, lines = fit_search("bayes", capsys)
    assert lines == []


def test_verbose_two_reports_every_fit(capsys):
    search, lines = fit_search("bayes", capsys, verbose=2)
    n_fits = 3 * len(search.cv_results_["params"])
    # scikit-learn's own line for each fit, and one progress line per batch
    assert sum(line.startswith("[CV] END") for line in lines) == n_fits
    progress = [line for line in lines if LINE.match(line)]
    assert len(progress) == search.n_iterations_ > 1
    assert [line for line in lines if not line.startswith("[CV]")] == [
        f"Fitting 3 folds for each of {n_fits // 3} candidates, totalling {n_fits} fits",
        *progress,
    ]
