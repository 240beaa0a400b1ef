"""Benchmark skhpo.BayesSearchCV against scikit-optimize, Optuna and random search.

Tasks
-----
svc        SVC on sklearn digits; C in [1e-3, 1e3] and gamma in [1e-5, 1e-1], both
           log-uniform.
hgb        HistGradientBoostingClassifier(early_stopping=False, max_iter=100, or
           --hgb-max-iter; the committed results use 50) on
           make_classification(5000, 30 features, 10 informative, random_state=0);
           learning_rate log [1e-3, 1], max_leaf_nodes int log [4, 128],
           min_samples_leaf int log [1, 100], l2_regularization log [1e-6, 10].
branin     Branin through an "oracle estimator" (score = -f, identical on every
           fold); x0 in [-5, 10], x1 in [0, 15]; global min 0.397887.
hartmann6  Hartmann6 through the oracle estimator on [0, 1]^6; global min -3.32237.

Protocol
--------
ML tasks: ``train_test_split(test_size=0.25, stratify=y, random_state=seed)``, the
search runs 3-fold ``StratifiedKFold(shuffle=True, random_state=seed)`` on the
training part with ``n_jobs=2`` (``n_points=2`` for skhpo and skopt), refits the
best candidate and is scored on the held-out part. Function tasks: ``cv=2`` on a
10-row dummy X, ``n_jobs=1``, ``n_points=1``, no refit.

Search overhead per candidate::

    (wall time of fit - refit_time_
     - sum over candidates of (mean_fit_time + mean_score_time) * n_splits / n_jobs)
    / n_candidates

i.e. the wall-clock time that is not explained by fitting and scoring models on
``n_jobs`` perfectly busy workers: proposing candidates (surrogate fits,
acquisition optimization), dispatch, bookkeeping and idle workers.

Usage::

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \\
        python benchmarks/bench_bayes.py --tasks svc hgb branin hartmann6 \\
        --out benchmarks/results/bayes

writes ``<out>.csv`` (one row per run, appended as runs finish) and ``<out>.md``
(medians per task and tool). ``--summarize`` only rebuilds the table from the CSV.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import sys
import time
import warnings
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# run from a checkout without installing skhpo
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.base import BaseEstimator  # noqa: E402
from sklearn.datasets import load_digits, make_classification  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    KFold,
    RandomizedSearchCV,
    StratifiedKFold,
    train_test_split,
)
from sklearn.svm import SVC  # noqa: E402

ML_TASKS = ("svc", "hgb")
FUNCTION_TASKS = ("branin", "hartmann6")
TASKS = ML_TASKS + FUNCTION_TASKS
TOOLS = ("skhpo", "skopt", "optuna", "random")
DEFAULT_SEEDS = {"svc": range(5), "hgb": range(5), "branin": range(10),
                 "hartmann6": range(10)}
HGB_MAX_ITER = 100

# --------------------------------------------------------------------------------
# Oracle estimators: the parameters are the coordinates, score is -f(x).
# --------------------------------------------------------------------------------


def branin(x0, x1):
    a, b, c = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x1 - b * x0**2 + c * x0 - r) ** 2 + s * (1 - t) * math.cos(x0) + s


_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H6_A = np.array([
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
])
_H6_P = 1e-4 * np.array([
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
])


def hartmann6(*x):
    x = np.asarray(x, dtype=float)
    return float(-np.sum(_H6_ALPHA * np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1))))


class _Oracle(BaseEstimator):
    """fit does nothing; score(X, y) = -f(params) on every fold."""

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def score(self, X, y=None):
        return -self.function(*self._point())


class BraninOracle(_Oracle):
    function = staticmethod(branin)
    f_min = 0.397887
    bounds = [(-5.0, 10.0), (0.0, 15.0)]

    def __init__(self, x0=0.0, x1=0.0):
        self.x0, self.x1 = x0, x1

    def _point(self):
        return (self.x0, self.x1)


class Hartmann6Oracle(_Oracle):
    function = staticmethod(hartmann6)
    f_min = -3.32237
    bounds = [(0.0, 1.0)] * 6

    def __init__(self, x0=0.5, x1=0.5, x2=0.5, x3=0.5, x4=0.5, x5=0.5):
        self.x0, self.x1, self.x2, self.x3, self.x4, self.x5 = x0, x1, x2, x3, x4, x5

    def _point(self):
        return (self.x0, self.x1, self.x2, self.x3, self.x4, self.x5)


ORACLES = {"branin": BraninOracle, "hartmann6": Hartmann6Oracle}

# --------------------------------------------------------------------------------
# Search spaces, one neutral description translated for every tool.
# (name, kind, low, high, log) with kind in {"real", "int"}
# --------------------------------------------------------------------------------


def neutral_space(task):
    if task == "svc":
        return [("C", "real", 1e-3, 1e3, True), ("gamma", "real", 1e-5, 1e-1, True)]
    if task == "hgb":
        return [
            ("learning_rate", "real", 1e-3, 1.0, True),
            ("max_leaf_nodes", "int", 4, 128, True),
            ("min_samples_leaf", "int", 1, 100, True),
            ("l2_regularization", "real", 1e-6, 10.0, True),
        ]
    oracle = ORACLES[task]
    return [(f"x{i}", "real", lo, hi, False) for i, (lo, hi) in enumerate(oracle.bounds)]


class LogUniformInt:
    """Integers with log-uniform mass on [low, high] (scipy has no such frozen rv).

    Each integer k owns [k - 0.5, k + 0.5] in log space, the same prior that
    skhpo's ``Integer(..., prior="log-uniform")`` uses.
    """

    def __init__(self, low, high):
        self.low, self.high = low, high
        self._rv = stats.loguniform(low - 0.5, high + 0.5)

    def rvs(self, size=None, random_state=None):
        value = np.clip(np.round(self._rv.rvs(size=size, random_state=random_state)),
                        self.low, self.high).astype(int)
        return int(value) if size is None else value

    def __repr__(self):
        return f"LogUniformInt({self.low}, {self.high})"


def space_for(tool, task):
    dims = neutral_space(task)
    out = {}
    for name, kind, lo, hi, log in dims:
        prior = "log-uniform" if log else "uniform"
        if tool == "skhpo":
            from skhpo import Integer, Real
            out[name] = (Real if kind == "real" else Integer)(lo, hi, prior=prior)
        elif tool == "skopt":
            from skopt.space import Integer, Real
            out[name] = (Real if kind == "real" else Integer)(lo, hi, prior=prior)
        elif tool == "optuna":
            from optuna.distributions import FloatDistribution, IntDistribution
            out[name] = (FloatDistribution if kind == "real" else IntDistribution)(
                lo, hi, log=log)
        elif tool == "random":
            if kind == "real":
                out[name] = stats.loguniform(lo, hi) if log else stats.uniform(lo, hi - lo)
            else:
                out[name] = LogUniformInt(lo, hi) if log else stats.randint(lo, hi + 1)
        else:
            raise ValueError(tool)
    return out


# --------------------------------------------------------------------------------
# Running one search
# --------------------------------------------------------------------------------


def make_search(tool, estimator, space, *, n_iter, cv, n_jobs, n_points, seed, refit):
    common = dict(cv=cv, n_jobs=n_jobs, refit=refit)
    if tool == "skhpo":
        from skhpo import BayesSearchCV
        return BayesSearchCV(estimator, space, n_iter=n_iter, n_points=n_points,
                             random_state=seed, **common)
    if tool == "skopt":
        from skopt import BayesSearchCV
        return BayesSearchCV(estimator, space, n_iter=n_iter, n_points=n_points,
                             random_state=seed, **common)
    if tool == "optuna":
        import optuna
        from optuna_integration import OptunaSearchCV
        study = optuna.create_study(direction="maximize",
                                    sampler=optuna.samplers.TPESampler(seed=seed))
        return OptunaSearchCV(estimator, space, n_trials=n_iter, study=study,
                              random_state=seed, **common)
    if tool == "random":
        return RandomizedSearchCV(estimator, space, n_iter=n_iter, random_state=seed,
                                  **common)
    raise ValueError(tool)


def load_task(task, seed):
    """(estimator, X_train, X_test, y_train, y_test, cv, n_jobs, n_points, refit)."""
    if task in ML_TASKS:
        if task == "svc":
            X, y = load_digits(return_X_y=True)
            estimator = SVC()
        else:
            X, y = make_classification(n_samples=5000, n_features=30, n_informative=10,
                                       random_state=0)
            estimator = HistGradientBoostingClassifier(
                early_stopping=False, max_iter=HGB_MAX_ITER, random_state=0)
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y,
                                                  random_state=seed)
        cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
        return estimator, X_tr, X_te, y_tr, y_te, cv, 2, 2, True
    X = np.zeros((10, 1))
    y = np.zeros(10)
    return ORACLES[task](), X, None, y, None, KFold(2), 1, 1, False


def warm_up(task):
    """Start the joblib workers and import the task's modules there, untimed.

    Otherwise the first timed search of a task pays for the loky pool start-up.
    """
    estimator, X_tr, _, y_tr, _, cv, n_jobs, _, _ = load_task(task, 0)
    space = space_for("random", task)
    RandomizedSearchCV(estimator, space, n_iter=2, cv=cv, n_jobs=n_jobs,
                       random_state=0).fit(X_tr, y_tr)


def run_one(task, tool, seed, n_iter):
    estimator, X_tr, X_te, y_tr, y_te, cv, n_jobs, n_points, refit = load_task(task, seed)
    search = make_search(tool, estimator, space_for(tool, task), n_iter=n_iter, cv=cv,
                         n_jobs=n_jobs, n_points=n_points, seed=seed, refit=refit)
    start = time.perf_counter()
    search.fit(X_tr, y_tr)
    wall = time.perf_counter() - start

    res = search.cv_results_
    n_splits = 2 if task in FUNCTION_TASKS else 3
    fit_t = np.asarray(res["mean_fit_time"], dtype=float)
    score_t = np.asarray(res["mean_score_time"], dtype=float)
    n_cand = len(fit_t)
    busy = float(np.nansum(fit_t + score_t) * n_splits)
    refit_time = float(getattr(search, "refit_time_", 0.0) or 0.0)
    overhead = (wall - refit_time - busy / n_jobs) / n_cand

    mean_test = np.asarray(res["mean_test_score"], dtype=float)
    best_cv = float(np.nanmax(mean_test))
    row = dict(task=task, tool=tool, seed=seed, n_iter=n_iter, n_candidates=n_cand,
               n_jobs=n_jobs, n_points=n_points if tool in ("skhpo", "skopt") else "",
               best_cv_score=best_cv, test_score="", regret="",
               wall_time_s=wall, refit_time_s=refit_time, fit_score_time_s=busy,
               overhead_per_candidate_ms=1000 * overhead,
               best_params=repr(search.best_params_),
               hgb_max_iter=HGB_MAX_ITER if task == "hgb" else "",
               skhpo_commit=SKHPO_COMMIT)
    if task in ML_TASKS:
        row["test_score"] = float(search.score(X_te, y_te))
    else:
        row["regret"] = -best_cv - ORACLES[task].f_min
    return row


# --------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------


def summarize(df):
    lines = []
    df = df.copy()
    for col in ("best_cv_score", "test_score", "regret", "wall_time_s",
                "overhead_per_candidate_ms"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    tasks = [t for t in TASKS if t in set(df.task)]
    tools = [t for t in TOOLS if t in set(df.tool)]

    ml = [t for t in tasks if t in ML_TASKS]
    if ml:
        lines += [
            "| task | tool | runs | median best CV score | median test score | "
            "median wall time (s) | median overhead / candidate (ms) |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for task in ml:
            for tool in tools:
                d = df[(df.task == task) & (df.tool == tool)]
                if d.empty:
                    continue
                lines.append(
                    f"| {task} | {tool} | {len(d)} | {d.best_cv_score.median():.4f} | "
                    f"{d.test_score.median():.4f} | {d.wall_time_s.median():.1f} | "
                    f"{d.overhead_per_candidate_ms.median():.0f} |"
                )
        lines.append("")
    fn = [t for t in tasks if t in FUNCTION_TASKS]
    if fn:
        lines += [
            "| function | tool | runs | median simple regret | regret IQR "
            "(25%-75%) | median wall time (s) | median overhead / candidate (ms) |",
            "|---|---|---:|---:|---:|---:|---:|",
        ]
        for task in fn:
            for tool in tools:
                d = df[(df.task == task) & (df.tool == tool)]
                if d.empty:
                    continue
                q1, q3 = d.regret.quantile([0.25, 0.75])
                lines.append(
                    f"| {task} | {tool} | {len(d)} | {d.regret.median():.4g} | "
                    f"{q1:.3g} - {q3:.3g} | {d.wall_time_s.median():.2f} | "
                    f"{d.overhead_per_candidate_ms.median():.1f} |"
                )
        lines.append("")
    return "\n".join(lines)


def _skhpo_commit():
    """The repository commit of skhpo, with '+dirty' if skhpo/ has local changes."""
    import subprocess
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "skhpo"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


SKHPO_COMMIT = "unknown"


def versions():
    import optuna
    import sklearn
    import skopt

    import skhpo
    return (f"Python {platform.python_version()}, scikit-learn {sklearn.__version__}, "
            f"skhpo {skhpo.__version__}, scikit-optimize {skopt.__version__}, "
            f"optuna {optuna.__version__}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--seeds", nargs="+", type=int, default=None,
                        help="seeds for every task (default: 0-4 for svc/hgb, 0-9 "
                             "for the test functions)")
    parser.add_argument("--n-iter", type=int, default=40)
    parser.add_argument("--hgb-max-iter", type=int, default=100,
                        help="max_iter of the HistGradientBoostingClassifier")
    parser.add_argument("--out", default="benchmarks/results/bayes",
                        help="prefix of the output files <out>.csv and <out>.md")
    parser.add_argument("--append", action="store_true",
                        help="append to an existing CSV instead of overwriting it")
    parser.add_argument("--summarize", action="store_true",
                        help="only rebuild <out>.md from <out>.csv")
    args = parser.parse_args(argv)

    global HGB_MAX_ITER, SKHPO_COMMIT
    HGB_MAX_ITER = args.hgb_max_iter
    import skhpo.bayes  # noqa: F401  (import now: the whole run uses one version)
    SKHPO_COMMIT = _skhpo_commit()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out.with_suffix(".csv"), out.with_suffix(".md")

    if not args.summarize:
        import optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        warnings.filterwarnings("ignore")
        fields = ["task", "tool", "seed", "n_iter", "n_candidates", "n_jobs", "n_points",
                  "best_cv_score", "test_score", "regret", "wall_time_s", "refit_time_s",
                  "fit_score_time_s", "overhead_per_candidate_ms", "best_params",
                  "hgb_max_iter", "skhpo_commit"]
        mode = "a" if args.append and csv_path.exists() else "w"
        with open(csv_path, mode, newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            if mode == "w":
                writer.writeheader()
            for task in args.tasks:
                seeds = args.seeds if args.seeds is not None else DEFAULT_SEEDS[task]
                warm_up(task)
                for seed in seeds:
                    for tool in args.tools:
                        row = run_one(task, tool, seed, args.n_iter)
                        writer.writerow(row)
                        fh.flush()
                        score = row["test_score"] if task in ML_TASKS else row["regret"]
                        print(f"{task:9s} {tool:6s} seed={seed} "
                              f"cv={row['best_cv_score']:.4f} "
                              f"{'test' if task in ML_TASKS else 'regret'}={score:.4g} "
                              f"wall={row['wall_time_s']:.1f}s "
                              f"overhead={row['overhead_per_candidate_ms']:.0f}ms",
                              flush=True)

    df = pd.read_csv(csv_path)
    table = summarize(df)

    def uniq(col):
        vals = df[col].dropna().unique() if col in df else []
        return ", ".join(str(int(v)) if isinstance(v, float) else str(v)
                         for v in vals) or "n/a"

    header = (f"Medians over seeds; skhpo commit {uniq('skhpo_commit')}; "
              f"HistGradientBoostingClassifier max_iter={uniq('hgb_max_iter')}; "
              f"{versions()}; machine: {os.cpu_count()} cores, "
              f"OMP/MKL/OpenBLAS threads = {os.environ.get('OMP_NUM_THREADS')}.\n\n")
    md_path.write_text(header + table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
