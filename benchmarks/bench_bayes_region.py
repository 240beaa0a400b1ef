"""Ablation of the trust-region rules of BayesStrategy on the oracle functions.

Drives :class:`skhpo.bayes._strategy.BayesStrategy` directly by ask/tell (no
cross-validation machinery, so a 100-evaluation run takes seconds), with the same
seeds, spaces and functions as ``bench_bayes_cost.py``: for a given seed the
regret equals that script's skhpo regret (same rng stream).

A variant is ``base`` or ``+``-joined settings applied on top of the current code:

- ``ftol=M``: failure tolerance ``ceil(M * max(4, k) / q)`` (TuRBO: M = 1);
- ``stol=N``: consecutive successes that double the region (``SUCCESS_TOLERANCE``);
- ``rel=R``: relative improvement that counts as a success;
- ``pert=C``: ``PERTURBED_COLUMNS``;
- ``linit=L`` / ``lmin=L``: initial / minimum side length;
- ``notr``: no trust region (global candidates, no kernel priors);
- ``noregion``: no trust region, with the kernel priors;
- ``prior=S``: the kernel priors with the length-scale term replaced by a
  log-normal ``log l ~ N(sqrt2 + log(d) / 2 + log S, 3)`` (Hvarfner et al. 2024);
- ``gcomp=P``: ``GLOBAL_POINTS_PER_COLUMN`` (0: global candidates from the start);
- ``ncand=N`` / ``npolish=N`` / ``piter=N``: ``N_CANDIDATES`` / ``N_POLISH`` /
  ``POLISH_MAX_ITER``;
- ``axis=N``: ``AXIS_CANDIDATES`` (moves of the best point along one column).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_bayes_region.py pert=20 100 \\
        levy10,levy20,ackley10,ackley20 0,1,2,3,4,5,6,7,8,9

prints one line per run and a ``MEDIAN`` line per function.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_bayes_cost import function_spec  # noqa: E402

import skhpo.bayes._gp as gp_module  # noqa: E402
import skhpo.bayes._strategy as strategy_module  # noqa: E402
import skhpo.bayes._trust_region as region_module  # noqa: E402
from skhpo.space import Real, Space  # noqa: E402


NO_REGION = False


def run(name, seed, n_evals):
    """Simple regret and final region side length of one run."""
    f, bounds, f_min = function_spec(name)
    space = Space({f"x{i}": Real(lo, hi) for i, (lo, hi) in enumerate(bounds)})
    strategy = strategy_module.BayesStrategy(space, np.random.RandomState(seed),
                                             n_iter=n_evals, n_initial_points=10, n_points=1)
    if NO_REGION:
        strategy.trust_region_ = None
    best = np.inf
    while trials := strategy.ask(1):
        for trial in trials:
            value = f(np.array([trial.params[f"x{i}"] for i in range(len(bounds))]))
            best = min(best, value)
            strategy.tell(trial.id, -value)
    region = strategy.trust_region_
    return best - f_min, (region.length if region else None)


def apply(variant):
    """Patch the module constants (or the failure tolerance) a variant names."""
    original_init = region_module.TrustRegion.__init__
    constants = {"stol": "SUCCESS_TOLERANCE", "rel": "RELATIVE_IMPROVEMENT",
                 "pert": "PERTURBED_COLUMNS", "lmin": "LENGTH_MIN", "linit": "LENGTH_INIT"}
    for part in variant.split("+"):
        key, _, value = part.partition("=")
        if key == "base":
            continue
        if key == "ftol":
            def init(self, n_dims, batch_size, factor=float(value)):
                original_init(self, n_dims, batch_size)
                self.failure_tolerance = math.ceil(factor * max(4.0, n_dims) / batch_size)
            region_module.TrustRegion.__init__ = init
        elif key == "stol":
            region_module.SUCCESS_TOLERANCE = int(value)
        elif key in constants:
            setattr(region_module, constants[key], float(value))
        elif key == "prior":  # log-normal length scales centred on exp(sqrt2 + log(k)/2) * SCALE
            scale = float(value)

            def log_prior(theta, scale=scale):
                value_, gradient = gp_module.kernel_log_prior(theta)
                d = len(theta) - 2
                mu, variance = np.sqrt(2.0) + 0.5 * np.log(d) + np.log(scale), 3.0
                log_lengths = theta[1:-1]
                value_ += 0.1 * np.sum(np.exp(2 * log_lengths) + np.exp(-2 * log_lengths))
                value_ -= 0.5 * np.sum((log_lengths - mu) ** 2) / variance
                gradient = gradient.copy()
                gradient[1:-1] = -(log_lengths - mu) / variance
                return value_, gradient
            strategy_module.kernel_log_prior = log_prior
        elif key == "gcomp":
            region_module.GLOBAL_POINTS_PER_COLUMN = float(value)
        elif key == "ncand":
            strategy_module.N_CANDIDATES = int(value)
        elif key == "npolish":
            strategy_module.N_POLISH = int(value)
        elif key == "axis":
            strategy_module.AXIS_CANDIDATES = int(value)
        elif key == "piter":
            strategy_module.POLISH_MAX_ITER = int(value)
        elif key == "noregion":  # global candidates only, with the kernel priors
            global NO_REGION
            NO_REGION = True
        elif key == "notr":
            strategy_module.TRUST_REGION_MIN_COLUMNS = 10**9
        else:
            raise ValueError(f"unknown variant setting {part!r}")


def main(argv):
    variant, n_evals = argv[0], int(argv[1])
    functions, seeds = argv[2].split(","), [int(s) for s in argv[3].split(",")]
    apply(variant)
    for name in functions:
        regrets, start = [], time.time()
        for seed in seeds:
            regret, length = run(name, seed, n_evals)
            regrets.append(regret)
            print(f"  {variant} {name} n={n_evals} seed={seed} regret={regret:.4g} L={length}",
                  flush=True)
        print(f"MEDIAN {variant} {name} n={n_evals} seeds={len(seeds)} "
              f"median={np.median(regrets):.4g} mean={np.mean(regrets):.4g} "
              f"time={time.time() - start:.0f}s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
