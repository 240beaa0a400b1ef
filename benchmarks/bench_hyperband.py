"""Benchmark skhpo.HyperbandSearchCV against random search, successive halving and dask-ml.

Tasks
-----
sgd    Pipeline(StandardScaler, SGDClassifier(loss="log_loss", tol=None)) on sklearn
       digits; alpha log [1e-6, 1e-1], eta0 log [1e-4, 1], learning_rate in
       {constant, invscaling, adaptive}; budget up to 81 epochs.
mlp    skorch NeuralNetClassifier on digits (scaled to [0, 1]): Linear(64, h), ReLU,
       Dropout(p), Linear(h, 10); SGD with momentum 0.9, batch 64,
       train_split=None; h int in [16, 256], lr log [1e-4, 1e-1], p in [0, 0.5];
       budget up to 27 epochs.

Tools
-----
hyperband        skhpo HyperbandSearchCV, resource="partial_fit" (promoted models
                 continue), factor 3, max_resources 81 (sgd) / 27 (mlp), one
                 Hyperband iteration, sampler="random".
hyperband_bayes  the same with sampler="bayes" (BOHB-like).
random           RandomizedSearchCV(n_iter=40) at the full budget (max_iter=81 or
                 max_epochs=27).
halving          HalvingRandomSearchCV(resource=<the epoch parameter>, min_resources=1,
                 max_resources=81/27, factor=3, n_candidates="exhaust"): every rung
                 restarts from scratch.
dask             dask-ml HyperbandSearchCV(max_iter=81/27) on a local dask client;
                 with current dask it fails (dask/dask-ml#1016) and the error is
                 recorded instead of a score.

Protocol
--------
``train_test_split(test_size=0.25, stratify=y, random_state=seed)``; every search
runs ``StratifiedKFold(3, shuffle=True, random_state=seed)`` on the training part
with ``n_jobs=1`` and refits; the refitted model is scored on the held-out part.
Epochs are counted, not computed: the SGD subclass adds ``n_iter_`` after each
``fit`` and 1 per ``partial_fit``; the skorch nets count ``on_epoch_end``. The
``epochs`` column is the search's total over all folds, refit excluded.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_hyperband.py --tasks sgd mlp \\
        --seeds 0 1 2 3 4 --out benchmarks/results/hyperband

writes ``<out>.csv`` (one row per run, flushed as runs finish) and ``<out>.md``
(medians per task and tool). ``--summarize`` only rebuilds the table from the CSV.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
import traceback
import warnings
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# run from a checkout without installing skhpo
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.experimental import enable_halving_search_cv  # noqa: E402,F401
from sklearn.linear_model import SGDClassifier  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    HalvingRandomSearchCV,
    RandomizedSearchCV,
    StratifiedKFold,
    train_test_split,
)
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skhpo import Categorical, HyperbandSearchCV, Integer, Real  # noqa: E402

TASKS = ("sgd", "mlp")
TOOLS = ("hyperband", "hyperband_bayes", "random", "halving", "dask")
MAX_EPOCHS = {"sgd": 81, "mlp": 27}
EPOCHS = {"count": 0}  # epochs trained in this process (all searches use n_jobs=1)


class CountingSGD(SGDClassifier):
    """SGDClassifier that counts its epochs (``fit``: ``n_iter_``; ``partial_fit``: 1)."""

    def fit(self, X, y, **kwargs):
        super().fit(X, y, **kwargs)
        self.epochs_ = self.n_iter_
        EPOCHS["count"] += self.n_iter_
        return self

    def partial_fit(self, X, y, classes=None, **kwargs):
        super().partial_fit(X, y, classes=classes, **kwargs)
        self.epochs_ = getattr(self, "epochs_", 0) + 1
        EPOCHS["count"] += 1
        return self


def sgd_task():
    pipe = Pipeline([("scale", StandardScaler()),
                     ("sgd", CountingSGD(loss="log_loss", tol=None, max_iter=MAX_EPOCHS["sgd"],
                                         eta0=0.01, random_state=0))])
    skhpo_space = {
        "sgd__alpha": Real(1e-6, 1e-1, prior="log-uniform"),
        "sgd__eta0": Real(1e-4, 1.0, prior="log-uniform"),
        "sgd__learning_rate": Categorical(["constant", "invscaling", "adaptive"]),
    }
    scipy_space = {
        "sgd__alpha": stats.loguniform(1e-6, 1e-1),
        "sgd__eta0": stats.loguniform(1e-4, 1.0),
        "sgd__learning_rate": ["constant", "invscaling", "adaptive"],
    }
    X, y = load_digits(return_X_y=True)
    return pipe, skhpo_space, scipy_space, "sgd__max_iter", X, y


def mlp_task():
    import torch
    from skorch import NeuralNetClassifier
    from skorch.callbacks import Callback
    from torch import nn

    torch.set_num_threads(1)

    class CountEpochs(Callback):
        def on_epoch_end(self, net, **kwargs):
            EPOCHS["count"] += 1

    class MLP(nn.Module):
        def __init__(self, hidden_units=64, dropout=0.0):
            super().__init__()
            self.layers = nn.Sequential(nn.Linear(64, hidden_units), nn.ReLU(),
                                        nn.Dropout(dropout), nn.Linear(hidden_units, 10))

        def forward(self, X):
            return self.layers(X)

    net = NeuralNetClassifier(
        MLP, max_epochs=MAX_EPOCHS["mlp"], lr=0.01, optimizer=torch.optim.SGD,
        optimizer__momentum=0.9, criterion=nn.CrossEntropyLoss, batch_size=64,
        train_split=None, verbose=0, callbacks=[("count", CountEpochs())])
    skhpo_space = {"module__hidden_units": Integer(16, 256),
                   "lr": Real(1e-4, 1e-1, prior="log-uniform"),
                   "module__dropout": Real(0.0, 0.5)}
    scipy_space = {"module__hidden_units": stats.randint(16, 257),
                   "lr": stats.loguniform(1e-4, 1e-1),
                   "module__dropout": stats.uniform(0.0, 0.5)}
    X, y = load_digits(return_X_y=True)
    return net, skhpo_space, scipy_space, "max_epochs", (X / 16).astype(np.float32), \
        y.astype(np.int64)


def make_search(task, tool, seed, n_iter):
    estimator, skhpo_space, scipy_space, epoch_param, _, _ = TASK_DATA[task]
    cv = StratifiedKFold(3, shuffle=True, random_state=seed)
    budget = MAX_EPOCHS[task]
    if tool.startswith("hyperband"):
        sampler = "bayes" if tool == "hyperband_bayes" else "random"
        return HyperbandSearchCV(estimator, skhpo_space, resource="partial_fit",
                                 max_resources=budget, min_resources=1, factor=3,
                                 sampler=sampler, cv=cv, random_state=seed, n_jobs=1)
    if tool == "random":
        return RandomizedSearchCV(estimator, scipy_space, n_iter=n_iter, cv=cv,
                                  random_state=seed, n_jobs=1)
    if tool == "halving":
        return HalvingRandomSearchCV(estimator, scipy_space, resource=epoch_param,
                                     min_resources=1, max_resources=budget, factor=3,
                                     n_candidates="exhaust", cv=cv, random_state=seed,
                                     n_jobs=1)
    raise ValueError(tool)


def final_step(estimator):
    return estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator


def refit_epochs(task, search):
    best = final_step(search.best_estimator_)
    return best.epochs_ if task == "sgd" else len(best.history)


def run_dask(task, seed, X_train, y_train):
    """dask-ml's HyperbandSearchCV, tried once per task; returns (row fields, error)."""
    import dask.array as da
    from dask.distributed import Client
    from dask_ml.model_selection import HyperbandSearchCV as DaskHyperband

    estimator, _, scipy_space, _, _, _ = TASK_DATA[task]
    with Client(processes=False, n_workers=1, threads_per_worker=1):
        space = {k.split("__", 1)[1] if k.startswith("sgd__") else k: v
                 for k, v in scipy_space.items()}
        search = DaskHyperband(final_step(estimator), space,
                               max_iter=MAX_EPOCHS[task], random_state=seed)
        X = da.from_array(StandardScaler().fit_transform(X_train) if task == "sgd"
                          else X_train, chunks=len(X_train) // 5)
        search.fit(X, da.from_array(y_train, chunks=len(y_train) // 5),
                   classes=np.unique(y_train))
    return search


def run_one(task, tool, seed, n_iter):
    _, _, _, _, X, y = TASK_DATA[task]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=seed)
    row = {"task": task, "tool": tool, "seed": seed, "error": ""}
    EPOCHS["count"] = 0
    if task == "mlp":
        import torch
        torch.manual_seed(seed)
    start = time.perf_counter()
    try:
        if tool == "dask":
            search = run_dask(task, seed, X_train, y_train)
        else:
            search = make_search(task, tool, seed, n_iter).fit(X_train, y_train)
    except Exception as exc:  # recorded in the CSV: dask-ml fails on current dask
        row["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        traceback.print_exc()
        return row
    row["wall_time_s"] = time.perf_counter() - start
    refit = refit_epochs(task, search)
    row.update(best_cv_score=search.best_score_, test_score=search.score(X_test, y_test),
               epochs=EPOCHS["count"] - refit, refit_epochs=refit,
               n_evaluations=len(search.cv_results_["params"]),
               best_params=repr(search.best_params_))
    return row


def summarize(df):
    ok = df[df["error"].isna() | (df["error"] == "")]
    lines = []
    for task, part in ok.groupby("task", sort=False):
        random_epochs = part.loc[part.tool == "random", "epochs"].median()
        lines += [f"### {task}\n",
                  "| tool | seeds | median best CV | median test | median epochs (all folds) "
                  "| epochs / random's | median wall s |",
                  "|---|---|---|---|---|---|---|"]
        for tool, runs in part.groupby("tool", sort=False):
            lines.append(
                f"| {tool} | {len(runs)} | {runs.best_cv_score.median():.4f} | "
                f"{runs.test_score.median():.4f} | {runs.epochs.median():.0f} | "
                f"{runs.epochs.median() / random_epochs:.2f} | "
                f"{runs.wall_time_s.median():.1f} |")
        lines.append("")
        lines += paired_comparison(part, "hyperband_bayes", "hyperband")
    failed = df[~(df["error"].isna() | (df["error"] == ""))]
    for _, row in failed.drop_duplicates(["task", "tool"]).iterrows():
        lines.append(f"- {row.task} / {row.tool} failed: `{row.error}`")
    return "\n".join(lines) + "\n"


def paired_comparison(part, tool, baseline):
    """Per-seed wins/ties/losses and means of ``tool`` against ``baseline`` (table lines)."""
    pivot = {metric: part.pivot_table(index="seed", columns="tool", values=metric)
             for metric in ("test_score", "best_cv_score")}
    if not all(tool in p and baseline in p for p in pivot.values()):
        return []
    lines = [f"{tool} against {baseline}, seed by seed:\n",
             "| metric | seeds | mean | mean (baseline) | wins | ties | losses |",
             "|---|---|---|---|---|---|---|"]
    for metric, table in pivot.items():
        both = table[[tool, baseline]].dropna()
        diff = both[tool] - both[baseline]
        lines.append(
            f"| {metric} | {len(both)} | {both[tool].mean():.4f} | "
            f"{both[baseline].mean():.4f} | {(diff > 1e-12).sum()} | "
            f"{(diff.abs() <= 1e-12).sum()} | {(diff < -1e-12).sum()} |")
    return lines + [""]


def versions():
    import sklearn

    import skhpo
    text = f"Python {platform.python_version()}, scikit-learn {sklearn.__version__}, " \
           f"skhpo {skhpo.__version__}"
    try:
        import dask
        import dask_ml
        import skorch
        import torch
        text += (f", torch {torch.__version__}, skorch {skorch.__version__}, "
                 f"dask {dask.__version__}, dask-ml {dask_ml.__version__}")
    except ImportError:
        pass
    return text


TASK_DATA: dict = {}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--tools", nargs="+", default=list(TOOLS), choices=TOOLS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--n-iter", type=int, default=40,
                        help="n_iter of RandomizedSearchCV")
    parser.add_argument("--out", default="benchmarks/results/hyperband",
                        help="prefix of the output files <out>.csv and <out>.md")
    parser.add_argument("--append", action="store_true",
                        help="append to an existing CSV instead of overwriting it")
    parser.add_argument("--summarize", action="store_true",
                        help="only rebuild <out>.md from <out>.csv")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out.with_suffix(".csv"), out.with_suffix(".md")

    if not args.summarize:
        warnings.filterwarnings("ignore")
        fields = ["task", "tool", "seed", "best_cv_score", "test_score", "epochs",
                  "refit_epochs", "n_evaluations", "wall_time_s", "best_params", "error"]
        mode = "a" if args.append and csv_path.exists() else "w"
        with open(csv_path, mode, newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            if mode == "w":
                writer.writeheader()
            # dask last: its pickling of __main__ classes (cloudpickle, by value)
            # rebinds the epoch counters' globals, so nothing may run after it
            runs = [(task, tool, seed) for task in args.tasks for seed in args.seeds
                    for tool in args.tools if tool != "dask"]
            runs += [(task, "dask", args.seeds[0]) for task in args.tasks
                     if "dask" in args.tools]  # it fails the same way every time
            for task, tool, seed in runs:
                if task not in TASK_DATA:
                    TASK_DATA[task] = sgd_task() if task == "sgd" else mlp_task()
                row = run_one(task, tool, seed, args.n_iter)
                writer.writerow(row)
                fh.flush()
                print(f"{task} {tool:15s} seed={seed} "
                      + (f"error={row['error']}" if row["error"] else
                         f"cv={row['best_cv_score']:.4f} test={row['test_score']:.4f} "
                         f"epochs={row['epochs']} wall={row['wall_time_s']:.1f}s"),
                      flush=True)

    df = pd.read_csv(csv_path)
    header = (f"Medians over seeds; {versions()}; machine: {os.cpu_count()} cores, "
              f"OMP/MKL/OpenBLAS threads = {os.environ.get('OMP_NUM_THREADS')}, "
              "n_jobs=1.\n\n")
    md_path.write_text(header + summarize(df))
    print(summarize(df))
    return 0


if __name__ == "__main__":
    sys.exit(main())
