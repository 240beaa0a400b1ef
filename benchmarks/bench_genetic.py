"""Benchmark skhpo.GeneticSearchCV against sklearn-genetic-opt and random search.

Tasks
-----
svc  SVC on sklearn digits; C log-uniform in [1e-3, 1e3], gamma log-uniform in
     [1e-5, 1e-1].
hgb  HistGradientBoostingClassifier(early_stopping=False, max_iter=--hgb-max-iter)
     on make_classification(5000, 30 features, 10 informative, random_state=0);
     learning_rate log-uniform in [1e-3, 1], max_leaf_nodes integer in [4, 128],
     min_samples_leaf integer in [1, 100], l2_regularization log-uniform in
     [1e-6, 10].

Tools (about 40 evaluations each, ``n_jobs=2``)
-----------------------------------------------
skhpo       GeneticSearchCV(population_size=10, n_generations=4): at most
            10 + 9 * 3 = 37 candidates (elitism=1, nothing is refitted).
gasearchcv-g2, gasearchcv-g3
            sklearn-genetic-opt GASearchCV(population_size=10, generations=2 or 3):
            DEAP's mu + lambda with lambda = 2 * population_size, so up to
            10 + 2 * 20 = 50 (g2, the closest to 40) or 70 (g3) candidates. It has
            no ``random_state`` in 0.12: the global ``random`` and ``np.random`` are
            seeded before each run. Its ``n_jobs`` runs the folds of one candidate.
random      RandomizedSearchCV(n_iter=40).

Protocol
--------
``train_test_split(test_size=0.25, stratify=y, random_state=seed)``; every tool
searches with the same ``StratifiedKFold(3, shuffle=True, random_state=seed)`` on
the training part, refits the best candidate and is scored (accuracy) on the
held-out part. "evaluations" counts distinct candidates cross-validated (for
GASearchCV, the entries of its fitness cache). "fit time" sums the fit and score
times of every fold of every distinct candidate (the work, which depends on the
hyperparameters a tool visits: large trees are slow), and "busy" is
``fit time / (2 * wall time)``, the share of the two workers' time spent fitting.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_genetic.py --tasks svc hgb \\
        --seeds 0 1 2 3 4 --out benchmarks/results/genetic

writes ``<out>.csv`` (one row per run, appended as runs finish) and ``<out>.md``
(medians per task and tool). ``--summarize`` only rebuilds the table from the CSV.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import time
import warnings
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.datasets import load_digits, make_classification  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    RandomizedSearchCV,
    StratifiedKFold,
    cross_val_score,
    train_test_split,
)
from sklearn.svm import SVC  # noqa: E402

TASKS = ("svc", "hgb")
TOOLS = ("skhpo", "gasearchcv-g2", "gasearchcv-g3", "random")
FIELDS = ("task", "tool", "seed", "best_cv_score", "test_score", "wall_time_s",
          "fit_time_s", "n_evaluations", "n_result_rows", "hgb_max_iter")
N_JOBS = 2

# (name, kind, low, high, log): one neutral description translated for every tool
SPACES = {
    "svc": [("C", "real", 1e-3, 1e3, True), ("gamma", "real", 1e-5, 1e-1, True)],
    "hgb": [
        ("learning_rate", "real", 1e-3, 1.0, True),
        ("max_leaf_nodes", "int", 4, 128, False),
        ("min_samples_leaf", "int", 1, 100, False),
        ("l2_regularization", "real", 1e-6, 10.0, True),
    ],
}


def make_task(task, seed, hgb_max_iter):
    if task == "svc":
        X, y = load_digits(return_X_y=True)
        estimator = SVC()
    else:
        X, y = make_classification(5000, 30, n_informative=10, random_state=0)
        estimator = HistGradientBoostingClassifier(
            max_iter=hgb_max_iter, early_stopping=False, random_state=0)
    split = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    return estimator, split


def space_for(tool, task):
    out = {}
    for name, kind, low, high, log in SPACES[task]:
        if tool == "skhpo":
            from skhpo import Integer, Real
            cls = Real if kind == "real" else Integer
            out[name] = cls(low, high, prior="log-uniform" if log else "uniform")
        elif tool.startswith("gasearchcv"):
            from sklearn_genetic.space import Continuous, Integer
            cls = Continuous if kind == "real" else Integer
            # No per-dimension random_state: each would own a generator seeded
            # alike, so dimensions would draw the same quantile; all share the
            # global streams that make_search seeds.
            out[name] = cls(low, high, distribution="log-uniform" if log else "uniform")
        elif kind == "real":
            out[name] = stats.loguniform(low, high) if log else stats.uniform(low, high - low)
        else:
            out[name] = stats.randint(low, high + 1)
    return out


def make_search(tool, task, estimator, cv, seed, args):
    space = space_for(tool, task)
    if tool == "skhpo":
        from skhpo import GeneticSearchCV
        return GeneticSearchCV(estimator, space, population_size=10,
                               n_generations=args.generations, cv=cv, n_jobs=N_JOBS,
                               random_state=seed)
    if tool.startswith("gasearchcv"):
        from sklearn_genetic import GASearchCV
        random.seed(seed)
        np.random.seed(seed)
        return GASearchCV(estimator, cv=cv, param_grid=space, population_size=10,
                          generations=int(tool[-1]), n_jobs=N_JOBS, verbose=False)
    return RandomizedSearchCV(estimator, space, n_iter=args.n_iter, cv=cv, n_jobs=N_JOBS,
                              random_state=seed)


def total_fit_time(results):
    """Fit + score seconds over every fold of every distinct candidate."""
    seen, total = set(), 0.0
    n_splits = sum(1 for key in results if key.startswith("split")
                   and key.endswith("_test_score"))
    for i, params in enumerate(results["params"]):
        if repr(sorted(params.items())) not in seen:  # GASearchCV repeats cached rows
            seen.add(repr(sorted(params.items())))
            total += (results["mean_fit_time"][i] + results["mean_score_time"][i]) * n_splits
    return float(total)


def run_one(task, tool, seed, args):
    estimator, (X_train, X_test, y_train, y_test) = make_task(task, seed, args.hgb_max_iter)
    cv = StratifiedKFold(3, shuffle=True, random_state=seed)
    search = make_search(tool, task, estimator, cv, seed, args)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X_train, y_train)
    wall = time.perf_counter() - start
    n_rows = len(search.cv_results_["params"])
    n_evaluations = len(search.fitness_cache) if tool.startswith("gasearchcv") else n_rows
    return dict(task=task, tool=tool, seed=seed, best_cv_score=float(search.best_score_),
                test_score=float(search.score(X_test, y_test)), wall_time_s=wall,
                fit_time_s=total_fit_time(search.cv_results_),
                n_evaluations=n_evaluations, n_result_rows=n_rows,
                hgb_max_iter=args.hgb_max_iter if task == "hgb" else "")


def warm_up(task, args):
    """Start the joblib workers and their imports, so that no tool pays for them."""
    estimator, (X_train, _, y_train, _) = make_task(task, 0, args.hgb_max_iter)
    cross_val_score(estimator, X_train[:300], y_train[:300], cv=3, n_jobs=N_JOBS)


def summarize(csv_path, md_path):
    frame = pd.read_csv(csv_path)
    frame["busy"] = frame.fit_time_s / (N_JOBS * frame.wall_time_s)
    lines = ["| task | tool | seeds | evaluations | best CV score | test score "
             "| wall time (s) | fit time (s) | busy | skhpo CV >= it |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for (task, tool), group in frame.groupby(["task", "tool"], sort=False):
        med = group.median(numeric_only=True)
        ours = frame[(frame.task == task) & (frame.tool == "skhpo")].set_index("seed")
        theirs = group.set_index("seed").best_cv_score
        common = ours.index.intersection(theirs.index)
        wins = int((ours.best_cv_score[common] >= theirs[common] - 1e-12).sum())
        lines.append(
            f"| {task} | {tool} | {len(group)} | {med.n_evaluations:.0f} "
            f"({group.n_evaluations.min()}-{group.n_evaluations.max()}) "
            f"| {med.best_cv_score:.4f} | {med.test_score:.4f} | {med.wall_time_s:.1f} "
            f"| {med.fit_time_s:.1f} | {med.busy:.0%} | {wins}/{len(common)} |")
    table = "\n".join(lines) + (
        "\n\nMedians over seeds; evaluations: median (min-max); last column: seeds on "
        "which skhpo's best CV score is at least this tool's.\n")
    Path(md_path).write_text(table)
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(range(5)))
    parser.add_argument("--generations", type=int, default=4,
                        help="n_generations of GeneticSearchCV (population 10)")
    parser.add_argument("--n-iter", type=int, default=40, help="RandomizedSearchCV n_iter")
    parser.add_argument("--hgb-max-iter", type=int, default=100)
    parser.add_argument("--out", default="benchmarks/results/genetic")
    parser.add_argument("--summarize", action="store_true",
                        help="only rebuild <out>.md from <out>.csv")
    args = parser.parse_args(argv)
    csv_path, md_path = f"{args.out}.csv", f"{args.out}.md"
    if not args.summarize:
        Path(csv_path).parent.mkdir(parents=True, exist_ok=True)
        new_file = not Path(csv_path).exists()
        with open(csv_path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=FIELDS)
            if new_file:
                writer.writeheader()
            for task in args.tasks:
                warm_up(task, args)
                for seed in args.seeds:
                    for tool in args.tools:
                        row = run_one(task, tool, seed, args)
                        writer.writerow(row)
                        handle.flush()
                        print(row, flush=True)
    print(summarize(csv_path, md_path))


if __name__ == "__main__":
    main()
