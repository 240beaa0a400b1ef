"""Benchmark (asynchronous) HyperbandSearchCV against Ray Tune's ASHA and Optuna's pruners.

Task
----
The ``mlp`` task of ``bench_hyperband.py``: a skorch ``NeuralNetClassifier`` on digits
(scaled to [0, 1]), Linear(64, h), ReLU, Dropout(p), Linear(h, 10); SGD with momentum
0.9, batch 64, ``train_split=None``; h int in [16, 256], lr log [1e-4, 1e-1], p in
[0, 0.5]; one resource unit is one epoch, up to 27 epochs per trial, reduction factor 3,
at least 1 epoch. The module class is defined at module level here (same architecture
as ``bench_hyperband.mlp_task``'s) so that nets pickle into worker processes.

Tools (2 workers each, random sampling everywhere)
-----
hyperband        skhpo HyperbandSearchCV(resource="partial_fit", min_resources=1,
                 max_resources=27, factor=3, sampler="random", n_jobs=2): one
                 Hyperband iteration, 49 candidates in 4 brackets, promoted nets
                 continue; 357 epochs per fold by the schedule.
hyperband_async_checkpoint
                 hyperband_async with ``checkpoint=<a file>``: the search state,
                 with every live net, is written after every finished trial. The
                 seconds spent gathering and writing it (``checkpoint_s``, timed
                 around ``SearchLoop.state_dict`` and ``save_checkpoint``) and its
                 size are recorded.
hyperband_async  the same with ``asynchronous=True``, run only when the installed
                 HyperbandSearchCV has that parameter (a row with the error otherwise).
ray_asha         Ray Tune ``ASHAScheduler(time_attr="training_iteration", max_t=27,
                 grace_period=1, reduction_factor=3)`` (one bracket, Ray's default),
                 ``BasicVariantGenerator(random_state=seed)``, ``ray.init(num_cpus=2)``,
                 one CPU per trial, ``reuse_actors=True``.
optuna_hyperband Optuna ``HyperbandPruner(min_resource=1, max_resource=27,
                 reduction_factor=3)`` (4 brackets), ``RandomSampler(seed=seed)``,
                 ``study.optimize(n_jobs=2)`` (two threads).
optuna_sha       Optuna ``SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)``,
                 otherwise as optuna_hyperband.

Protocol
--------
``train_test_split(test_size=0.25, stratify=y, random_state=seed)`` as in
``bench_hyperband.py``; every tool uses ``StratifiedKFold(3, shuffle=True,
random_state=seed)`` on the training part. skhpo evaluates (candidate, fold) tasks.
A Ray Tune or Optuna trial trains the three fold nets of its configuration in lockstep,
one ``partial_fit`` epoch each, and reports the mean validation accuracy over the folds
after every epoch (``tune.report`` / ``trial.report``), which is the number skhpo
ranks candidates by at a rung. Ray Tune and Optuna get the epoch budget skhpo's
schedule spends (357 epochs of three folds); a trial is stopped (Ray: a ``Stopper``'s
``stop_all``; Optuna: pruned and ``study.stop()``) once the budget is spent. The best
configuration is the one with the best mean fold score at 27 epochs (skhpo: its
``best_params_``, also chosen at the largest resource), refitted on the whole training
part for 27 epochs and scored on the held-out part.

Epochs are counted, not computed: a skorch callback appends one line with the epoch's
duration to a per-run file from whichever process or thread trains the net. ``epochs``
is the total over all folds, refit excluded; ``busy`` is the summed epoch time divided
by (wall time x 2 workers). Wall time runs from the start of the search to the end of
the refit; ``ray.init`` is timed separately (``startup_s``) and is not in it. Tools run
in a rotated order per seed so that load drift on a shared machine hits them alike.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_asha.py --seeds 0 1 2 \\
        --out benchmarks/results/asha

writes ``<out>.csv`` (one row per run, flushed as runs finish) and ``<out>.md``
(medians per tool). ``--summarize`` only rebuilds the table from the CSV.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import sys
import tempfile
import threading
import time
import traceback
import warnings
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
_BENCH_DIR = str(Path(__file__).resolve().parent)
_REPO_DIR = str(Path(__file__).resolve().parents[1])
# run from a checkout without installing skhpo; Ray's and loky's worker processes
# inherit PYTHONPATH, so they import this module (and its classes) by name
for _path in (_BENCH_DIR, _REPO_DIR):
    if _path not in sys.path:
        sys.path.insert(0, _path)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [_REPO_DIR, _BENCH_DIR] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import StratifiedKFold, train_test_split  # noqa: E402
from skorch import NeuralNetClassifier  # noqa: E402
from skorch.callbacks import Callback  # noqa: E402
from torch import nn  # noqa: E402

from skhpo import HyperbandSearchCV, Integer, Real  # noqa: E402

TOOLS = ("hyperband", "hyperband_async", "hyperband_async_checkpoint", "ray_asha",
         "optuna_hyperband", "optuna_sha")
N_JOBS = 2
N_FOLDS = 3
MAX_EPOCHS = 27
MIN_EPOCHS = 1
FACTOR = 3


class MLP(nn.Module):
    """``bench_hyperband.mlp_task``'s module, importable by worker processes."""

    def __init__(self, hidden_units=64, dropout=0.0):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(64, hidden_units), nn.ReLU(),
                                    nn.Dropout(dropout), nn.Linear(hidden_units, 10))

    def forward(self, X):
        return self.layers(X)


class EpochLog(Callback):
    """Appends one line (the epoch's duration in seconds) to ``path`` per epoch.

    An append of a short line is atomic, so loky workers, Ray actors and Optuna's
    threads can all log to one file. Also pins torch to one thread wherever it trains.
    """

    def __init__(self, path=None):
        self.path = path

    def on_train_begin(self, net, **kwargs):
        torch.set_num_threads(1)

    def on_epoch_end(self, net, **kwargs):
        if self.path is not None:
            duration = net.history[-1].get("dur", 0.0)
            with open(self.path, "a") as fh:
                fh.write(f"{duration:.6f}\n")


def read_epoch_log(path):
    """(number of epochs, summed epoch seconds) logged in ``path``."""
    if not os.path.exists(path):
        return 0, 0.0
    durations = np.loadtxt(path, ndmin=1)
    return len(durations), float(durations.sum())


def make_net(log_path=None):
    return NeuralNetClassifier(
        MLP, max_epochs=27, lr=0.01, optimizer=torch.optim.SGD,
        optimizer__momentum=0.9, criterion=nn.CrossEntropyLoss, batch_size=64,
        train_split=None, verbose=0, callbacks=[("epoch_log", EpochLog(log_path))])


def load_data():
    X, y = load_digits(return_X_y=True)
    return (X / 16).astype(np.float32), y.astype(np.int64)


def hyperband_epochs_per_fold(max_epochs, min_epochs=MIN_EPOCHS, factor=FACTOR):
    """Epochs one Hyperband iteration trains per fold when promoted nets continue.

    Bracket s (s_max down to 0) starts n = ceil((s_max + 1) / (s + 1) * factor**s)
    candidates at r = max_epochs / factor**s epochs and keeps floor(n / factor) per rung.
    """
    s_max = round(math.log(max_epochs / min_epochs, factor))
    total = 0
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) / (s + 1) * factor ** s)
        previous = 0
        for i in range(s + 1):
            resource = max_epochs // factor ** (s - i)
            total += n * (resource - previous)
            previous, n = resource, n // factor
    return total


# -- one trial trained by hand (Ray Tune and Optuna) ---------------------------------

def fold_nets(params, log_path):
    """One fresh net per fold, trained one epoch per ``partial_fit`` call."""
    return [make_net(log_path).set_params(**params, max_epochs=1) for _ in range(N_FOLDS)]


def lockstep_epoch(nets, folds, X, y):
    """Train every fold net one more epoch; mean validation accuracy over the folds."""
    scores = []
    for net, (train, valid) in zip(nets, folds):
        net.partial_fit(X[train], y[train])
        scores.append(net.score(X[valid], y[valid]))
    return float(np.mean(scores))


def ray_params(config):
    return {"module__hidden_units": int(config["hidden_units"]), "lr": config["lr"],
            "module__dropout": config["dropout"]}


def ray_trainable(config, X=None, y=None, folds=None, log_path=None, max_epochs=None):
    from ray import tune

    torch.set_num_threads(1)
    nets = fold_nets(ray_params(config), log_path)
    for _ in range(max_epochs):
        tune.report({"score": lockstep_epoch(nets, folds, X, y)})


def run_ray(seed, X, y, folds, log_path, budget):
    """Ray Tune ASHA; returns (best params, best CV score, number of trials, startup s)."""
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search import BasicVariantGenerator

    class EpochBudget(tune.Stopper):
        """Stops the experiment once ``budget`` lockstep epochs were reported."""

        def __init__(self):
            self.reported = 0

        def __call__(self, trial_id, result):
            self.reported += 1
            return False

        def stop_all(self):
            return self.reported >= budget

    start = time.perf_counter()
    ray.init(num_cpus=N_JOBS, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    startup = time.perf_counter() - start
    try:
        space = {"hidden_units": tune.randint(16, 257), "lr": tune.loguniform(1e-4, 1e-1),
                 "dropout": tune.uniform(0.0, 0.5)}
        scheduler = ASHAScheduler(time_attr="training_iteration", max_t=MAX_EPOCHS,
                                  grace_period=MIN_EPOCHS, reduction_factor=FACTOR)
        with tempfile.TemporaryDirectory(prefix="bench_asha_ray_") as storage:
            tuner = tune.Tuner(
                tune.with_resources(
                    tune.with_parameters(ray_trainable, X=X, y=y, folds=folds,
                                         log_path=log_path, max_epochs=MAX_EPOCHS),
                    {"cpu": 1}),
                param_space=space,
                tune_config=tune.TuneConfig(
                    # every trial trains at least one epoch, so the budget bounds them
                    metric="score", mode="max", scheduler=scheduler, num_samples=budget,
                    search_alg=BasicVariantGenerator(random_state=seed,
                                                     max_concurrent=N_JOBS),
                    reuse_actors=True),
                run_config=tune.RunConfig(storage_path=storage, verbose=0,
                                          stop=EpochBudget()))
            grid = tuner.fit()
            finished = [r for r in grid if r.metrics
                        and r.metrics.get("training_iteration") == MAX_EPOCHS]
            best = max(finished, key=lambda r: r.metrics["score"])
            started = sum(1 for r in grid if r.metrics)
            return ray_params(best.config), best.metrics["score"], started, startup
    finally:
        ray.shutdown()


def run_optuna(tool, seed, X, y, folds, log_path, budget):
    """Optuna with a pruner; returns (best params, best CV score, number of trials)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if tool == "optuna_hyperband":
        pruner = optuna.pruners.HyperbandPruner(
            min_resource=MIN_EPOCHS, max_resource=MAX_EPOCHS, reduction_factor=FACTOR)
    else:
        pruner = optuna.pruners.SuccessiveHalvingPruner(
            min_resource=MIN_EPOCHS, reduction_factor=FACTOR)
    study = optuna.create_study(direction="maximize", pruner=pruner,
                                sampler=optuna.samplers.RandomSampler(seed=seed))
    lock = threading.Lock()
    spent = {"epochs": 0}

    def objective(trial):
        params = {"module__hidden_units": trial.suggest_int("hidden_units", 16, 256),
                  "lr": trial.suggest_float("lr", 1e-4, 1e-1, log=True),
                  "module__dropout": trial.suggest_float("dropout", 0.0, 0.5)}
        nets = fold_nets(params, log_path)
        score = float("nan")
        for epoch in range(1, MAX_EPOCHS + 1):
            with lock:
                exhausted = spent["epochs"] >= budget
                spent["epochs"] += not exhausted
            if exhausted:
                trial.study.stop()
                raise optuna.TrialPruned()
            score = lockstep_epoch(nets, folds, X, y)
            trial.report(score, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return score

    study.optimize(objective, n_trials=budget, n_jobs=N_JOBS)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = max(complete, key=lambda t: t.value)
    params = {"module__hidden_units": best.params["hidden_units"], "lr": best.params["lr"],
              "module__dropout": best.params["dropout"]}
    return params, best.value, len(study.trials)


# -- one run -------------------------------------------------------------------------

def _import_in_worker():
    """Runs in a worker: unpickling it imports this module, hence torch, skorch, skhpo."""
    time.sleep(0.2)  # long enough that every worker of the pool gets one
    return os.getpid()


def start_joblib_workers():
    """Start (or reuse) the search's loky workers and import this module in each.

    The counterpart of ``ray.init``: both are timed as ``startup_s``, out of the wall
    time, so that a tool is not charged for starting its pool of worker processes.
    loky replaces its reusable pool whenever it is asked for one with other settings,
    so the warm-up goes through the executor the search itself uses when skhpo has one
    (``skhpo._executor.LokyExecutor``), and through ``joblib.Parallel`` otherwise.
    """
    try:
        from skhpo._executor import LokyExecutor
    except ImportError:
        LokyExecutor = None
    start = time.perf_counter()
    workers = set()
    while len(workers) < N_JOBS:
        if LokyExecutor is None:
            from joblib import Parallel, delayed

            workers.update(Parallel(n_jobs=N_JOBS)(delayed(_import_in_worker)()
                                                   for _ in range(2 * N_JOBS)))
        else:
            executor = LokyExecutor(N_JOBS)
            futures = [executor._submit(_import_in_worker, (), {}) for _ in range(2 * N_JOBS)]
            workers.update(future.result() for future in futures)
            executor.shutdown()
    return time.perf_counter() - start


class CheckpointTimer:
    """Time every checkpoint of the search loop while active: gathering its state
    (``SearchLoop.state_dict``, which serializes new models) and writing it
    (``save_checkpoint``)."""

    def __enter__(self):
        from skhpo import _loop
        self.seconds, self.writes, self.bytes = 0.0, 0, 0
        self._module, self._original = _loop, _loop.save_checkpoint
        self._state_dict = _loop.SearchLoop.state_dict

        def timed_state(loop):
            start = time.perf_counter()
            try:
                return self._state_dict(loop)
            finally:
                self.seconds += time.perf_counter() - start

        def timed(path, state):
            start = time.perf_counter()
            self._original(path, state)
            self.seconds += time.perf_counter() - start
            self.writes += 1
            self.bytes = os.path.getsize(path)

        _loop.save_checkpoint = timed
        _loop.SearchLoop.state_dict = timed_state
        return self

    def __exit__(self, *exc):
        self._module.save_checkpoint = self._original
        self._module.SearchLoop.state_dict = self._state_dict
        return False


def has_asynchronous():
    return "asynchronous" in HyperbandSearchCV(make_net(), {}).get_params()


def run_one(tool, seed, X, y, log_dir):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=seed)
    cv = StratifiedKFold(N_FOLDS, shuffle=True, random_state=seed)
    folds = list(cv.split(X_train, y_train))
    log_path = str(Path(log_dir) / f"{tool}_{seed}.log")
    refit_path = str(Path(log_dir) / f"{tool}_{seed}_refit.log")
    for path in (log_path, refit_path):  # a rerun of the same tool and seed starts afresh
        if os.path.exists(path):
            os.remove(path)
    budget = hyperband_epochs_per_fold(MAX_EPOCHS)
    row = {"tool": tool, "seed": seed, "error": "", "startup_s": 0.0}
    if tool.startswith("hyperband_async") and not has_asynchronous():
        row["error"] = "HyperbandSearchCV has no 'asynchronous' parameter"
        return row
    torch.manual_seed(seed)
    if tool.startswith("hyperband"):
        row["startup_s"] = start_joblib_workers()
    start = time.perf_counter()
    try:
        if tool.startswith("hyperband"):
            search = HyperbandSearchCV(
                make_net(log_path),
                {"module__hidden_units": Integer(16, 256),
                 "lr": Real(1e-4, 1e-1, prior="log-uniform"),
                 "module__dropout": Real(0.0, 0.5)},
                resource="partial_fit", min_resources=MIN_EPOCHS, max_resources=MAX_EPOCHS,
                factor=FACTOR, sampler="random", cv=cv, random_state=seed, n_jobs=N_JOBS)
            if tool.startswith("hyperband_async"):
                search.set_params(asynchronous=True)
            if tool == "hyperband_async_checkpoint":
                checkpoint = str(Path(log_dir) / f"{tool}_{seed}.ckpt")
                if os.path.exists(checkpoint):
                    os.remove(checkpoint)
                search.set_params(checkpoint=checkpoint)
            with CheckpointTimer() as timer:
                search.fit(X_train, y_train)
            wall = time.perf_counter() - start
            row.update(checkpoint_s=timer.seconds, checkpoint_writes=timer.writes,
                       checkpoint_mib=timer.bytes / 2**20)
            refit_epochs = len(search.best_estimator_.history)
            params, best_cv = search.best_params_, search.best_score_
            n_trials = len(set(map(repr, search.cv_results_["params"])))
            test = search.score(X_test, y_test)
        else:
            if tool == "ray_asha":
                params, best_cv, n_trials, row["startup_s"] = run_ray(
                    seed, X_train, y_train, folds, log_path, budget)
                start += row["startup_s"]
            else:
                params, best_cv, n_trials = run_optuna(
                    tool, seed, X_train, y_train, folds, log_path, budget)
            best = make_net(refit_path).set_params(**params, max_epochs=MAX_EPOCHS)
            best.fit(X_train, y_train)
            wall = time.perf_counter() - start
            refit_epochs = len(best.history)
            test = best.score(X_test, y_test)
    except Exception as exc:  # recorded in the CSV, the other tools still run
        row["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        traceback.print_exc()
        return row
    epochs, busy_seconds = read_epoch_log(log_path)
    if tool.startswith("hyperband"):  # skhpo's refit trains in the main process
        epochs -= refit_epochs
    row.update(load_avg_1m=os.getloadavg()[0], wall_time_s=wall, epochs=epochs, busy=busy_seconds / (wall * N_JOBS),
               n_trials=n_trials, best_cv_score=best_cv, test_score=test,
               refit_epochs=refit_epochs, best_params=repr(params))
    return row


def summarize(df):
    ok = df[df["error"].isna() | (df["error"] == "")].copy()
    reference = "hyperband_async" if (ok.tool == "hyperband_async").any() else "hyperband"
    if "checkpoint_s" not in ok:
        ok["checkpoint_s"] = np.nan
    ref_wall = ok[ok.tool == reference].set_index("seed")["wall_time_s"]
    ok["wall_ratio"] = ok["wall_time_s"] / ok["seed"].map(ref_wall)
    lines = ["| tool | seeds | median best CV | median test | median epochs (all folds) "
             f"| median trials | median wall s | wall / {reference}'s (same seed) "
             "| median busy | checkpoint writes: median s (share of wall) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for tool, runs in ok.groupby("tool", sort=False):
        lines.append(
            f"| {tool} | {len(runs)} | {runs.best_cv_score.median():.4f} | "
            f"{runs.test_score.median():.4f} | {runs.epochs.median():.0f} | "
            f"{runs.n_trials.median():.0f} | {runs.wall_time_s.median():.1f} | "
            f"{runs.wall_ratio.median():.2f} | {runs.busy.median():.2f} | "
            + (f"{runs.checkpoint_s.median():.2f} "
               f"({(runs.checkpoint_s / runs.wall_time_s).median():.1%}) |"
               if runs.checkpoint_s.notna().any() and runs.checkpoint_s.max() > 0
               else "none |"))
    lines.append("")
    failed = df[~(df["error"].isna() | (df["error"] == ""))]
    for _, row in failed.drop_duplicates(["tool"]).iterrows():
        lines.append(f"- {row.tool} failed: `{row.error}`")
    return "\n".join(lines) + "\n"


def versions():
    import sklearn
    import skorch

    import skhpo
    text = (f"Python {platform.python_version()}, scikit-learn {sklearn.__version__}, "
            f"skhpo {skhpo.__version__}, torch {torch.__version__}, "
            f"skorch {skorch.__version__}")
    for name in ("ray", "optuna"):
        try:
            module = __import__(name)
            text += f", {name} {module.__version__}"
        except ImportError:
            pass
    return text


def main(argv=None):
    global MAX_EPOCHS
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--max-epochs", type=int, default=MAX_EPOCHS,
                        help="epochs per trial at most (a power of 3; lower it for a smoke test)")
    parser.add_argument("--out", default="benchmarks/results/asha",
                        help="prefix of the output files <out>.csv and <out>.md")
    parser.add_argument("--append", action="store_true",
                        help="append to an existing CSV instead of overwriting it")
    parser.add_argument("--summarize", action="store_true",
                        help="only rebuild <out>.md from <out>.csv")
    args = parser.parse_args(argv)
    MAX_EPOCHS = args.max_epochs
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out.with_suffix(".csv"), out.with_suffix(".md")

    if not args.summarize:
        warnings.filterwarnings("ignore")
        X, y = load_data()
        fields = ["tool", "seed", "best_cv_score", "test_score", "epochs", "refit_epochs",
                  "n_trials", "wall_time_s", "busy", "startup_s", "load_avg_1m",
                  "checkpoint_s", "checkpoint_writes", "checkpoint_mib", "best_params",
                  "error"]
        mode = "a" if args.append and csv_path.exists() else "w"
        with open(csv_path, mode, newline="") as fh, \
                tempfile.TemporaryDirectory(prefix="bench_asha_") as log_dir:
            writer = csv.DictWriter(fh, fieldnames=fields)
            if mode == "w":
                writer.writeheader()
            for index, seed in enumerate(args.seeds):
                shift = index % len(args.tools)
                for tool in args.tools[shift:] + args.tools[:shift]:
                    row = run_one(tool, seed, X, y, log_dir)
                    writer.writerow(row)
                    fh.flush()
                    print(f"{tool:16s} seed={seed} "
                          + (f"error={row['error']}" if row["error"] else
                             f"cv={row['best_cv_score']:.4f} test={row['test_score']:.4f} "
                             f"epochs={row['epochs']} trials={row['n_trials']} "
                             f"wall={row['wall_time_s']:.1f}s busy={row['busy']:.2f}"),
                          flush=True)

    df = pd.read_csv(csv_path)
    load = ""
    if "load_avg_1m" in df and df["load_avg_1m"].notna().any():
        load = (f" (1-minute load average at the end of each run: median "
                f"{df.load_avg_1m.median():.1f}, {df.load_avg_1m.min():.1f} to "
                f"{df.load_avg_1m.max():.1f})")
    header = (f"Medians over seeds; {versions()}; machine: {os.cpu_count()} cores{load}, "
              f"OMP/MKL/OpenBLAS threads = {os.environ.get('OMP_NUM_THREADS')}, "
              f"{N_JOBS} workers per tool.\n\n")
    md_path.write_text(header + summarize(df))
    print(summarize(df))
    return 0


if __name__ == "__main__":
    # run as the importable module ``bench_asha`` so that worker processes unpickle
    # its classes and functions by name rather than from a foreign ``__main__``
    import bench_asha

    sys.exit(bench_asha.main())
