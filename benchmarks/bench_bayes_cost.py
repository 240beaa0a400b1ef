"""Cost per evaluation and simple regret of BayesSearchCV against Optuna's GPSampler.

Functions (minimized; the oracle estimator's score is ``-f``)
-------------------------------------------------------------
branin      2-d, x0 in [-5, 10], x1 in [0, 15]; min 0.397887.
hartmann6   6-d on [0, 1]^6; min -3.32237.
ackley<d>   d-d on [-32.768, 32.768]^d; min 0 at the origin.
levy<d>     d-d on [-10, 10]^d; min 0 at (1, ..., 1).
(``<d>`` is 5, 10 or 20.)

Tools
-----
skhpo       ``BayesSearchCV(n_points=1, n_jobs=1, cv=KFold(2), refit=False)`` on an
            oracle estimator (fit does nothing, score is ``-f(params)``) and a 10-row
            dummy X, defaults otherwise (10 initial points).
optuna_gp   ``optuna.samplers.GPSampler(seed=seed)`` in a direct study on ``f``
            (defaults: 10 start-up trials).
optuna_tpe  ``optuna.samplers.TPESampler(seed=seed)`` in a direct study on ``f``.
skopt       ``skopt.gp_minimize(f, bounds, n_calls=n_evals, random_state=seed)``
            (scikit-optimize defaults: 10 initial points, GP-Hedge acquisition).
random      ``RandomizedSearchCV`` on the same oracle estimator as skhpo (same
            cross-validation machinery, so its cost per evaluation is the floor that
            skhpo's proposals add to).

Measures
--------
overhead per evaluation = wall time of the whole search / number of evaluations
(the objective is free, so this is what the tool itself costs), the same with the
process's CPU time (less sensitive to other jobs on a shared machine; every tool
runs in this process, with one thread), and simple regret = best ``f`` found -
``min f``. The table gives medians over seeds.

Usage::

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \\
        python benchmarks/bench_bayes_cost.py --n-evals 100 --seeds 0 1 2 \\
        --out benchmarks/results/bayes_cost_100

writes ``<out>.csv`` (one row per run, appended as runs finish) and ``<out>.md``.
``--summarize`` only rebuilds the table from the CSV; ``--seed-major`` runs every
function for a seed before the next seed (so that a run stopped early has all
functions for its first seeds). Branin and Hartmann6 are those of
``bench_bayes.py``.
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
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.base import BaseEstimator  # noqa: E402
from sklearn.model_selection import KFold, RandomizedSearchCV  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_bayes  # noqa: E402  (the shared Branin and Hartmann6)

TOOLS = ("skhpo", "optuna_gp", "optuna_tpe", "skopt", "random")

# --------------------------------------------------------------------------------
# Test functions: f(x) with x of shape (d,)
# --------------------------------------------------------------------------------


def branin(x):
    return bench_bayes.branin(*x)


def hartmann6(x):
    return bench_bayes.hartmann6(*x)


def ackley(x):
    d = len(x)
    return float(-20 * np.exp(-0.2 * np.sqrt(np.sum(x**2) / d))
                 - np.exp(np.sum(np.cos(2 * np.pi * x)) / d) + 20 + np.e)


def levy(x):
    w = 1 + (x - 1) / 4
    middle = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[:-1] + 1) ** 2))
    last = (w[-1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[-1]) ** 2)
    return float(np.sin(np.pi * w[0]) ** 2 + middle + last)


def function_spec(name):
    """(f, bounds, f_min) of a function name such as ``"ackley10"``."""
    if name == "branin":
        return branin, [(-5.0, 10.0), (0.0, 15.0)], 0.397887
    if name == "hartmann6":
        return hartmann6, [(0.0, 1.0)] * 6, -3.32237
    for prefix, f, bound in (("ackley", ackley, 32.768), ("levy", levy, 10.0)):
        if name.startswith(prefix):
            return f, [(-bound, bound)] * int(name[len(prefix):]), 0.0
    raise ValueError(name)


FUNCTIONS = ("branin", "hartmann6", "ackley5", "ackley10", "ackley20",
             "levy5", "levy10", "levy20")

# --------------------------------------------------------------------------------
# Oracle estimator: parameters x0 .. x<d-1>, score -f(x)
# --------------------------------------------------------------------------------


class _Oracle(BaseEstimator):
    """fit does nothing; score(X, y) = -f(x) on every fold."""

    def fit(self, X, y=None):
        return self

    def score(self, X, y=None):
        x = np.array([getattr(self, f"x{i}") for i in range(self.n_dims)])
        return -self.function(x)


def make_oracle(name):
    """An oracle estimator class whose ``__init__`` names ``x0 .. x<d-1>``
    (scikit-learn reads the parameters from the signature)."""
    function, bounds, _ = function_spec(name)
    names = [f"x{i}" for i in range(len(bounds))]
    source = (f"def __init__(self, {', '.join(f'{n}=0.0' for n in names)}):\n"
              + "".join(f"    self.{n} = {n}\n" for n in names))
    namespace: dict = {}
    exec(source, namespace)  # noqa: S102 (a generated signature, no input)
    cls = type(f"{name.capitalize()}Oracle", (_Oracle,), {
        "__init__": namespace["__init__"], "function": staticmethod(function),
        "n_dims": len(names), "__module__": __name__})
    globals()[cls.__name__] = cls  # picklable by name
    return cls


# --------------------------------------------------------------------------------
# Running one search
# --------------------------------------------------------------------------------


def run_one(name, tool, seed, n_evals):
    function, bounds, f_min = function_spec(name)
    X, y = np.zeros((10, 1)), np.zeros(10)
    start, start_cpu = time.perf_counter(), time.process_time()
    if tool in ("skhpo", "random"):
        oracle = make_oracle(name)()
        if tool == "skhpo":
            from skhpo import BayesSearchCV, Real
            space = {f"x{i}": Real(lo, hi) for i, (lo, hi) in enumerate(bounds)}
            search = BayesSearchCV(oracle, space, n_iter=n_evals, n_points=1, n_jobs=1,
                                   cv=KFold(2), refit=False, random_state=seed)
        else:
            space = {f"x{i}": stats.uniform(lo, hi - lo) for i, (lo, hi) in enumerate(bounds)}
            search = RandomizedSearchCV(oracle, space, n_iter=n_evals, n_jobs=1,
                                        cv=KFold(2), refit=False, random_state=seed)
        search.fit(X, y)
        values = -np.asarray(search.cv_results_["mean_test_score"], dtype=float)
    elif tool == "skopt":
        from skopt import gp_minimize
        result = gp_minimize(lambda x: function(np.asarray(x, dtype=float)), bounds,
                             n_calls=n_evals, random_state=seed)
        values = np.asarray(result.func_vals, dtype=float)
    else:
        import optuna
        sampler = (optuna.samplers.GPSampler(seed=seed) if tool == "optuna_gp"
                   else optuna.samplers.TPESampler(seed=seed))
        study = optuna.create_study(direction="minimize", sampler=sampler)

        def objective(trial):
            return function(np.array([trial.suggest_float(f"x{i}", lo, hi)
                                      for i, (lo, hi) in enumerate(bounds)]))

        study.optimize(objective, n_trials=n_evals)
        values = np.array([t.value for t in study.trials], dtype=float)
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    return dict(function=name, n_dims=len(bounds), tool=tool, seed=seed, n_evals=len(values),
                regret=float(np.nanmin(values) - f_min), wall_time_s=wall,
                overhead_per_eval_ms=1000 * wall / len(values),
                cpu_per_eval_ms=1000 * cpu / len(values), skhpo_commit=SKHPO_COMMIT)


# --------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------


def _median(d, column):
    return d[column].median() if column in d and d[column].notna().any() else np.nan


def overhead_table(df):
    """skhpo's and optuna_gp's median overhead per evaluation side by side."""
    lines = ["| dims | function | evals | runs (skhpo, optuna_gp) | skhpo wall ms / eval | "
             "optuna_gp wall ms / eval | wall ratio | skhpo CPU ms / eval | "
             "optuna_gp CPU ms / eval | CPU ratio |",
             "|---:|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for (n_dims, name, n_evals), part in df.groupby(["n_dims", "function", "n_evals"]):
        ours, theirs = part[part.tool == "skhpo"], part[part.tool == "optuna_gp"]
        if ours.empty or theirs.empty:
            continue
        wall = [_median(d, "overhead_per_eval_ms") for d in (ours, theirs)]
        cpu = [_median(d, "cpu_per_eval_ms") for d in (ours, theirs)]
        lines.append(f"| {n_dims} | {name} | {n_evals} | {len(ours)}, {len(theirs)} | "
                     f"{wall[0]:.1f} | {wall[1]:.1f} | {wall[0] / wall[1]:.2f} | "
                     f"{cpu[0]:.1f} | {cpu[1]:.1f} | {cpu[0] / cpu[1]:.2f} |")
    return "\n".join(lines) + "\n"


def regret_table(df):
    """Median simple regret (and runs) per function and tool."""
    tools = [t for t in TOOLS if t in set(df.tool)]
    lines = ["| function | evals | " + " | ".join(tools) + " |",
             "|---|---:|" + "---:|" * len(tools)]
    functions = [f for f in FUNCTIONS if f in set(df.function)]
    for n_evals in sorted(set(df.n_evals)):
        for name in functions:
            part = df[(df.function == name) & (df.n_evals == n_evals)]
            cells = []
            for tool in tools:
                d = part[part.tool == tool]
                cells.append(f"{d.regret.median():.4g} ({len(d)})" if len(d) else "-")
            lines.append(f"| {name} | {n_evals} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def summarize(df):
    return ("Overhead per evaluation (medians over runs):\n\n" + overhead_table(df)
            + "\nMedian simple regret (runs):\n\n" + regret_table(df))


def _skhpo_commit():
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
    import torch

    import skhpo
    return (f"Python {platform.python_version()}, scikit-learn {sklearn.__version__}, "
            f"skhpo {skhpo.__version__}, optuna {optuna.__version__}, "
            f"torch {torch.__version__}, scikit-optimize {skopt.__version__}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--functions", nargs="+", default=list(FUNCTIONS), choices=FUNCTIONS)
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--n-evals", type=int, default=100)
    parser.add_argument("--out", default="benchmarks/results/bayes_cost")
    parser.add_argument("--append", action="store_true",
                        help="append to an existing CSV instead of overwriting it")
    parser.add_argument("--summarize", action="store_true",
                        help="only rebuild <out>.md from <out>.csv")
    parser.add_argument("--inputs", nargs="+", default=None,
                        help="with --summarize: the CSVs to combine (default <out>.csv)")
    parser.add_argument("--seed-major", action="store_true",
                        help="all functions for one seed before the next seed")
    args = parser.parse_args(argv)

    global SKHPO_COMMIT
    import skhpo.bayes  # noqa: F401  (import now: the whole run uses one version)
    SKHPO_COMMIT = _skhpo_commit()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out.with_suffix(".csv"), out.with_suffix(".md")
    if not args.summarize:
        import optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        warnings.filterwarnings("ignore")
        fields = ["function", "n_dims", "tool", "seed", "n_evals", "regret", "wall_time_s",
                  "overhead_per_eval_ms", "cpu_per_eval_ms", "skhpo_commit"]
        mode = "a" if args.append and csv_path.exists() else "w"
        with open(csv_path, mode, newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            if mode == "w":
                writer.writeheader()
            for tool in args.tools:  # imports and first-call set-up, untimed
                run_one(args.functions[0], tool, 0, 12)
            order = ([(name, seed) for seed in args.seeds for name in args.functions]
                     if args.seed_major else
                     [(name, seed) for name in args.functions for seed in args.seeds])
            for name, seed in order:
                for tool in args.tools:
                    row = run_one(name, tool, seed, args.n_evals)
                    writer.writerow(row)
                    fh.flush()
                    print(f"{name:9s} {tool:10s} seed={seed} regret={row['regret']:.4g} "
                          f"overhead={row['overhead_per_eval_ms']:.1f}ms", flush=True)
    inputs = args.inputs if args.summarize and args.inputs else [csv_path]
    df = pd.concat([pd.read_csv(path) for path in inputs], ignore_index=True)
    commits = ", ".join(str(c) for c in df.skhpo_commit.dropna().unique())
    header = (f"Medians over seeds {sorted(set(df.seed))}; skhpo commit {commits}; "
              f"{versions()}; machine: {os.cpu_count()} cores (shared), "
              f"OMP/MKL/OpenBLAS threads = {os.environ.get('OMP_NUM_THREADS')}.\n\n"
              "Overhead per evaluation = wall time (or CPU time) of the search / "
              "evaluations (the objective is free); regret = best f found - min f.\n\n"
              f"Command: `OMP_NUM_THREADS=1 python benchmarks/bench_bayes_cost.py "
              f"{' '.join(sys.argv[1:] if argv is None else argv)}`\n\n")
    md_path.write_text(header + summarize(df))
    print(summarize(df))
    return 0


if __name__ == "__main__":
    sys.exit(main())
