"""Kernel hyperparameter priors of BayesSearchCV's GP in many dimensions (an ablation).

The strategy (``BayesStrategy``, 10 Sobol points, one point per batch) runs on the
test functions of ``bench_bayes_cost.py`` with its likelihood search under each of:

ml            maximum likelihood (no prior);
kernel        ``kernel_log_prior``, what BayesSearchCV uses with the trust region
              (0.1 (l^2 + l^-2) per length scale, Gamma priors on s2 and the noise);
noise_scale   ``kernel_log_prior`` without its length-scale term;
dim_scaled    log-normal length scales, ``log l ~ N(sqrt2 + log(d) / 2, 3)``
              (Hvarfner, Hellsten, Nardi, ICML 2024), no other prior.

Measure: simple regret (best f found - min f) after ``--n-evals`` evaluations,
medians over seeds.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_bayes_prior.py --functions ackley10 levy10 \\
        ackley20 levy20 --seeds 0 1 2 3 4 --out benchmarks/results/bayes_prior

writes ``<out>.csv`` (one row per run, appended as runs finish) and ``<out>.md``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from bench_bayes_cost import FUNCTIONS, function_spec  # noqa: E402

from skhpo import Real, Space  # noqa: E402
from skhpo.bayes._gp import kernel_log_prior  # noqa: E402
from skhpo.bayes._strategy import BayesStrategy  # noqa: E402


def noise_scale_log_prior(theta):
    value, gradient = kernel_log_prior(theta)
    log_lengths = theta[1:-1]
    gradient = gradient.copy()
    gradient[1:-1] = 0.0
    return value + 0.1 * np.sum(np.exp(2 * log_lengths) + np.exp(-2 * log_lengths)), gradient


def dim_scaled_log_prior(theta):
    d = len(theta) - 2
    mu, variance = np.sqrt(2.0) + 0.5 * np.log(d), 3.0
    gradient = np.zeros_like(theta)
    gradient[1:-1] = -(theta[1:-1] - mu) / variance
    return -0.5 * np.sum((theta[1:-1] - mu) ** 2) / variance, gradient


VARIANTS = {"ml": None, "kernel": kernel_log_prior, "noise_scale": noise_scale_log_prior,
            "dim_scaled": dim_scaled_log_prior}


def run_one(name, variant, seed, n_evals):
    function, bounds, f_min = function_spec(name)
    space = Space({f"x{i}": Real(lo, hi) for i, (lo, hi) in enumerate(bounds)})
    strategy = BayesStrategy(space, np.random.RandomState(seed), n_iter=n_evals,
                             n_initial_points=10, n_points=1)
    strategy._log_prior = VARIANTS[variant]
    best = np.inf
    while trials := strategy.ask():
        for trial in trials:
            value = function(np.array([trial.params[f"x{i}"] for i in range(len(bounds))]))
            best = min(best, value)
            strategy.tell(trial.id, -value)
    return dict(function=name, variant=variant, seed=seed, n_evals=n_evals,
                regret=float(best - f_min))


def summarize(df):
    variants = [v for v in VARIANTS if v in set(df.variant)]
    lines = ["| function | evals | " + " | ".join(f"{v} median regret (runs)" for v in variants)
             + " |", "|---|---:|" + "---:|" * len(variants)]
    for name in [f for f in FUNCTIONS if f in set(df.function)]:
        part = df[df.function == name]
        cells = []
        for v in variants:
            d = part[part.variant == v]
            cells.append(f"{d.regret.median():.4g} ({len(d)})" if len(d) else "n/a")
        lines.append(f"| {name} | {part.n_evals.iloc[0]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--functions", nargs="+", default=["ackley10", "levy10", "ackley20",
                                                           "levy20"], choices=FUNCTIONS)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--n-evals", type=int, default=100)
    parser.add_argument("--out", default="benchmarks/results/bayes_prior")
    parser.add_argument("--summarize", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    csv_path, md_path = out.with_suffix(".csv"), out.with_suffix(".md")
    if not args.summarize:
        with open(csv_path, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=["function", "variant", "seed", "n_evals",
                                                    "regret"])
            writer.writeheader()
            for seed in args.seeds:
                for name in args.functions:
                    for variant in args.variants:
                        row = run_one(name, variant, seed, args.n_evals)
                        writer.writerow(row)
                        fh.flush()
                        print(row, flush=True)
    df = pd.read_csv(csv_path)
    command = " ".join(sys.argv[1:] if argv is None else argv)
    md_path.write_text(f"Median simple regret over seeds {sorted(set(df.seed))}, "
                       f"BayesStrategy with each likelihood prior.\n\nCommand: "
                       f"`OMP_NUM_THREADS=1 python benchmarks/bench_bayes_prior.py {command}`"
                       "\n\n" + summarize(df))
    print(summarize(df))
    return 0


if __name__ == "__main__":
    sys.exit(main())
