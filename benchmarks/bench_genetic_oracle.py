"""GeneticSearchCV against random search, sklearn-genetic-opt and CMA-ES on oracles.

Functions whose optimum is known are searched through an *oracle estimator*: ``fit``
does nothing and ``score`` is ``-f(params)``, identical on every fold, so the only
thing measured is how good a point each tool finds for a number of evaluations
(simple regret, ``min f - f*``). The CMA-ES tools run directly on the function.

Functions
---------
Fixed dimension (``--functions``, the ``--dims`` option does not apply):

branin       2-d on [-5, 10] x [0, 15]; f* = 0.397887.
hartmann6    6-d on [0, 1]^6; f* = -3.32237.
rosenbrock4  Rosenbrock in 4-d on [-2.048, 2.048]^4; f* = 0 at (1, 1, 1, 1).
mixed        4 parameters: ``lr`` log-uniform real in [1e-5, 1], ``n`` log-uniform
             integer in [1, 256], ``kind`` categorical of 4, ``x`` uniform real in
             [-1, 1]; f = (log10 lr + 2.7 - 0.3 x)^2 / 4 + (log2 n - 5.3)^2 / 16
             + (x - 0.4)^2 + offset(kind), offsets (0.6, 0, 0.3, 1.0);
             f* is the value at n = 39 (the best integer), 1.4e-5.

Suite, in every dimension of ``--dims`` (shifted: ``f(x - s)`` with ``s`` drawn per
seed, uniform within +-20% of the box width on each axis, the same for every tool,
so that no tool starts at the optimum, which is the box centre for four of them):

sphere          [-5.12, 5.12]^d, f* = 0.
ellipsoid       sum 10^(6 (i-1)/(d-1)) x_i^2 on [-5.12, 5.12]^d, f* = 0.
rosenbrock      [-5, 10]^d, f* = 0.
rastrigin       [-5.12, 5.12]^d, f* = 0.
ackley          [-32.768, 32.768]^d, f* = 0.
levy            [-10, 10]^d, f* = 0.
styblinski_tang [-5, 5]^d, f* = -39.16599 d.

Tools
-----
skhpo        GeneticSearchCV(population_size=--population, elitism=0,
             n_generations=budget // population), so exactly ``budget`` candidates
             (elitism=0 only changes the budget accounting: the best individuals
             stay in the parents' archive), cv=2, n_jobs=1, refit=False.
skhpo-async  The same with asynchronous=True (steady state: a child is bred
             whenever a trial finishes, here one at a time).
random       RandomizedSearchCV(n_iter=budget) with the same priors (a log-uniform
             integer gives each integer its log-space slice, as skhpo does).
gasearchcv   sklearn-genetic-opt GASearchCV(population_size=--population), run for
             enough generations and cut to its first ``budget`` distinct candidates
             (in ``cv_results_`` order). It has no random_state: ``random`` and
             ``np.random`` are seeded. Its Integer has no log prior (uniform).
cma          pycma CMAEvolutionStrategy on the function scaled to [0, 1]^d,
             x0 = centre, sigma0 = 0.3, bounds [0, 1], its default population,
             seed + 1 (seed 0 means "random" there); the first ``budget``
             evaluations count.
optuna-cma   Optuna CmaEsSampler(seed=seed) with its defaults (mean at the centre,
             sigma0 = range / 6), ``budget`` trials.

The budget is ``--budget`` evaluations, or ``--budget-per-dim`` x d when given.
Wall time is measured around ``fit`` for the two scikit-learn searches (skhpo and
random), whose ratio is the overhead of the genetic search (the oracle's fit is
free, so everything measured is overhead).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_genetic_oracle.py \\
        --functions branin hartmann6 rosenbrock4 mixed --seeds 0-9 --budget 40 \\
        --tools skhpo random gasearchcv cma optuna-cma \\
        --out benchmarks/results/genetic_oracle_40

    OMP_NUM_THREADS=1 python benchmarks/bench_genetic_oracle.py \\
        --functions sphere ellipsoid rosenbrock rastrigin ackley levy styblinski_tang \\
        --dims 2 5 10 --budget-per-dim 20 --seeds 0-9 --tools skhpo cma optuna-cma \\
        --out benchmarks/results/genetic_oracle_suite

write ``<out>.csv`` (one row per run, appended as runs finish; runs already in the
CSV are skipped) and ``<out>.md``. ``--summarize`` only rebuilds the tables.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.base import BaseEstimator, RegressorMixin  # noqa: E402
from sklearn.model_selection import RandomizedSearchCV  # noqa: E402

FIELDS = ("function", "dim", "tool", "seed", "budget", "n_evaluations", "best_f",
          "regret", "wall_time_s")
FIXED = ("branin", "hartmann6", "rosenbrock4", "mixed")
SUITE = ("sphere", "ellipsoid", "rosenbrock", "rastrigin", "ackley", "levy",
         "styblinski_tang")
TOOLS = ("skhpo", "skhpo-async", "random", "gasearchcv", "cma", "optuna-cma")
CMA_TOOLS = ("cma", "optuna-cma")
MAX_DIMS = 10
X_DUMMY, Y_DUMMY = np.zeros((4, 1)), np.zeros(4)
CV = 2

# -- functions (minimised) --------------------------------------------------------


def branin(x):
    a, b, c = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    return a * (x[1] - b * x[0]**2 + c * x[0] - r) ** 2 + s * (1 - t) * math.cos(x[0]) + s


_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]])
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886],
                         [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650],
                         [4047, 8828, 8732, 5743, 1091, 381]])


def hartmann6(x):
    return float(-np.sum(_H6_ALPHA * np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1))))


def sphere(x):
    return float(np.sum(x**2))


def ellipsoid(x):
    d = len(x)
    return float(np.sum(10 ** (6 * np.arange(d) / max(d - 1, 1)) * x**2))


def rosenbrock(x):
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def rastrigin(x):
    return float(10 * len(x) + np.sum(x**2 - 10 * np.cos(2 * np.pi * x)))


def ackley(x):
    d = len(x)
    return float(-20 * np.exp(-0.2 * np.sqrt(np.sum(x**2) / d))
                 - np.exp(np.sum(np.cos(2 * np.pi * x)) / d) + 20 + np.e)


def levy(x):
    w = 1 + (x - 1) / 4
    return float(np.sin(np.pi * w[0]) ** 2
                 + np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[:-1] + 1) ** 2))
                 + (w[-1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[-1]) ** 2))


def styblinski_tang(x):
    return float(np.sum(x**4 - 16 * x**2 + 5 * x) / 2)


MIXED_OFFSETS = {"a": 0.6, "b": 0.0, "c": 0.3, "d": 1.0}


def mixed(params):
    lr, n, kind, x = params
    return ((math.log10(lr) + 2.7 - 0.3 * x) ** 2 / 4 + (math.log2(n) - 5.3) ** 2 / 16
            + (x - 0.4) ** 2 + MIXED_OFFSETS[kind])


SUITE_SPECS = {  # name: (function, low, high, f* per dimension)
    "sphere": (sphere, -5.12, 5.12, 0.0),
    "ellipsoid": (ellipsoid, -5.12, 5.12, 0.0),
    "rosenbrock": (rosenbrock, -5.0, 10.0, 0.0),
    "rastrigin": (rastrigin, -5.12, 5.12, 0.0),
    "ackley": (ackley, -32.768, 32.768, 0.0),
    "levy": (levy, -10.0, 10.0, 0.0),
    "styblinski_tang": (styblinski_tang, -5.0, 5.0, -39.16599),
}


@dataclass
class Problem:
    """One function on one box: dims are (kind, low, high, log, choices)."""

    name: str
    dims: list
    function: Callable = field(repr=False)
    f_min: float
    shift: np.ndarray | None = None
    vector: bool = True  # f takes an ndarray (False: the raw parameter list)

    def value(self, params: list) -> float:
        if not self.vector:
            return float(self.function(params))
        x = np.asarray(params, dtype=float)
        return float(self.function(x if self.shift is None else x - self.shift))

    @property
    def continuous(self) -> bool:
        return all(kind == "real" and not log for kind, _, _, log, _ in self.dims)


def make_problem(name: str, dim: int, seed: int) -> Problem:
    if name == "branin":
        return Problem(name, [("real", -5.0, 10.0, False, None),
                              ("real", 0.0, 15.0, False, None)], branin, 0.397887)
    if name == "hartmann6":
        return Problem(name, [("real", 0.0, 1.0, False, None)] * 6, hartmann6, -3.32237)
    if name == "rosenbrock4":
        return Problem(name, [("real", -2.048, 2.048, False, None)] * 4, rosenbrock, 0.0)
    if name == "mixed":
        f_min = min((math.log2(n) - 5.3) ** 2 / 16 for n in range(1, 257))
        return Problem(name, [("real", 1e-5, 1.0, True, None), ("int", 1, 256, True, None),
                              ("cat", None, None, False, list("abcd")),
                              ("real", -1.0, 1.0, False, None)], mixed, f_min, vector=False)
    function, low, high, f_per_dim = SUITE_SPECS[name]
    shift = np.random.RandomState(10_000 + seed).uniform(-0.2, 0.2, dim) * (high - low)
    f_min = f_per_dim * dim if name == "styblinski_tang" else f_per_dim
    return Problem(name, [("real", low, high, False, None)] * dim, function, f_min, shift)


# -- the oracle estimator -------------------------------------------------------------


class Oracle(RegressorMixin, BaseEstimator):
    """fit does nothing; score = -f(x0, ..., x{d-1}) on every fold (a regressor
    only because GASearchCV accepts nothing else)."""

    def __init__(self, problem=None, x0=None, x1=None, x2=None, x3=None, x4=None,
                 x5=None, x6=None, x7=None, x8=None, x9=None):
        self.problem = problem
        self.x0, self.x1, self.x2, self.x3, self.x4 = x0, x1, x2, x3, x4
        self.x5, self.x6, self.x7, self.x8, self.x9 = x5, x6, x7, x8, x9

    def fit(self, X, y=None):
        return self

    def score(self, X, y=None):
        d = len(self.problem.dims)
        return -self.problem.value([getattr(self, f"x{i}") for i in range(d)])


class LogUniformInt:
    """Integers with log-uniform mass (each owns [k - 1/2, k + 1/2] in log space)."""

    def __init__(self, low, high):
        self.low, self.high = low, high
        self._rv = stats.loguniform(low - 0.5, high + 0.5)

    def rvs(self, size=None, random_state=None):
        value = np.clip(np.round(self._rv.rvs(size=size, random_state=random_state)),
                        self.low, self.high).astype(int)
        return int(value) if size is None else value


def space_for(tool: str, problem: Problem, seed: int) -> dict:
    out = {}
    for i, (kind, low, high, log, choices) in enumerate(problem.dims):
        name = f"x{i}"
        if tool.startswith("skhpo"):
            from skhpo import Categorical, Integer, Real
            prior = "log-uniform" if log else "uniform"
            out[name] = (Categorical(choices) if kind == "cat" else
                         (Real if kind == "real" else Integer)(low, high, prior=prior))
        elif tool == "gasearchcv":
            # No per-dimension random_state: each would own a generator seeded
            # alike, so dimensions with the same bounds would draw the same values
            # and the search would stay on the diagonal x0 = x1 = ..., where
            # Rosenbrock's optimum lies. Without one, they share the seeded
            # ``np.random`` and ``random`` streams (see run_tool).
            from sklearn_genetic import space as ga
            if kind == "cat":
                out[name] = ga.Categorical(choices)
            elif kind == "int":
                out[name] = ga.Integer(low, high)
            else:
                out[name] = ga.Continuous(low, high,
                                          distribution="log-uniform" if log else "uniform")
        elif kind == "cat":
            out[name] = list(choices)
        elif kind == "int":
            out[name] = LogUniformInt(low, high) if log else stats.randint(low, high + 1)
        else:
            out[name] = stats.loguniform(low, high) if log else stats.uniform(low, high - low)
    return out


# -- running one tool -----------------------------------------------------------------


def best_of_results(results, problem, budget):
    """min f over the first ``budget`` distinct candidates of a cv_results_."""
    seen, values = set(), []
    for params, score in zip(results["params"], results["mean_test_score"]):
        key = repr(sorted(params.items()))
        if key in seen:
            continue
        seen.add(key)
        values.append(-float(score))
        if len(values) == budget:
            break
    return min(values), len(values)


def run_tool(tool: str, problem: Problem, seed: int, budget: int, population: int):
    """(best f, evaluations, wall seconds) of one run."""
    start = time.perf_counter()
    if tool in ("skhpo", "skhpo-async", "random", "gasearchcv"):
        estimator, space = Oracle(problem), space_for(tool, problem, seed)
        if tool.startswith("skhpo"):
            from skhpo import GeneticSearchCV
            search = GeneticSearchCV(estimator, space, population_size=population,
                                     n_generations=budget // population, elitism=0,
                                     asynchronous=tool == "skhpo-async",
                                     cv=CV, refit=False, random_state=seed)
        elif tool == "random":
            search = RandomizedSearchCV(estimator, space, n_iter=budget, cv=CV,
                                        refit=False, random_state=seed)
        else:
            from sklearn_genetic import GASearchCV
            random.seed(seed)
            np.random.seed(seed)
            generations = math.ceil((budget - population) / (2 * population)) + 1
            search = GASearchCV(estimator, cv=CV, param_grid=space, refit=False,
                                population_size=population, generations=generations,
                                verbose=False, n_jobs=1)
        start = time.perf_counter()
        search.fit(X_DUMMY, Y_DUMMY)
        wall = time.perf_counter() - start
        best, n = best_of_results(search.cv_results_, problem, budget)
        return best, n, wall
    low = np.array([lo for _, lo, _, _, _ in problem.dims])
    high = np.array([hi for _, _, hi, _, _ in problem.dims])
    if tool == "cma":
        import cma
        es = cma.CMAEvolutionStrategy(np.full(len(low), 0.5), 0.3,
                                      {"bounds": [0, 1], "seed": seed + 1, "verbose": -9})
        values = []
        while len(values) < budget:
            unit = es.ask()
            f = [problem.value(list(low + np.asarray(u) * (high - low))) for u in unit]
            values.extend(f)
            es.tell(unit, f)
        values = values[:budget]
        return min(values), len(values), time.perf_counter() - start
    if tool == "optuna-cma":
        import optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
        study = optuna.create_study(sampler=sampler)
        study.optimize(lambda trial: problem.value([
            trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(zip(low, high))
        ]), n_trials=budget)
        return study.best_value, len(study.trials), time.perf_counter() - start
    raise ValueError(tool)


# -- tables -----------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.2e}"


def summarize(df: pd.DataFrame, command: str) -> str:
    tools = [t for t in TOOLS if t in set(df.tool)]
    lines = [f"Command: `{command}`", "",
             "Median simple regret (min f - f*) over seeds; lower is better. "
             "`seeds`: runs per cell.", "",
             "| function | d | budget | seeds | " + " | ".join(tools) + " |",
             "|---|---|---|---|" + "---|" * len(tools)]
    groups = df.groupby(["function", "dim"], sort=False)
    for (function, dim), g in groups:
        med = g.groupby("tool").regret.median()
        cells = [_fmt(med[t]) if t in med else "" for t in tools]
        best = min(med[t] for t in tools if t in med)
        cells = [f"**{c}**" if t in med and med[t] == best else c
                 for c, t in zip(cells, tools)]
        lines.append(f"| {function} | {dim} | {int(g.budget.iloc[0])} | "
                     f"{g.seed.nunique()} | " + " | ".join(cells) + " |")
    others = [t for t in tools if t != "skhpo"]
    if "skhpo" in tools and others:
        lines += ["", "Per-seed comparison of skhpo's regret with each tool "
                  "(wins / ties / losses for skhpo; a tie is equal regret):", "",
                  "| function | d | " + " | ".join(others) + " |",
                  "|---|---|" + "---|" * len(others)]
        totals = {t: np.zeros(3, dtype=int) for t in others}
        per_dim = {}
        for (function, dim), g in groups:
            wide = g.pivot_table(index="seed", columns="tool", values="regret")
            cells = []
            for t in others:
                if t not in wide:
                    cells.append("")
                    continue
                pair = wide[["skhpo", t]].dropna()
                wtl = np.array([(pair.skhpo < pair[t]).sum(), (pair.skhpo == pair[t]).sum(),
                                (pair.skhpo > pair[t]).sum()])
                totals[t] += wtl
                per_dim.setdefault((dim, t), np.zeros(3, dtype=int))
                per_dim[(dim, t)] += wtl
                cells.append("/".join(map(str, wtl)))
            lines.append(f"| {function} | {dim} | " + " | ".join(cells) + " |")
        for dim in sorted({d for d, _ in per_dim}):
            lines.append(f"| **all, d={dim}** | {dim} | " + " | ".join(
                "/".join(map(str, per_dim[(dim, t)])) if (dim, t) in per_dim else ""
                for t in others) + " |")
        lines.append("| **all** | | " + " | ".join(
            "/".join(map(str, totals[t])) for t in others) + " |")
        if "random" in tools:
            lines += ["", "Wall time of `fit` (median seconds) for the two scikit-learn "
                      "searches; the oracle's fit is free, so this is overhead:", "",
                      "| function | d | skhpo | random | ratio |", "|---|---|---|---|---|"]
            for (function, dim), g in groups:
                med = g.groupby("tool").wall_time_s.median()
                if "random" in med and "skhpo" in med:
                    lines.append(f"| {function} | {dim} | {med['skhpo']:.2f} | "
                                 f"{med['random']:.2f} | {med['skhpo'] / med['random']:.2f} |")
    return "\n".join(lines) + "\n"


def parse_seeds(values):
    seeds = []
    for value in values:
        if "-" in value:
            low, high = value.split("-")
            seeds.extend(range(int(low), int(high) + 1))
        else:
            seeds.append(int(value))
    return seeds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--functions", nargs="+", default=list(FIXED),
                        choices=list(FIXED) + list(SUITE))
    parser.add_argument("--dims", nargs="+", type=int, default=[2, 5, 10])
    parser.add_argument("--seeds", nargs="+", default=["0-9"])
    parser.add_argument("--budget", type=int, default=40)
    parser.add_argument("--budget-per-dim", type=int, default=None)
    parser.add_argument("--population", type=int, default=10)
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--out", default="benchmarks/results/genetic_oracle")
    parser.add_argument("--summarize", action="store_true")
    args = parser.parse_args(argv)
    command = "OMP_NUM_THREADS=1 python benchmarks/bench_genetic_oracle.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    out_csv, out_md = Path(args.out + ".csv"), Path(args.out + ".md")
    warnings.filterwarnings("ignore")
    if not args.summarize:
        done = set()
        if out_csv.exists():
            old = pd.read_csv(out_csv)
            done = {(r.function, r.dim, r.tool, r.seed) for r in old.itertuples()}
        new_file = not out_csv.exists()
        with out_csv.open("a", newline="") as fh:
            writer = csv.DictWriter(fh, FIELDS)
            if new_file:
                writer.writeheader()
            for seed in parse_seeds(args.seeds):
                for name in args.functions:
                    for dim in ([None] if name in FIXED else args.dims):
                        problem = make_problem(name, dim or 0, seed)
                        d = len(problem.dims)
                        budget = args.budget_per_dim * d if args.budget_per_dim else args.budget
                        for tool in args.tools:
                            if tool in CMA_TOOLS and not problem.continuous:
                                continue
                            if (name, d, tool, seed) in done:
                                continue
                            best, n, wall = run_tool(tool, problem, seed, budget,
                                                     args.population)
                            writer.writerow(dict(
                                function=name, dim=d, tool=tool, seed=seed, budget=budget,
                                n_evaluations=n, best_f=best, regret=best - problem.f_min,
                                wall_time_s=wall))
                            fh.flush()
                            print(f"{name} d={d} {tool} seed={seed}: regret "
                                  f"{best - problem.f_min:.4g} ({n} evals, {wall:.1f}s)",
                                  flush=True)
    df = pd.read_csv(out_csv)
    out_md.write_text(summarize(df, command))
    print(out_md.read_text())


if __name__ == "__main__":
    main()
