"""Benchmark skhpo.PBTSearchCV against random search and Hyperband at equal total epochs.

Tasks, search spaces, data, epoch counters and protocol are imported from
``bench_hyperband.py`` (same directory). One change applies to every tool: the mlp
task's torch module is this file's module-level ``MLP`` (same architecture), because
PBT deep-copies skorch nets and the class local to ``bh.mlp_task`` cannot be pickled.

sgd    Pipeline(StandardScaler, SGDClassifier(loss="log_loss", tol=None)) on digits;
       alpha log [1e-6, 1e-1], eta0 log [1e-4, 1], learning_rate in
       {constant, invscaling, adaptive}; 81 epochs per model at most.
mlp    skorch MLP on digits (Linear-ReLU-Dropout-Linear, SGD momentum 0.9, batch 64);
       module__hidden_units in [16, 256], lr log [1e-4, 1e-1], module__dropout in
       [0, 0.5]; 27 epochs per model at most.

Tools (all with n_jobs=1, the same cv and the same train/test split)
-----
pbt        PBTSearchCV(population_size=20 / 13, max_resources=81 / 27,
           perturbation_interval=9 / 3, quantile_fraction=0.25,
           resample_probability=0.25, perturbation_factors=(0.8, 1.2)).
           sgd: default mutable_params (the numeric ones: sgd__alpha, sgd__eta0;
           learning_rate stays fixed per member unless copied from a donor).
           mlp: mutable_params=["lr"]; module__* re-initialise the network in
           skorch, so hidden_units and dropout stay fixed per member (and are
           copied from the donor on exploit).
           PBTSearchCV's defaults for the rest (initial_design="sobol",
           exploit="truncation", explore="perturb", select_best="last");
           --pbt-params '{"name": value, ...}' passes other arguments (variants).
ray_pbt    mlp only: Ray Tune's PopulationBasedTraining (asynchronous, the 13 trials
           at once, Ray's defaults, lr mutated) with the same folds, budget and
           refit (see RayPBTSearch); epochs counted from the trials' results.
random     RandomizedSearchCV(n_iter=20 / 13) at the full budget (81 / 27 epochs).
hyperband  HyperbandSearchCV(resource="partial_fit", factor=3, min_resources=1,
           max_resources=81 / 27, one Hyperband iteration, sampler="random"):
           1581 / 357 epochs per fold, measured with the counters.

population_size and n_iter are the nearest integers to Hyperband's epochs per fold
divided by the full budget: 20 x 81 = 1620 vs 1581 (sgd, +2.5%), 13 x 27 = 351 vs
357 (mlp, -1.7%).

Protocol (bench_hyperband.run_one): ``train_test_split(test_size=0.25,
stratify=y, random_state=seed)``; ``StratifiedKFold(3, shuffle=True,
random_state=seed)`` on the training part; refit on it; test score on the held-out
part. ``epochs`` = epochs counted by the estimators during the search over all
folds, refit excluded (PBT's refit replays the best schedule for 81 / 27 epochs).
For mlp, the column ``test_score_replay_changed_only`` is a diagnostic, not a tool: the
best schedule is replayed setting only the changed parameters (see
``replay_changed_only``).

Usage::

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \\
        python benchmarks/bench_pbt.py --tasks sgd mlp --seeds 0 1 2 3 4 \\
        --out benchmarks/results/pbt

writes ``<out>.csv`` (one row per run, flushed as runs finish) and ``<out>.md``
(medians per task and tool). ``--summarize`` only rebuilds the table from the CSV;
``--compare CSV...`` writes one table of every tool and PBT variant in the CSVs.
``--refit-noise CSV... --repeats K`` refits each mlp run's selected configuration (PBT:
its schedule) K times with torch seeds 0..K-1 and tabulates the mean and spread of
those test scores (a run's own test score is one such draw).
``--max-epochs/--population-size/--n-iter/--interval`` override the budgets (smoke
runs).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import warnings
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import StratifiedKFold, train_test_split  # noqa: E402

import bench_hyperband as bh  # noqa: E402
from skhpo import PBTSearchCV  # noqa: E402

try:
    from torch import nn
except ImportError:  # the sgd task runs without torch
    nn = None


if nn is not None:
    class MLP(nn.Module):
        """bench_hyperband's MLP, defined at module level: PBT deep-copies skorch nets,
        and skorch's ``__getstate__`` pickles ``module_``, which fails for the class
        local to ``bh.mlp_task`` ("Can't pickle local object")."""

        def __init__(self, hidden_units=64, dropout=0.0):
            super().__init__()
            self.layers = nn.Sequential(nn.Linear(64, hidden_units), nn.ReLU(),
                                        nn.Dropout(dropout), nn.Linear(hidden_units, 10))

        def forward(self, X):
            return self.layers(X)


def mlp_task():
    """``bh.mlp_task()`` with the picklable MLP (same architecture), for every tool."""
    net, *rest = bh.mlp_task()
    return (net.set_params(module=MLP), *rest)

TASKS = ("sgd", "mlp")
TOOLS = ("pbt", "random", "hyperband", "ray_pbt")
# per task: PBT population_size (= random's n_iter), perturbation_interval, mutable
CONFIG = {
    "sgd": {"population_size": 20, "n_iter": 20, "interval": 9, "mutable": None},
    "mlp": {"population_size": 13, "n_iter": 13, "interval": 3, "mutable": ["lr"]},
}
def _ray_trainable(base_net, X, y, cv):
    """A ``ray.tune.Trainable`` for the mlp task: one skorch net per CV fold, one
    ``step`` = one epoch on every fold, reports the mean fold accuracy. Checkpoints
    hold the module and optimizer state dicts, the step count and the schedule
    (``(step, config)`` pairs: inherited on exploit, as PBTSearchCV's)."""
    import torch
    from ray import tune

    folds = list(cv.split(X, y))

    class MLPTrainable(tune.Trainable):
        def setup(self, config):
            torch.set_num_threads(1)
            self._build(config)

        def _build(self, config):
            torch.manual_seed(int(config["torch_seed"]))
            self.nets = []
            for train, _ in folds:
                net = clone(base_net).set_params(
                    module__hidden_units=int(config["module__hidden_units"]),
                    module__dropout=float(config["module__dropout"]),
                    lr=float(config["lr"]))
                net.initialize()
                self.nets.append(net)
            self.steps = 0
            self.schedule = [(0, self._params(config))]

        @staticmethod
        def _params(config):
            return {"module__hidden_units": int(config["module__hidden_units"]),
                    "lr": float(config["lr"]),
                    "module__dropout": float(config["module__dropout"])}

        def reset_config(self, new_config):
            self._build(new_config)  # a reused actor: fresh nets for the new trial
            return True

        def step(self):
            scores = []
            for net, (train, test) in zip(self.nets, folds):
                net.partial_fit(X[train], y[train], epochs=1)
                scores.append(net.score(X[test], y[test]))
            self.steps += 1
            return {"score": float(np.mean(scores)), "epochs_this_step": len(self.nets),
                    "schedule": repr(self.schedule)}

        def save_checkpoint(self, checkpoint_dir):
            torch.save({"module": [n.module_.state_dict() for n in self.nets],
                        "optimizer": [n.optimizer_.state_dict() for n in self.nets],
                        "steps": self.steps, "schedule": self.schedule},
                       os.path.join(checkpoint_dir, "state.pt"))

        def load_checkpoint(self, checkpoint_dir):
            state = torch.load(os.path.join(checkpoint_dir, "state.pt"), weights_only=False)
            for net, module, optimizer in zip(self.nets, state["module"], state["optimizer"]):
                net.module_.load_state_dict(module)
                net.optimizer_.load_state_dict(optimizer)
                net.set_params(lr=float(self.config["lr"]))  # the optimizer's lr is the donor's
            self.steps, self.schedule = state["steps"], list(state["schedule"])
            params = self._params(self.config)
            if params != self.schedule[-1][1]:  # restored from a donor, then explored
                self.schedule.append((self.steps, params))

    return MLPTrainable


class RayPBTSearch:
    """Ray Tune's ``PopulationBasedTraining`` on the mlp task, behind the small part
    of the search-estimator interface that ``bh.run_one`` uses.

    Ray's default asynchronous PBT with the whole population running at once
    (``ray.init(num_cpus=population_size)``, one torch thread per trial: with fewer
    slots than trials, asynchronous PBT would train the first trials to the end
    before the others start, and synchronous PBT on one slot spends most of its
    time pausing and restoring trials), ``population_size`` trials,
    ``perturbation_interval`` epochs, 27 epochs per trial, Ray's defaults for the
    rest (quantile_fraction=0.25,
    resample_probability=0.25, perturbation_factors=(1.2, 0.8)); ``lr`` is mutated
    (``hyperparam_mutations={"lr": loguniform(1e-4, 1e-1)}``), hidden_units and
    dropout stay fixed per trial and are copied from the donor on exploit. Every
    trial trains one net per fold of the same CV as the other tools. The best trial
    is the best last score; its schedule is replayed on the training part (as
    ``replay_changed_only``) for the refit. Epochs trained in the trials are added to
    ``bh.EPOCHS`` from the results (the trials run in worker processes).
    """

    def __init__(self, task, seed, population_size, interval):
        self.task, self.seed = task, seed
        self.population_size, self.interval = population_size, interval
        self.max_resources = bh.MAX_EPOCHS[task]

    def fit(self, X, y):
        import random
        import tempfile

        import ray
        from ray import tune
        from ray.tune.schedulers import PopulationBasedTraining
        from ray.tune.search.basic_variant import BasicVariantGenerator

        if self.task != "mlp":
            raise ValueError("ray_pbt runs the mlp task only")
        estimator = bh.TASK_DATA[self.task][0]
        cv = StratifiedKFold(3, shuffle=True, random_state=self.seed)
        random.seed(self.seed)  # Ray's PBT draws with the random module
        np.random.seed(self.seed)
        epochs = {"count": 0}

        class CountEpochs(tune.Callback):
            def on_trial_result(self, iteration, trials, trial, result, **info):
                epochs["count"] += result["epochs_this_step"]

        # Ray starts its workers at niceness 15; the other tools train at 0
        os.environ.setdefault("RAY_worker_niceness", "0")
        here = Path(__file__).resolve().parent  # workers import this module and skhpo
        ray.init(num_cpus=self.population_size, include_dashboard=False, log_to_driver=False,
                 logging_level="ERROR", configure_logging=False,
                 runtime_env={"env_vars": {"PYTHONPATH": f"{here}:{here.parent}"}})
        try:
            scheduler = PopulationBasedTraining(
                time_attr="training_iteration", perturbation_interval=self.interval,
                hyperparam_mutations={"lr": tune.loguniform(1e-4, 1e-1)})
            # without the epoch-counting callback: cloudpickle pickles that locally
            # defined class by value, and Tune unpickling it in this process would
            # rebind its methods to a copy of bh.EPOCHS (the counters would stop)
            quiet = clone(estimator).set_params(callbacks=None)
            quiet.initialize_callbacks()  # callbacks_ still held the counter
            trainable = tune.with_parameters(_ray_trainable(quiet, X, y, cv))
            space = {"module__hidden_units": tune.randint(16, 257),
                     "lr": tune.loguniform(1e-4, 1e-1),
                     "module__dropout": tune.uniform(0.0, 0.5),
                     "torch_seed": tune.randint(0, 2**31 - 1)}
            with tempfile.TemporaryDirectory() as storage:
                tuner = tune.Tuner(
                    trainable, param_space=space,
                    tune_config=tune.TuneConfig(
                        metric="score", mode="max", scheduler=scheduler,
                        num_samples=self.population_size, reuse_actors=True,
                        search_alg=BasicVariantGenerator(random_state=self.seed)),
                    run_config=tune.RunConfig(
                        storage_path=storage, verbose=0, callbacks=[CountEpochs()],
                        stop={"training_iteration": self.max_resources},
                        checkpoint_config=tune.CheckpointConfig(num_to_keep=2)))
                results = tuner.fit()
                best = results.get_best_result(metric="score", mode="max", scope="last")
                self.best_score_ = best.metrics["score"]
                self.best_schedule_ = eval(best.metrics["schedule"])  # repr of (int, dict)
                self.cv_results_ = {"params": [r.config for r in results]}
                self.n_trials_ = len(results)
        finally:
            ray.shutdown()
        bh.EPOCHS["count"] += epochs["count"]
        self.resources_used_ = epochs["count"]
        self.best_params_ = self.best_schedule_[-1][1]
        self.estimator = estimator
        self.best_estimator_ = replay_changed_only(self, X, y)
        return self

    def score(self, X, y):
        return self.best_estimator_.score(X, y)



PBT_PARAMS: dict = {}  # --pbt-params: more PBTSearchCV arguments (variants)
_LAST = {}  # the search object of the latest run (for PBT's extra columns)
_original_make_search = bh.make_search


def make_search(task, tool, seed, n_iter):
    """``bh.make_search`` plus ``tool="pbt"``; installed into ``bh`` so that
    ``bh.run_one`` (split, cv, seeding, epoch counting, scoring) runs PBT too."""
    if tool == "ray_pbt":
        search = RayPBTSearch(task, seed, CONFIG[task]["population_size"],
                              CONFIG[task]["interval"])
    elif tool == "pbt":
        estimator, skhpo_space, _, _, _, _ = bh.TASK_DATA[task]
        cfg = CONFIG[task]
        search = PBTSearchCV(
            estimator, skhpo_space, population_size=cfg["population_size"],
            max_resources=bh.MAX_EPOCHS[task], perturbation_interval=cfg["interval"],
            mutable_params=cfg["mutable"],
            cv=StratifiedKFold(3, shuffle=True, random_state=seed),
            random_state=seed, n_jobs=1, **PBT_PARAMS)
    else:
        search = _original_make_search(task, tool, seed, CONFIG[task]["n_iter"])
    _LAST["search"] = search
    return search


bh.make_search = make_search


def replay_changed_only(search, X, y):
    """Diagnostic for the mlp task: PBTSearchCV's refit calls ``set_params(**params)``
    with the *full* parameter set at every schedule switch, and skorch re-initialises
    module, criterion and optimizer whenever a ``module__*`` parameter is set (even
    to the same value), so the refitted net has only trained since the last switch.
    This replays ``best_schedule_`` setting only the parameters that changed, the
    way the search itself continues its members, and returns the refitted net."""
    schedule = search.best_schedule_
    net = clone(search.estimator).set_params(**schedule[0][1])
    ends = [step for step, _ in schedule[1:]] + [search.max_resources]
    previous = {}
    for (start, params), end in zip(schedule, ends):
        net.set_params(**{k: v for k, v in params.items()
                          if k not in previous or previous[k] != v})
        previous = params
        net.partial_fit(X, y, epochs=end - start)
    return net


def pbt_columns(search, task, seed):
    """Extra columns: PBT's own step counter and schedule; Hyperband's counter."""
    cols = {"resources_used": getattr(search, "resources_used_", "")}
    if isinstance(search, PBTSearchCV):
        parents = np.asarray(search.cv_results_["parent"])
        if task == "mlp":
            _, _, _, _, X, y = bh.TASK_DATA[task]
            X_train, X_test, y_train, y_test = train_test_split(  # as bh.run_one
                X, y, test_size=0.25, stratify=y, random_state=seed)
            net = replay_changed_only(search, X_train, y_train)
            cols.update(test_score_replay_changed_only=net.score(X_test, y_test),
                        replay_epochs=len(net.history))
        cols.update(mutable_params=" ".join(search.mutable_params_),
                    n_exploits=int((parents >= 0).sum()),
                    last_switch_step=search.best_schedule_[-1][0],
                    best_schedule=repr([(s, {k: (round(v, 6) if isinstance(v, float) else v)
                                             for k, v in p.items()})
                                        for s, p in search.best_schedule_]))
    return cols


def summarize(df):
    ok = df[df["error"].isna() | (df["error"] == "")]
    text = bh.summarize(df)  # medians per task and tool; ratio column vs random
    lines = ["", "Epochs per fold (median), equal-budget check and PBT target:", ""]
    for task, part in ok.groupby("task", sort=False):
        med = part.groupby("tool", sort=False)["epochs"].median()
        lines.append(f"- {task}: " + ", ".join(
            f"{tool} {epochs / 3:.0f}/fold ({epochs:.0f} total)" for tool, epochs in med.items()))
        test = part.pivot_table(index="seed", columns="tool", values="test_score")
        if "pbt" in test and len(test.columns) > 1:
            others = test.drop(columns="pbt").max(axis=1)
            medians = test.median()
            best_other = medians.drop("pbt").max()
            wins = int((test["pbt"] >= others).sum())
            lines.append(
                f"  - median test: pbt {medians['pbt']:.4f} vs best other "
                f"{best_other:.4f} ({medians.drop('pbt').idxmax()}) -> target "
                f"{'MET' if medians['pbt'] >= best_other else 'NOT met'}; "
                f"pbt >= both others on {wins}/{len(test)} seeds; mean test "
                + ", ".join(f"{t} {test[t].mean():.4f}" for t in test.columns))
        pbt = part[part.tool == "pbt"]
        if len(pbt) and "mutable_params" in pbt:
            lines.append(f"  - pbt mutable_params: {pbt.mutable_params.iloc[0]}; "
                         f"median exploit events per run {pbt.n_exploits.median():.0f}; "
                         "best schedule's last switch at step "
                         f"{pbt.last_switch_step.median():.0f} (median) of {pbt.max_epochs.iloc[0]}")
            replay = pbt.get("test_score_replay_changed_only")
            if replay is not None and replay.notna().any():
                lines.append(
                    "  - diagnostic, not a tool: pbt's best schedule replayed setting only "
                    "changed params (no skorch re-init; see README) -> median test "
                    f"{replay.median():.4f}, mean {replay.mean():.4f}, per seed "
                    + ", ".join(f"{v:.4f}" for v in replay))
    return text + "\n".join(lines) + "\n"


def _row_name(tool, task, pbt_params, interval):
    """A row of ``compare``: the tool, plus PBT's variant arguments and its
    ``--interval`` when that differs from ``CONFIG``."""
    if tool != "pbt":
        return tool
    name = "pbt" if not pbt_params or pbt_params == "{}" else f"pbt {pbt_params}"
    if pd.notna(interval) and interval != "" and int(interval) != CONFIG[task]["interval"]:
        name += f" interval={int(interval)}"
    return name


def _load_runs(csv_paths):
    """The successful runs of the CSVs, one per (row name, seed): ``row`` names the
    tool and PBT variant (:func:`_row_name`), ``source`` the CSV it came from."""
    frames = []
    for path in csv_paths:
        df = pd.read_csv(path)
        df = df[df["error"].isna() | (df["error"] == "")].copy()
        params = df.get("pbt_params", pd.Series("", index=df.index)).astype(object).fillna("")
        df["row"] = [_row_name(tool, task, p, interval) for tool, task, p, interval
                     in zip(df["tool"], df["task"], params, df["interval"])]
        df["source"] = Path(path).name
        frames.append(df)
    return pd.concat(frames).drop_duplicates(["row", "seed"])


def compare(csv_paths, reference):
    """Markdown table, one row per tool and PBT variant, over the seeds that every
    CSV holds: medians of best CV, test score, epochs and wall time, the mean test
    score, and on how many seeds each row's test score is at least ``reference``'s
    (a tool name, e.g. hyperband)."""
    runs = _load_runs(csv_paths)
    seeds = sorted(set.intersection(*(set(g.seed) for _, g in runs.groupby("row"))))
    runs = runs[runs.seed.isin(seeds)]
    test = runs.pivot_table(index="seed", columns="row", values="test_score")
    lines = [f"Seeds: {' '.join(map(str, seeds))} ({len(seeds)}).", "",
             "| tool | median best CV | median test | mean test | test >= "
             f"{reference} (seeds) | median epochs (3 folds) | median wall s | CSV |",
             "|---|---|---|---|---|---|---|---|"]
    for row, part in runs.groupby("row", sort=False):
        wins = int((test[row] >= test[reference]).sum()) if reference in test else ""
        lines.append(
            f"| {row} | {part.best_cv_score.median():.4f} | {part.test_score.median():.4f} | "
            f"{part.test_score.mean():.4f} | {wins}/{len(part)} | {part.epochs.median():.0f} | "
            f"{part.wall_time_s.median():.1f} | {part.source.iloc[0]} |")
    return "\n".join(lines) + "\n"


def refit_noise(csv_paths, repeats):
    """Markdown table: for every mlp run in the CSVs, the selected configuration is
    refitted ``repeats`` times on the run's training part with torch seeds
    ``0..repeats-1`` and scored on its test part; per tool (and PBT variant), the
    medians over seeds of the mean and of the spread (max - min) of those test
    scores. A search's own test score is one such draw (the refit's weights come from
    the torch seed at refit time), so the mean over draws separates the chosen
    configuration from the luck of one initialization.

    Hyperband's and random's configuration (``best_params``) is trained from scratch
    for ``max_epochs``; PBT's ``best_schedule`` is replayed as in
    ``replay_changed_only`` (the CSV rounds its floats to 6 decimals)."""
    import torch

    bh.TASK_DATA["mlp"] = mlp_task()
    net0, _, _, _, X, y = bh.TASK_DATA["mlp"]
    net0 = clone(net0).set_params(callbacks=None)
    runs = _load_runs(csv_paths)
    runs = runs[runs["task"] == "mlp"]
    records = []
    for run in runs.itertuples():
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=run.seed)
        if isinstance(run.best_schedule, str) and run.best_schedule:
            schedule = eval(run.best_schedule)  # repr of [(int, dict)]
        else:
            schedule = [(0, eval(run.best_params))]
        ends = [step for step, _ in schedule[1:]] + [int(run.max_epochs)]
        scores = []
        for draw in range(repeats):
            torch.manual_seed(draw)
            net, previous = clone(net0), {}
            for (start, params), end in zip(schedule, ends):
                net.set_params(**{k: v for k, v in params.items()
                                  if k not in previous or previous[k] != v})
                previous = params
                net.partial_fit(X_train, y_train, epochs=end - start)
            scores.append(net.score(X_test, y_test))
        records.append({"row": run.row, "seed": run.seed, "test": run.test_score,
                        "draw_mean": np.mean(scores), "draw_spread": np.ptp(scores)})
        print(f"{run.row} seed={run.seed} test={run.test_score:.4f} "
              f"refits mean={np.mean(scores):.4f} min={min(scores):.4f} "
              f"max={max(scores):.4f}", flush=True)
    table = pd.DataFrame(records)
    seeds = sorted(set.intersection(*(set(g.seed) for _, g in table.groupby("row"))))
    table = table[table.seed.isin(seeds)]
    lines = [f"Seeds: {' '.join(map(str, seeds))} ({len(seeds)}); {repeats} refits per run.", "",
             "| tool | median test (the run's own refit) | median of the refits' mean test "
             "| mean of the refits' mean test | median spread (max - min) of the refits |",
             "|---|---|---|---|---|"]
    for row, part in table.groupby("row", sort=False):
        lines.append(f"| {row} | {part.test.median():.4f} | {part.draw_mean.median():.4f} | "
                     f"{part.draw_mean.mean():.4f} | {part.draw_spread.median():.4f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", default="benchmarks/results/pbt",
                        help="prefix of the output files <out>.csv and <out>.md")
    parser.add_argument("--append", action="store_true",
                        help="append to an existing CSV instead of overwriting it")
    parser.add_argument("--summarize", action="store_true",
                        help="only rebuild <out>.md from <out>.csv")
    parser.add_argument("--max-epochs", type=int, help="override the budget (smoke runs)")
    parser.add_argument("--population-size", type=int, help="override PBT's population")
    parser.add_argument("--n-iter", type=int, help="override random's n_iter")
    parser.add_argument("--interval", type=int, help="override perturbation_interval")
    parser.add_argument("--pbt-params", default="{}",
                        help="JSON object of more PBTSearchCV arguments (a variant), "
                             "e.g. '{\"quantile_fraction\": 0.5}'; lists become tuples")
    parser.add_argument("--compare", nargs="+", metavar="CSV",
                        help="only write <out>.md: one table of every tool and PBT "
                             "variant in these CSVs, over their common seeds")
    parser.add_argument("--refit-noise", nargs="+", metavar="CSV",
                        help="only write <out>.md: the mlp runs' selected configurations "
                             "refitted --repeats times each (see refit_noise)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="with --refit-noise: refits per run")
    parser.add_argument("--reference", default="hyperband",
                        help="with --compare: count the seeds at least this tool's test score")
    args = parser.parse_args(argv)
    if args.refit_noise:
        text = refit_noise(args.refit_noise, args.repeats)
        Path(args.out).with_suffix(".md").write_text(text)
        print(text)
        return 0
    if args.compare:
        text = compare(args.compare, args.reference)
        Path(args.out).with_suffix(".md").write_text(text)
        print(text)
        return 0
    PBT_PARAMS.update({k: tuple(v) if isinstance(v, list) and k == "perturbation_factors"
                       else v for k, v in json.loads(args.pbt_params).items()})
    for task in args.tasks:
        if args.max_epochs:
            bh.MAX_EPOCHS[task] = args.max_epochs
        for key, value in (("population_size", args.population_size),
                           ("n_iter", args.n_iter), ("interval", args.interval)):
            if value:
                CONFIG[task][key] = value
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out.with_suffix(".csv"), out.with_suffix(".md")

    if not args.summarize:
        warnings.filterwarnings("ignore")
        fields = ["task", "tool", "seed", "best_cv_score", "test_score", "epochs",
                  "refit_epochs", "resources_used", "n_evaluations", "wall_time_s",
                  "max_epochs", "population_or_n_iter", "interval", "mutable_params",
                  "n_exploits", "last_switch_step", "test_score_replay_changed_only",
                  "replay_epochs", "pbt_params", "best_params", "best_schedule", "error"]
        mode = "a" if args.append and csv_path.exists() else "w"
        with open(csv_path, mode, newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            if mode == "w":
                writer.writeheader()
            for task in args.tasks:
                bh.TASK_DATA[task] = bh.sgd_task() if task == "sgd" else mlp_task()
                cfg = CONFIG[task]
                for seed in args.seeds:
                    for tool in args.tools:
                        _LAST.clear()
                        row = bh.run_one(task, tool, seed, cfg["n_iter"])
                        row.update(max_epochs=bh.MAX_EPOCHS[task], interval=(
                            cfg["interval"] if tool == "pbt" else ""),
                            population_or_n_iter=(cfg["population_size"] if tool == "pbt"
                                                  else cfg["n_iter"] if tool == "random"
                                                  else ""))
                        if tool == "pbt":
                            row["pbt_params"] = json.dumps(PBT_PARAMS, sort_keys=True)
                        if not row["error"]:
                            row.update(pbt_columns(_LAST["search"], task, seed))
                        writer.writerow(row)
                        fh.flush()
                        print(f"{task} {tool:10s} seed={seed} "
                              + (f"error={row['error']}" if row["error"] else
                                 f"cv={row['best_cv_score']:.4f} "
                                 f"test={row['test_score']:.4f} epochs={row['epochs']} "
                                 f"(resources_used={row['resources_used']}) "
                                 f"wall={row['wall_time_s']:.1f}s"), flush=True)

    df = pd.read_csv(csv_path)
    header = (f"Medians over seeds; {bh.versions()}; machine: {os.cpu_count()} cores "
              "shared with other jobs (wall times are noisy), OMP/MKL/OpenBLAS threads = "
              f"{os.environ.get('OMP_NUM_THREADS')}, n_jobs=1 for every tool.\n\n")
    md_path.write_text(header + summarize(df))
    print(summarize(df))
    return 0


if __name__ == "__main__":
    sys.exit(main())
