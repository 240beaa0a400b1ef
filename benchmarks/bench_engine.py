"""Benchmark the search engine: how busy it keeps the workers, and what it costs.

Parts
-----
busy      Busy fraction = (fit time actually slept) / (wall time x n_jobs) of about
          80 trials, cv=3, at ``n_jobs`` 4 and 8, with ``SleepyRegressor``
          (benchmarks/_sleepy.py): ``fit`` sleeps a lognormal time, median 0.2 s,
          sigma 1.0, capped at 3 s, the same for the same (params, fold) in every
          tool; ``partial_fit`` sleeps a tenth of it. The sleeps are logged by the
          estimator itself; the fit time the search reports in ``cv_results_``
          (``mean_fit_time x n_splits`` summed over rows) is kept as a check.
          "Busy when work was ready" leaves out the worker-seconds idle because
          the algorithm had nothing to start (see ``NothingToStart``): a
          synchronous batch draining, or an asynchronous rung or round waiting for
          the results it depends on. What is left idle is the engine's own cost.
          Two upper bounds on the busy fraction come from the tasks a tool ran,
          their sleeps recomputed from the estimator's rule: "LPT bound" places
          them longest first with no dependencies; "chain bound" divides the work
          by the longest chain of rows that continue their parent's models (a
          promotion, a PBT round), which no scheduler can shorten. Neither
          counts the waits of an algorithm's decisions (a promotion needs the
          scores of the rung it is ranked in).
          ``--partial-fit-share 1.0`` makes every partial_fit call sleep as long
          as a fit (median 0.2 s).
overhead  Wall time of about 1,000 candidates x 3 folds of ``NoopRegressor`` (fit
          returns at once) divided by that of GridSearchCV on a 1,000-point grid
          run just before it (each run is paired with its own grid run, since the
          load of a shared machine drifts), at ``n_jobs`` 1 and 2: the cost of the
          engine itself.

Tools (busy)
------------
bayes      BayesSearchCV(n_iter=80), default n_points.
hyperband  HyperbandSearchCV(resource="partial_fit", max_resources=27, factor=3):
           69 trial rows (49 candidates), continued training.
genetic    GeneticSearchCV(population_size=16, n_generations=5): 16 + 15 x 4 = 76.
pbt        PBTSearchCV(population_size=10, max_resources=40, perturbation_interval=5):
           10 members x 8 rounds = 80 rows of 5 partial_fit calls.
random     RandomizedSearchCV(n_iter=80).
optuna     Optuna TPESampler(seed), ``study.optimize(objective, n_trials=80,
           n_jobs=n_jobs)``: threads, a new trial as soon as one ends; each trial
           fits its 3 folds one after the other (the usual Optuna objective).
X-async    the skhpo searcher X with ``asynchronous=True``, run when the searcher has
           that parameter (the synchronous rows then run with
           ``asynchronous=False``).

Tools (overhead)
----------------
grid       GridSearchCV on x0 (25 values) x x1 (40 values): 1,000 candidates
           (against its paired grid run: the noise level of the ratio).
random     RandomizedSearchCV(n_iter=1000) on the same grid (all of it).
bayes      BayesSearchCV(n_iter=1000, n_initial_points=1000): the whole budget is
           the quasi-random initial design, so no GP is fitted and what is
           measured is the engine (batches of n_points=4), not the surrogate.
genetic    GeneticSearchCV(population_size=20, n_generations=53): 1,008.
hyperband-param
           HyperbandSearchCV(resource="budget", max_resources=81,
           hyperband_iterations=5): 1,030 rows, each fitted from scratch.
hyperband-partial_fit
           the same on resource="partial_fit": models kept between rungs.
pbt        PBTSearchCV(population_size=20, max_resources=50,
           perturbation_interval=1): 1,000 rows.
The skhpo searchers use x0, x1 ~ Real(0, 1) (a grid has too few points for the
genetic search, which never re-evaluates a point), and get ``-async`` variants as
above.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_engine.py --repeats 3 \\
        --out benchmarks/results/engine

writes ``<out>_busy.csv`` and ``<out>_overhead.csv`` (one row per run, flushed as
runs finish) and ``<out>.md`` (medians). ``--summarize`` only rebuilds the tables;
``--parts``, ``--tools``, ``--overhead-tools``, ``--busy-n-jobs``,
``--overhead-n-jobs`` and ``--overhead-repeats`` (default 5) select a subset, and
``--median-s 0.01 --repeats 1 --overhead-repeats 1`` checks the script in a few
minutes.
"""

from __future__ import annotations

import argparse
import csv
import heapq
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# run from a checkout without installing skhpo; also makes benchmarks._sleepy
# importable in the loky workers, which inherit sys.path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
)

from benchmarks._sleepy import NoopRegressor, SleepyRegressor  # noqa: E402

SKHPO_TOOLS = ("bayes", "hyperband", "genetic", "pbt")
BUSY_TOOLS = SKHPO_TOOLS + ("random", "optuna")
OVERHEAD_TOOLS = ("grid", "random", "bayes", "genetic", "hyperband-param",
                  "hyperband-partial_fit", "pbt")
KINDS = ["a", "b", "c"]
N_SPLITS = 3
N_ROWS_BUSY = 300
N_ROWS_OVERHEAD = 30
BUSY_FIELDS = ("tool", "asynchronous", "n_jobs", "repeat", "median_s", "n_trials", "n_fits",
               "wall_time_s", "slept_s", "reported_fit_time_s", "busy_fraction",
               "lpt_busy_bound", "chain_busy_bound", "nothing_to_start_s", "engine_busy_fraction",
               "partial_fit_share", "best_score", "skhpo_commit")
OVERHEAD_FIELDS = ("tool", "asynchronous", "n_jobs", "repeat", "n_candidates",
                   "wall_time_s", "grid_wall_time_s", "ratio_to_grid", "skhpo_commit")


# --------------------------------------------------------------------------------
# Searchers
# --------------------------------------------------------------------------------


def _searcher_class(name):
    import skhpo
    return {"bayes": skhpo.BayesSearchCV, "hyperband": skhpo.HyperbandSearchCV,
            "genetic": skhpo.GeneticSearchCV, "pbt": skhpo.PBTSearchCV}[name]


def supports_async(name):
    """Whether the skhpo searcher ``name`` has the ``asynchronous`` parameter."""
    from skhpo import Real
    cls = _searcher_class(name)
    return "asynchronous" in cls(SleepyRegressor(), {"x0": Real(0, 1)}).get_params()


def split_tool(tool):
    """("genetic-async", ...) -> ("genetic", True); others -> (tool, False)."""
    if tool.endswith("-async"):
        return tool[: -len("-async")], True
    return tool, False


def expand_async(tools):
    """Each skhpo tool, followed by its -async variant where it exists."""
    out = []
    for tool in tools:
        out.append(tool)
        base = tool.split("-")[0]
        if base in SKHPO_TOOLS and not tool.endswith("-async") and supports_async(base):
            out.append(f"{tool}-async")
    return out


def skhpo_space():
    from skhpo import Categorical, Real
    return {"x0": Real(0.0, 1.0), "x1": Real(0.0, 1.0), "kind": Categorical(KINDS)}


def scipy_space():
    return {"x0": stats.uniform(0, 1), "x1": stats.uniform(0, 1), "kind": KINDS}


def _with_mode(search, name, asynchronous):
    """Set ``asynchronous`` when the searcher has it (False keeps the sync rows explicit)."""
    if "asynchronous" in search.get_params():
        search.set_params(asynchronous=asynchronous)
    elif asynchronous:
        raise ValueError(f"{name} has no 'asynchronous' parameter yet")
    return search


def make_busy_search(tool, estimator, *, n_jobs, seed):
    name, asynchronous = split_tool(tool)
    common = dict(cv=KFold(N_SPLITS), n_jobs=n_jobs, refit=False, random_state=seed)
    if name == "random":
        return RandomizedSearchCV(estimator, scipy_space(), n_iter=80, **common)
    cls = _searcher_class(name)
    budget = {
        "bayes": dict(n_iter=80),
        "hyperband": dict(resource="partial_fit", max_resources=27, factor=3),
        "genetic": dict(population_size=16, n_generations=5),
        "pbt": dict(population_size=10, max_resources=40, perturbation_interval=5),
    }[name]
    search = cls(estimator, skhpo_space(), **budget, **common)
    return _with_mode(search, name, asynchronous)


def make_overhead_search(tool, estimator, *, n_jobs, seed):
    name, asynchronous = split_tool(tool)
    grid = {"x0": list(np.linspace(0, 1, 25)), "x1": list(np.linspace(0, 1, 40))}
    common = dict(cv=KFold(N_SPLITS), n_jobs=n_jobs, refit=False)
    if name == "grid":
        return GridSearchCV(estimator, grid, **common)
    if name == "random":
        return RandomizedSearchCV(estimator, grid, n_iter=1000, random_state=seed, **common)
    from skhpo import Real
    space = {"x0": Real(0.0, 1.0), "x1": Real(0.0, 1.0)}
    budget = {
        "bayes": dict(n_iter=1000, n_initial_points=1000),
        "genetic": dict(population_size=20, n_generations=53),
        "hyperband-param": dict(resource="budget", max_resources=81, factor=3,
                                hyperband_iterations=5),
        "hyperband-partial_fit": dict(resource="partial_fit", max_resources=81, factor=3,
                                      hyperband_iterations=5),
        "pbt": dict(population_size=20, max_resources=50, perturbation_interval=1),
    }[name]
    search = _searcher_class(name.split("-")[0])(estimator, space, **budget,
                                                  random_state=seed, **common)
    return _with_mode(search, name, asynchronous)


# --------------------------------------------------------------------------------
# Optuna: an asynchronous loop of threads
# --------------------------------------------------------------------------------


def run_optuna(estimator, X, y, *, n_trials, n_jobs, seed):
    """Return (study, fit seconds of each trial); each trial fits its folds in turn."""
    import optuna
    folds = list(KFold(N_SPLITS).split(X, y))
    trial_seconds = []

    def objective(trial):
        params = {"x0": trial.suggest_float("x0", 0.0, 1.0),
                  "x1": trial.suggest_float("x1", 0.0, 1.0),
                  "kind": trial.suggest_categorical("kind", KINDS)}
        scores, seconds = [], 0.0
        for train, test in folds:
            model = clone(estimator).set_params(**params)
            start = time.perf_counter()
            model.fit(X[train], y[train])
            seconds += time.perf_counter() - start
            scores.append(model.score(X[test], y[test]))
        trial_seconds.append(seconds)  # list.append is atomic across threads
        return float(np.mean(scores))

    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=n_trials, n_jobs=n_jobs)
    return study, np.asarray(trial_seconds)


# --------------------------------------------------------------------------------
# One run of each part
# --------------------------------------------------------------------------------


def _data(n_rows):
    """Column 0 holds the row numbers: SleepyRegressor keys its sleeps on the fold."""
    return np.arange(n_rows, dtype=float)[:, None], np.zeros(n_rows)


def _read_log(path):
    """The sleeps (seconds) the estimators logged, one per fit or partial_fit."""
    if not os.path.exists(path):
        return np.zeros(0)
    return np.loadtxt(path, ndmin=1)


def lpt_busy_bound(durations, n_jobs):
    """Busy fraction of these tasks on ``n_jobs`` workers with no dependencies between them.

    The tasks (a (trial, fold) for the searchers, a trial of 3 folds for Optuna) are
    placed longest first, each on the worker that frees first (LPT, within 4/3 of
    the shortest possible wall time): with a heavy tail the last long tasks leave
    workers idle even for a perfect asynchronous engine, so this is about the best
    a tool can reach with the tasks it ran, at the granularity it dispatches.
    """
    finish = [0.0] * n_jobs
    for duration in sorted(durations, reverse=True):
        heapq.heappush(finish, heapq.heappop(finish) + duration)
    return float(np.sum(durations) / (n_jobs * max(finish))) if len(durations) else np.nan


def fold_seconds(results, estimator, X):
    """The sleep of every (row, fold) task of a search, from the estimator's own rule.

    ``SleepyRegressor`` sleeps a deterministic time per (params, training fold);
    a row that continues its parent's models (``parent_id``) runs
    ``n_resources`` minus the parent's ``partial_fit`` calls, each sleeping
    ``partial_fit_share`` of a fit. Shape (rows, folds).
    """
    folds = [train for train, _ in KFold(N_SPLITS).split(X)]
    resources = results.get("n_resources")
    row_of = {int(t): i for i, t in enumerate(results.get("trial_id", []))}
    seconds = np.zeros((len(results["params"]), N_SPLITS))
    for i, params in enumerate(results["params"]):
        model = clone(estimator).set_params(**params)
        share = 1.0
        if resources is not None:
            parent = int(results["parent_id"][i])
            before = resources[row_of[parent]] if parent >= 0 else 0
            share = estimator.partial_fit_share * (resources[i] - before)
        seconds[i] = [share * model.fit_seconds(X[train]) for train in folds]
    return seconds


def row_dependencies(results) -> list[list[int]]:
    """For each row, the rows that must end before it starts: the row whose
    models it continues (``parent_id``) and, for PBT, its member's previous row."""
    n_rows = len(results["params"])
    trial_ids = np.asarray(results.get("trial_id", range(n_rows)), int)
    parents = np.asarray(results.get("parent_id", np.full(n_rows, -1)), int)
    row_of = {t: i for i, t in enumerate(trial_ids)}
    members = results.get("member")
    last_of_member: dict = {}
    needs = [[] for _ in range(n_rows)]
    for i in np.argsort(trial_ids):
        if parents[i] >= 0:
            needs[i].append(row_of[parents[i]])
        if members is not None:
            if members[i] in last_of_member:
                needs[i].append(last_of_member[members[i]])
            last_of_member[members[i]] = i
    return needs


def chain_busy_bound(needs, seconds, n_jobs):
    """An upper bound on the busy fraction any scheduler could reach with these
    tasks and their dependencies.

    A row starts after the rows it needs end, and ends with its own slowest
    fold, so no schedule is shorter than the longest chain of rows, nor than the
    total work spread evenly on ``n_jobs`` workers.
    """
    finish = np.zeros(len(seconds))
    for i in _topological(needs):
        finish[i] = max((finish[j] for j in needs[i]), default=0.0) + seconds[i].max()
    total = seconds.sum()
    return float(total / (n_jobs * max(finish.max(), total / n_jobs)))


def _topological(needs) -> list[int]:
    order, placed = [], [False] * len(needs)
    while len(order) < len(needs):
        for i, parents in enumerate(needs):
            if not placed[i] and all(placed[j] for j in parents):
                placed[i] = True
                order.append(i)
    return order


class NothingToStart:
    """Worker-seconds left idle because the algorithm had no trial to start.

    Wraps ``SearchLoop._dispatch_new`` while active: after each call, the workers
    that still have no task (``n_jobs`` minus the tasks in flight) stay idle
    until the next call, and the loop had just asked the strategy for as many
    trials as were free, so that idle time is the algorithm's (a synchronous
    batch draining, an asynchronous rung or round waiting for results), not the
    engine's. ``busy / (1 - nothing_to_start / (wall x n_jobs))`` is then the
    busy fraction of the time the engine had work to give.
    """

    def __init__(self, n_jobs):
        from skhpo._loop import SearchLoop
        self.n_jobs, self.loop_class = n_jobs, SearchLoop
        self.seconds, self._last = 0.0, None

    def __enter__(self):
        original = self.loop_class._dispatch_new
        counter = self

        def dispatch_new(loop):
            stop = original(loop)
            now = time.perf_counter()
            if counter._last is not None:
                then, idle = counter._last
                counter.seconds += idle * (now - then)
            counter._last = (now, max(0, counter.n_jobs - len(loop._running)))
            return stop

        self._original = original
        self.loop_class._dispatch_new = dispatch_new
        return self

    def __exit__(self, *exc):
        self.loop_class._dispatch_new = self._original
        if self._last is not None:  # until the end of fit
            then, idle = self._last
            self.seconds += idle * (time.perf_counter() - then)
        return False


def run_busy(tool, n_jobs, repeat):
    X, y = _data(N_ROWS_BUSY)
    nothing_to_start = chain_bound = np.nan
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "sleeps.txt")
        estimator = SleepyRegressor(median_s=MEDIAN_S, log_path=log,
                                    partial_fit_share=PARTIAL_FIT_SHARE)
        start = time.perf_counter()
        if tool == "optuna":
            study, tasks = run_optuna(estimator, X, y, n_trials=80, n_jobs=n_jobs,
                                      seed=repeat)
            wall = time.perf_counter() - start
            n_trials, best = len(study.trials), study.best_value
        else:
            search = make_busy_search(tool, estimator, n_jobs=n_jobs, seed=repeat)
            if tool == "random":
                search.fit(X, y)
            else:
                with NothingToStart(n_jobs) as idle:
                    search.fit(X, y)
                nothing_to_start = idle.seconds
            wall = time.perf_counter() - start
            res = search.cv_results_
            n_trials = len(res["params"])
            seconds = fold_seconds(res, estimator, X)
            tasks = seconds.ravel()
            needs = row_dependencies(res)
            chain_bound = chain_busy_bound(needs, seconds, n_jobs)
            best = float(np.nanmax(np.asarray(res["mean_test_score"], float)))
        reported = float(np.nansum(tasks))
        sleeps = _read_log(log)
        n_fits, slept = len(sleeps), float(sleeps.sum())
    busy = slept / (wall * n_jobs)
    return dict(tool=tool, asynchronous=split_tool(tool)[1], n_jobs=n_jobs, repeat=repeat,
                median_s=MEDIAN_S, n_trials=n_trials, n_fits=n_fits, wall_time_s=wall,
                slept_s=slept,
                reported_fit_time_s=reported, busy_fraction=busy,
                lpt_busy_bound=lpt_busy_bound(tasks, n_jobs), chain_busy_bound=chain_bound,
                nothing_to_start_s=nothing_to_start,
                engine_busy_fraction=busy / (1 - nothing_to_start / (wall * n_jobs)),
                partial_fit_share=PARTIAL_FIT_SHARE, best_score=best,
                skhpo_commit=SKHPO_COMMIT)


def _overhead_wall(tool, n_jobs, repeat):
    X, y = _data(N_ROWS_OVERHEAD)
    search = make_overhead_search(tool, NoopRegressor(), n_jobs=n_jobs, seed=repeat)
    start = time.perf_counter()
    search.fit(X, y)
    return time.perf_counter() - start, len(search.cv_results_["params"])


def run_overhead(tool, n_jobs, repeat):
    """Time GridSearchCV, then ``tool`` right after it: the machine's load drifts."""
    grid_wall, _ = _overhead_wall("grid", n_jobs, repeat)
    wall, n_candidates = _overhead_wall(tool, n_jobs, repeat)
    return dict(tool=tool, asynchronous=split_tool(tool)[1], n_jobs=n_jobs, repeat=repeat,
                n_candidates=n_candidates, wall_time_s=wall, grid_wall_time_s=grid_wall,
                ratio_to_grid=wall / grid_wall, skhpo_commit=SKHPO_COMMIT)


def warm_up(n_jobs):
    """Start ``n_jobs`` loky workers and import skhpo and the estimators there, untimed."""
    if n_jobs == 1:
        return
    from skhpo import HyperbandSearchCV
    X, y = _data(N_ROWS_BUSY)
    est = SleepyRegressor(median_s=0.01)
    RandomizedSearchCV(est, scipy_space(), n_iter=2 * n_jobs, cv=KFold(N_SPLITS),
                       n_jobs=n_jobs, refit=False, random_state=0).fit(X, y)
    HyperbandSearchCV(est, skhpo_space(), resource="partial_fit", max_resources=3,
                      cv=KFold(N_SPLITS), n_jobs=n_jobs, refit=False,
                      random_state=0).fit(X, y)


# --------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------


def _ordered(values, order):
    known = [t for t in order if t in values]
    return known + sorted(set(values) - set(known))


def summarize_busy(df):
    tools = _ordered(set(df.tool), expand_tool_order(BUSY_TOOLS))
    jobs = sorted(set(df.n_jobs))
    lines = [
        "| tool | " + " | ".join(f"busy, n_jobs={j}" for j in jobs) + " | "
        + " | ".join(f"LPT bound, n_jobs={j}" for j in jobs) + " | "
        + " | ".join(f"chain bound, n_jobs={j}" for j in jobs) + " | "
        + " | ".join(f"wall (s), n_jobs={j}" for j in jobs) + " | "
        + " | ".join(f"busy when work was ready, n_jobs={j}" for j in jobs)
        + " | trials | fit time slept (s) | reported / slept | best score | runs |",
        "|---|" + "---:|" * (5 * len(jobs) + 5),
    ]
    for tool in tools:
        d = df[df.tool == tool]
        busy = [d[d.n_jobs == j].busy_fraction.median() for j in jobs]
        bound = [d[d.n_jobs == j].lpt_busy_bound.median() for j in jobs]
        chain = [d[d.n_jobs == j].chain_busy_bound.median()
                 if "chain_busy_bound" in d else np.nan for j in jobs]
        wall = [d[d.n_jobs == j].wall_time_s.median() for j in jobs]
        engine = [d[d.n_jobs == j].engine_busy_fraction.median()
                  if "engine_busy_fraction" in d else np.nan for j in jobs]
        lines.append(
            f"| {tool} | " + " | ".join(f"{b:.0%}" for b in busy) + " | "
            + " | ".join(f"{b:.0%}" for b in bound) + " | "
            + " | ".join("n/a" if np.isnan(c) else f"{c:.0%}" for c in chain) + " | "
            + " | ".join(f"{w:.1f}" for w in wall) + " | "
            + " | ".join("n/a" if np.isnan(e) else f"{e:.0%}" for e in engine)
            + f" | {d.n_trials.median():.0f} | {d.slept_s.median():.1f} | "
            f"{(d.reported_fit_time_s / d.slept_s).median():.3f} | "
            f"{d.best_score.median():.4f} | {len(d)} |"
        )
    return "\n".join(lines)


def summarize_overhead(df):
    tools = _ordered(set(df.tool), expand_tool_order(OVERHEAD_TOOLS))
    jobs = sorted(set(df.n_jobs))
    lines = [
        "| tool | candidates | " + " | ".join(f"wall (s), n_jobs={j}" for j in jobs)
        + " | " + " | ".join(f"ratio to grid, n_jobs={j}" for j in jobs) + " | runs |",
        "|---|---:|" + "---:|" * (2 * len(jobs) + 1),
    ]
    for tool in tools:
        d = df[df.tool == tool]
        walls = [d[d.n_jobs == j].wall_time_s.median() for j in jobs]
        ratios = [d[d.n_jobs == j].ratio_to_grid.median() for j in jobs]
        lines.append(
            f"| {tool} | {d.n_candidates.median():.0f} | "
            + " | ".join(f"{w:.2f}" for w in walls) + " | "
            + " | ".join(f"{r:.2f}" for r in ratios) + f" | {len(d)} |"
        )
    return "\n".join(lines)


def expand_tool_order(tools):
    return [t for tool in tools for t in (tool, f"{tool}-async")]


def _skhpo_commit():
    """The last commit that changed skhpo/, with '+dirty' if skhpo/ has local changes."""
    import subprocess
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "log", "-1", "--format=%h", "--", "skhpo"], cwd=root,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "skhpo"], cwd=root,
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


SKHPO_COMMIT = "unknown"
MEDIAN_S = 0.2
PARTIAL_FIT_SHARE = 0.1


def versions():
    import joblib
    import optuna
    import sklearn
    return (f"Python {platform.python_version()}, scikit-learn {sklearn.__version__}, "
            f"joblib {joblib.__version__}, optuna {optuna.__version__}")


def _run_part(part, tools, jobs, repeats, csv_path, append):
    fields = BUSY_FIELDS if part == "busy" else OVERHEAD_FIELDS
    run = run_busy if part == "busy" else run_overhead
    mode = "a" if append and csv_path.exists() else "w"
    with open(csv_path, mode, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        if mode == "w":
            writer.writeheader()
        for repeat in repeats:
            for n_jobs in jobs:
                warm_up(n_jobs)
                for tool in tools:
                    row = run(tool, n_jobs, repeat)
                    writer.writerow(row)
                    fh.flush()
                    extra = (f"busy={row['busy_fraction']:.0%} slept={row['slept_s']:.1f}s "
                             f"reported={row['reported_fit_time_s']:.1f}s "
                             f"trials={row['n_trials']}" if part == "busy"
                             else f"grid={row['grid_wall_time_s']:.2f}s "
                             f"ratio={row['ratio_to_grid']:.2f} "
                             f"candidates={row['n_candidates']}")
                    print(f"{part:8s} {tool:26s} n_jobs={n_jobs} repeat={repeat} "
                          f"wall={row['wall_time_s']:.2f}s {extra}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", nargs="+", default=["busy", "overhead"],
                        choices=["busy", "overhead"])
    parser.add_argument("--tools", nargs="+", default=None,
                        help="busy tools (default: all, with -async variants where the "
                             f"searcher supports it): {', '.join(BUSY_TOOLS)}")
    parser.add_argument("--overhead-tools", nargs="+", default=None,
                        help=f"overhead tools (default: all): {', '.join(OVERHEAD_TOOLS)}")
    parser.add_argument("--busy-n-jobs", nargs="+", type=int, default=[4, 8])
    parser.add_argument("--overhead-n-jobs", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the busy part")
    parser.add_argument("--overhead-repeats", type=int, default=5)
    parser.add_argument("--median-s", type=float, default=0.2,
                        help="median fit sleep of the busy part (a smaller one for a "
                             "quick check of the script)")
    parser.add_argument("--partial-fit-share", type=float, default=0.1,
                        help="sleep of one partial_fit call as a share of the fit sleep "
                             "(1.0: every partial_fit call sleeps as long as a fit)")
    parser.add_argument("--out", default="benchmarks/results/engine",
                        help="prefix of <out>_busy.csv, <out>_overhead.csv and <out>.md")
    parser.add_argument("--append", action="store_true",
                        help="append to existing CSVs instead of overwriting them")
    parser.add_argument("--summarize", action="store_true",
                        help="only rebuild <out>.md from the CSVs")
    args = parser.parse_args(argv)

    global SKHPO_COMMIT, MEDIAN_S, PARTIAL_FIT_SHARE
    MEDIAN_S, PARTIAL_FIT_SHARE = args.median_s, args.partial_fit_share
    import skhpo  # noqa: F401  (import now: the whole run uses one version)
    SKHPO_COMMIT = _skhpo_commit()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    csv_paths = {part: out.with_name(out.name + f"_{part}.csv")
                 for part in ("busy", "overhead")}

    if not args.summarize:
        import optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        warnings.filterwarnings("ignore")
        tools = {"busy": expand_async(args.tools or BUSY_TOOLS),
                 "overhead": expand_async(args.overhead_tools or OVERHEAD_TOOLS)}
        jobs = {"busy": args.busy_n_jobs, "overhead": args.overhead_n_jobs}
        repeats = {"busy": args.repeats, "overhead": args.overhead_repeats}
        for part in args.parts:
            _run_part(part, tools[part], jobs[part], range(repeats[part]), csv_paths[part],
                      args.append)

    sections = []
    if csv_paths["busy"].exists():
        df = pd.read_csv(csv_paths["busy"])
        shares = ", ".join(f"{v:g}" for v in sorted(set(df.get("partial_fit_share", [0.1]))))
        sections.append("Busy fraction = fit time slept / (wall time x n_jobs); busy when "
                        "work was ready = the same without the worker-seconds idle because "
                        "the algorithm had no trial to start; medians over repeats; "
                        f"partial_fit sleeps {shares} x the fit sleep:\n\n"
                        f"{summarize_busy(df)}\n")
    if csv_paths["overhead"].exists():
        df = pd.read_csv(csv_paths["overhead"])
        sections.append("Engine overhead, do-nothing estimator, cv=3: median wall time, and "
                        "median ratio to the wall time of the GridSearchCV run just before "
                        "(1,000 candidates; the grid row is GridSearchCV against itself, "
                        "the noise level):\n\n"
                        f"{summarize_overhead(df)}\n")
    commits = set()
    for path in csv_paths.values():
        if path.exists():
            commits |= set(pd.read_csv(path).skhpo_commit.astype(str))
    header = (f"skhpo commit {', '.join(sorted(commits)) or 'n/a'}; {versions()}; machine: "
              f"{os.cpu_count()} cores, OMP/MKL/OpenBLAS threads = "
              f"{os.environ.get('OMP_NUM_THREADS')}.\n\n")
    text = header + "\n".join(sections)
    out.with_suffix(".md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
