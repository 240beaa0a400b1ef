"""Benchmark ``cost_aware=True`` of BayesSearchCV and GeneticSearchCV on the hgb task.

Task
----
The ``hgb`` task of ``bench_bayes.py``: HistGradientBoostingClassifier(
early_stopping=False, max_iter=--hgb-max-iter (default 50, as in the committed
Bayes results), random_state=0) on make_classification(5000, 30 features, 10
informative, random_state=0); learning_rate log [1e-3, 1], max_leaf_nodes int log
[4, 128], min_samples_leaf int log [1, 100], l2_regularization log [1e-6, 10].
``train_test_split(test_size=0.25, stratify=y, random_state=seed)``, 3-fold
``StratifiedKFold(shuffle=True, random_state=seed)`` on the training part.

Arms
----
bayes          BayesSearchCV(n_iter=40, n_points=2)
bayes-cost     the same with cost_aware=True
genetic        GeneticSearchCV(population_size=5, n_generations=10): at most
               5 + 4 * 9 = 41 evaluations
genetic-cost   the same with cost_aware=True
bayes-alt      bayes with the searcher's random_state moved by ALT_SEED_OFFSET
genetic-alt    the same for genetic: on the same split and folds, the default run
               against itself with another random stream, i.e. the run-to-run spread
               that a cost-aware arm's differences are to be read against

Every search runs with ``n_jobs=1`` so that its times measure its own work; the
arms of one seed run one after the other before the next seed starts.

Measured per run: best CV score, test score of the refitted best candidate, wall
time of ``fit`` (refit included), summed fit time (``mean_fit_time * n_splits``
over the candidates), process CPU time of ``fit`` (``time.process_time``, which
other jobs on the machine do not inflate), and the wall and CPU time after each
batch with the best CV score so far, from which the summary takes the time at
which each arm first came within 0.002 of the final best CV score of the
default arm of the same seed.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_cost_aware.py --seeds 0 1 2 3 4 \\
        --out benchmarks/results/cost_aware

writes ``<out>.csv`` (one row per run, appended as runs finish) and ``<out>.md``.
``--tune-max-iter H`` also searches ``max_iter`` (log-uniform integer in ``[10, H]``),
a parameter that sets most of the fit time and that a higher ``learning_rate`` can
make up for: a task on which cheap and expensive candidates can score alike.
``--cooling RULE`` replaces the cooling exponent ``alpha`` of both cost-aware arms
(``linear``, the library's ``(N - n) / (N - n_0)``; ``sqrt``, its square root;
``one`` and ``half``, constant 1 and 0.5; ``early``, linear from 1 to 0 over the first
two thirds of the budget after the initial design, then plain expected improvement),
to compare schedules on the same task.
``--landscape K`` instead evaluates ``K`` random configurations of the space on the
split of seed 0 (half of them with ``learning_rate`` in ``[0.03, 1]``, where the good
scores are) and writes their CV score and mean fit time to ``<out>.csv``, with the
correlation of score and log fit time and the fit times of the best ones in
``<out>.md``: whether cheap configurations score as well as expensive ones.
``--summarize`` only rebuilds the table from the CSV.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
import warnings
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_validate, train_test_split  # noqa: E402

import skhpo._genetic  # noqa: E402
import skhpo.bayes._strategy  # noqa: E402
from skhpo import BayesSearchCV, GeneticSearchCV, Integer, Real  # noqa: E402
from skhpo._cost import cooling_exponent  # noqa: E402
from skhpo.callbacks import SearchCallback  # noqa: E402

ARMS = ("bayes", "bayes-cost", "bayes-alt", "genetic", "genetic-cost", "genetic-alt")
DEFAULT_OF = {arm: arm.split("-")[0] for arm in ARMS}
ALT_SEED_OFFSET = 1000
N_SPLITS = 3
TOLERANCE = 0.002  # "reached the default's best CV": within this of it
FIELDS = ("arm", "seed", "n_candidates", "best_cv_score", "test_score", "wall_time_s",
          "cpu_time_s", "fit_time_s", "trajectory", "n_iter", "hgb_max_iter", "cooling")
COOLING = {
    "linear": cooling_exponent,
    "sqrt": lambda n_told, n_initial, budget: cooling_exponent(n_told, n_initial,
                                                               budget) ** 0.5,
    "one": lambda n_told, n_initial, budget: 1.0,
    "half": lambda n_told, n_initial, budget: 0.5,
    "early": lambda n_told, n_initial, budget: cooling_exponent(
        n_told, n_initial, n_initial + 2 * (budget - n_initial) // 3),
}

SPACE = {
    "learning_rate": Real(1e-3, 1.0, prior="log-uniform"),
    "max_leaf_nodes": Integer(4, 128, prior="log-uniform"),
    "min_samples_leaf": Integer(1, 100, prior="log-uniform"),
    "l2_regularization": Real(1e-6, 10.0, prior="log-uniform"),
}


class Trajectory(SearchCallback):
    """(wall s, CPU s, best CV so far) after every batch."""

    def on_search_begin(self, search, **kwargs):
        self.points = []
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def on_iteration_end(self, search, *, scores, **kwargs):
        best = float(np.nanmax(scores)) if np.isfinite(scores).any() else float("nan")
        self.points.append((time.perf_counter() - self._wall,
                            time.process_time() - self._cpu, best))
        return False


def search_space(tune_max_iter=None):
    """SPACE, plus ``max_iter`` log-uniform in [10, tune_max_iter] when given."""
    if tune_max_iter is None:
        return SPACE
    return {**SPACE, "max_iter": Integer(10, tune_max_iter, prior="log-uniform")}


def make_search(arm, seed, n_iter, hgb_max_iter, callback, tune_max_iter=None):
    space = search_space(tune_max_iter)
    estimator = HistGradientBoostingClassifier(early_stopping=False, max_iter=hgb_max_iter,
                                               random_state=0)
    common = dict(cv=StratifiedKFold(N_SPLITS, shuffle=True, random_state=seed), n_jobs=1,
                  random_state=seed + (ALT_SEED_OFFSET if arm.endswith("-alt") else 0),
                  callbacks=[callback],
                  cost_aware=arm.endswith("-cost"))
    if arm.startswith("bayes"):
        return BayesSearchCV(estimator, space, n_iter=n_iter, n_points=2, **common)
    # P + (P - 1)(G - 1) evaluations: 5 + 4 * 9 = 41 for n_iter = 40
    n_generations = 1 + int(np.ceil((n_iter - 5) / 4))
    return GeneticSearchCV(estimator, space, population_size=5,
                           n_generations=n_generations, **common)


def split(seed):
    """(X_train, X_test, y_train, y_test) of the task for ``seed``."""
    X, y = make_classification(n_samples=5000, n_features=30, n_informative=10,
                               random_state=0)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)


def use_cooling(rule):
    """Make both cost-aware strategies use the cooling exponent ``COOLING[rule]``."""
    skhpo.bayes._strategy.cooling_exponent = COOLING[rule]
    skhpo._genetic.cooling_exponent = COOLING[rule]


def landscape(n_configurations, hgb_max_iter, seed=0):
    """CV score and mean fit time of random configurations of SPACE on ``seed``'s split."""
    X_tr, _, y_tr, _ = split(seed)
    rng = np.random.default_rng(seed)
    cv = StratifiedKFold(N_SPLITS, shuffle=True, random_state=seed)
    rows = []
    for i in range(n_configurations):
        params = {}
        for name, dim in SPACE.items():
            low, high = np.log(dim.low), np.log(dim.high)
            if name == "learning_rate" and i % 2:
                low = np.log(0.03)
            value = float(np.exp(rng.uniform(low, high)))
            params[name] = int(round(value)) if isinstance(dim, Integer) else value
        estimator = HistGradientBoostingClassifier(early_stopping=False,
                                                   max_iter=hgb_max_iter, random_state=0,
                                                   **params)
        result = cross_validate(estimator, X_tr, y_tr, cv=cv)
        rows.append(dict(params, cv_score=float(result["test_score"].mean()),
                         fit_time_s=float(result["fit_time"].mean())))
    return pd.DataFrame(rows)


def summarize_landscape(df, top=(10, 25)):
    """Score / log fit time correlation, and the fit times of the best configurations."""
    useful = df[df.learning_rate >= 0.05]
    lines = [f"{len(df)} configurations; correlation of CV score and log fit time: "
             f"{np.corrcoef(df.cv_score, np.log(df.fit_time_s))[0, 1]:+.2f} over all, "
             f"{np.corrcoef(useful.cv_score, np.log(useful.fit_time_s))[0, 1]:+.2f} over the "
             f"{len(useful)} with learning_rate >= 0.05.", "",
             "| configurations | CV score range | fit time min / median / max (s) |",
             "|---|---|---|",
             f"| all | {df.cv_score.min():.4f}-{df.cv_score.max():.4f} | "
             f"{df.fit_time_s.min():.3f} / {df.fit_time_s.median():.3f} / "
             f"{df.fit_time_s.max():.3f} |"]
    for k in top:
        best = df.nlargest(k, "cv_score")
        lines.append(f"| best {k} | {best.cv_score.min():.4f}-{best.cv_score.max():.4f} | "
                     f"{best.fit_time_s.min():.3f} / {best.fit_time_s.median():.3f} / "
                     f"{best.fit_time_s.max():.3f} |")
    return "\n".join(lines) + "\n"


def run_one(arm, seed, n_iter, hgb_max_iter, tune_max_iter=None, cooling="linear"):
    X_tr, X_te, y_tr, y_te = split(seed)
    trajectory = Trajectory()
    search = make_search(arm, seed, n_iter, hgb_max_iter, trajectory, tune_max_iter)
    wall, cpu = time.perf_counter(), time.process_time()
    search.fit(X_tr, y_tr)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    results = search.cv_results_
    return dict(arm=arm, seed=seed, n_candidates=len(results["params"]),
                best_cv_score=float(np.nanmax(results["mean_test_score"])),
                test_score=float(search.score(X_te, y_te)), wall_time_s=wall,
                cpu_time_s=cpu,
                fit_time_s=float(np.nansum(results["mean_fit_time"]) * N_SPLITS),
                trajectory=json.dumps(trajectory.points), n_iter=n_iter,
                hgb_max_iter=(hgb_max_iter if tune_max_iter is None
                              else f"10-{tune_max_iter}"), cooling=cooling)


def time_to_reach(trajectory, target):
    """(wall, CPU) seconds after the first batch with best >= target - TOLERANCE."""
    for wall, cpu, best in trajectory:
        if best >= target - TOLERANCE:
            return wall, cpu
    return np.nan, np.nan


def summarize(df):
    df = df.copy()
    df["trajectory"] = df["trajectory"].map(json.loads)
    target = {(row.arm, row.seed): row.best_cv_score
              for row in df.itertuples() if DEFAULT_OF[row.arm] == row.arm}
    reached = [time_to_reach(row.trajectory, target.get((DEFAULT_OF[row.arm], row.seed),
                                                        np.nan))
               for row in df.itertuples()]
    df["reach_wall_s"] = [w for w, _ in reached]
    df["reach_cpu_s"] = [c for _, c in reached]
    # seeds where the default and another arm of its family ran, so that the medians
    # compare like with like
    family = df.groupby(["seed", df.arm.map(DEFAULT_OF)]).arm
    has_default = family.transform(lambda arms: arms.isin(DEFAULT_OF.values()).any())
    df = df[(family.transform("nunique") >= 2) & has_default]
    lines = [
        "| arm | runs | median best CV | median test | median wall (s) | median summed "
        "fit time (s) | median CPU (s) | median wall / CPU to default's best CV - 0.002 "
        "(s) | runs reaching it |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    medians = {}
    for arm in [a for a in ARMS if a in set(df.arm)]:
        sub = df[df.arm == arm]
        medians[arm] = sub[["best_cv_score", "test_score", "wall_time_s", "fit_time_s",
                            "cpu_time_s", "reach_wall_s", "reach_cpu_s"]].median()
        m = medians[arm]
        lines.append(
            f"| {arm} | {len(sub)} | {m.best_cv_score:.4f} | {m.test_score:.4f} | "
            f"{m.wall_time_s:.1f} | {m.fit_time_s:.1f} | {m.cpu_time_s:.1f} | "
            f"{m.reach_wall_s:.1f} / {m.reach_cpu_s:.1f} | "
            f"{int(sub.reach_wall_s.notna().sum())}/{len(sub)} |")
    lines += ["", "Per-seed ratios arm / default (median over seeds); the `-alt` rows are "
              "the default against itself with another random stream:", "",
              "| pair | seeds | wall | summed fit time | CPU | best CV difference "
              f"(arm - default) | best CV W / T / L | median / largest loss below the "
              f"default | seeds more than {TOLERANCE} below | test difference |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for arm in [a for a in ARMS if DEFAULT_OF[a] != a and a in set(df.arm)]:
        default = DEFAULT_OF[arm]
        if default not in set(df.arm):
            continue
        a = df[df.arm == default].set_index("seed")
        a = a.loc[a.index.intersection(df[df.arm == arm].seed)]
        b = df[df.arm == arm].set_index("seed").loc[a.index]
        difference = (b.best_cv_score - a.best_cv_score).round(9)  # float noise is no win
        loss = np.maximum(-difference, 0.0)
        ratio = {col: float(np.median(b[col] / a[col]))
                 for col in ("wall_time_s", "fit_time_s", "cpu_time_s")}
        lines.append(
            f"| {arm} / {default} | {len(a)} | {ratio['wall_time_s']:.2f} | "
            f"{ratio['fit_time_s']:.2f} | {ratio['cpu_time_s']:.2f} | "
            f"{float(np.median(difference)):+.4f} | "
            f"{int((difference > 0).sum())} / {int((difference == 0).sum())} / "
            f"{int((difference < 0).sum())} | "
            f"{float(np.median(loss)):.4f} / {float(loss.max()):.4f} | "
            f"{int((loss > TOLERANCE).sum())} | "
            f"{float(np.median(b.test_score - a.test_score)):+.4f} |")
    lines += anytime_table(df)
    return "\n".join(lines) + "\n"


def best_by(trajectory, seconds, column):
    """Best CV score of the batches finished within ``seconds`` (NaN before the first)."""
    best = np.nan
    for point in trajectory:
        if point[column] <= seconds:
            best = point[2]
    return best


def anytime_table(df, shares=(0.25, 0.5, 0.75, 1.0)):
    """Median best CV so far at shares of each default arm's median CPU time."""
    lines = ["", "Median best CV so far after a share of the default arm's median CPU time "
             "(CPU seconds in brackets):", "",
             "| arm | " + " | ".join(f"{share:.0%}" for share in shares) + " |",
             "|---|" + "---:|" * len(shares)]
    for arm in [a for a in ARMS if a in set(df.arm)]:
        default = df[df.arm == DEFAULT_OF[arm]]
        if default.empty:
            continue
        budget = float(default.cpu_time_s.median())
        cells = []
        for share in shares:
            seconds = share * budget
            best = np.nanmedian([best_by(t, seconds, 1) for t in df[df.arm == arm].trajectory])
            cells.append(f"{best:.4f} ({seconds:.0f})")
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=ARMS)
    parser.add_argument("--seeds", nargs="+", type=int, default=list(range(10)))
    parser.add_argument("--n-iter", type=int, default=40)
    parser.add_argument("--hgb-max-iter", type=int, default=50)
    parser.add_argument("--tune-max-iter", type=int, default=None,
                        help="also search max_iter, log-uniform in [10, this]")
    parser.add_argument("--out", default="benchmarks/results/cost_aware")
    parser.add_argument("--cooling", default="linear", choices=sorted(COOLING))
    parser.add_argument("--landscape", type=int, default=None, metavar="K",
                        help="evaluate K random configurations instead of the arms")
    parser.add_argument("--summarize", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    csv_path, md_path = out.with_suffix(".csv"), out.with_suffix(".md")
    if args.landscape is not None:
        if not args.summarize:
            landscape(args.landscape, args.hgb_max_iter).to_csv(csv_path, index=False)
        table = summarize_landscape(pd.read_csv(csv_path))
        md_path.write_text(table)
        print(table)
        return
    use_cooling(args.cooling)
    if not args.summarize:
        warnings.filterwarnings("ignore")
        with open(csv_path, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=FIELDS)
            writer.writeheader()
            for seed in args.seeds:
                for arm in args.arms:
                    writer.writerow(run_one(arm, seed, args.n_iter, args.hgb_max_iter,
                                            args.tune_max_iter, args.cooling))
                    fh.flush()
    table = summarize(pd.read_csv(csv_path))
    md_path.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
