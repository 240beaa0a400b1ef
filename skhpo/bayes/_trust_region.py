"""A trust region for Bayesian optimization in many continuous dimensions (TuRBO-1).

Notation
--------
``k`` : number of continuous columns of the encoding;
``c`` : (k,) centre, the continuous columns of the best point told so far;
``l_j`` : the GP length scales of those columns;
``w_j = l_j / (prod_i l_i)^(1/k)`` : the side weights (geometric mean 1);
``L`` : the side length, so the region is ``[c_j - w_j L / 2, c_j + w_j L / 2]``
clipped to ``[0, 1]``.

``L`` starts at ``LENGTH_INIT``; after ``SUCCESS_TOLERANCE`` consecutive batches
that improve the best score it doubles (up to ``LENGTH_MAX``), after
``ceil(max(4, k) / q)`` consecutive batches of ``q`` points that do not it halves,
and below ``LENGTH_MIN`` it starts again at ``LENGTH_INIT`` (Eriksson et al.,
"Scalable Global Optimization via Local Bayesian Optimization", NeurIPS 2019;
TuRBO-1 restarts with a fresh design and drops the data, here the data are kept
and the region is re-centred on the best point). Candidates inside the region
change only some columns of the centre, each with probability
``p = min(1, PERTURBED_COLUMNS / k)`` (:func:`perturbation_probability`), as
TuRBO's do. TuRBO's 20 columns leave every column perturbed up to ``k = 20``;
with 5, a candidate changes about half the columns in 10 dimensions and a
quarter in 20, which searches the region more like a coordinate search
(``benchmarks/results/bayes_levy_100.md``: at 100 evaluations, median regret
on Levy in 10 dimensions 3.0 against 4.0 with 20 columns).

Once the region has restarted or the history holds more than
``GLOBAL_POINTS_PER_COLUMN`` points per continuous column, counting at most
``GLOBAL_COLUMNS_CAP`` columns (:func:`global_proposal_competes`), candidates
over the whole space compete with the region's for each proposal, so that a
region stuck in a local basin can be left (``benchmarks/results/bayes_hd_400.md``).

Besides, points that differ from the centre in one continuous column, set
anywhere in ``[0, 1]`` (:func:`axis_candidates`), compete from the first
proposal: a column whose better basin lies outside the region is reached in one
step, which neither the region (bounded) nor the global candidates (every column
changed) offer (``benchmarks/results/bayes_levy20.md``: median regret on Levy in
20 dimensions 2.80 against 4.14 at 400 evaluations, 10 seeds).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["TrustRegion", "axis_candidates", "global_proposal_competes",
           "perturbation_probability", "region_candidates"]

LENGTH_INIT, LENGTH_MIN, LENGTH_MAX = 0.8, 0.5**7, 1.6
SUCCESS_TOLERANCE = 3
PERTURBED_COLUMNS = 5  # expected number of columns a candidate changes
RELATIVE_IMPROVEMENT = 1e-3  # what counts as a success: beating the best by this much
GLOBAL_POINTS_PER_COLUMN = 10  # told points per continuous column from which global
GLOBAL_COLUMNS_CAP = 10  # candidates compete with the region's, counting at most this many columns


class TrustRegion:
    """Side length and success/failure counters of one trust region.

    Parameters
    ----------
    n_dims : int
        ``k``, the number of continuous columns.
    batch_size : int
        ``q``, points told per :meth:`update`.
    """

    def __init__(self, n_dims: int, batch_size: int) -> None:
        self.n_dims = n_dims
        self.length = LENGTH_INIT
        self.failure_tolerance = math.ceil(max(4.0, n_dims) / batch_size)
        self.n_successes = self.n_failures = 0
        self.n_restarts = 0

    def update(self, best_before: float, batch_best: float) -> None:
        """Count a batch whose best score is ``batch_best`` (NaN: all failed) against
        the best score told before it, and resize the region."""
        improved = np.isfinite(batch_best) and (
            not np.isfinite(best_before)
            or batch_best > best_before + RELATIVE_IMPROVEMENT * abs(best_before))
        if improved:
            self.n_successes, self.n_failures = self.n_successes + 1, 0
        else:
            self.n_successes, self.n_failures = 0, self.n_failures + 1
        if self.n_successes == SUCCESS_TOLERANCE:
            self.length, self.n_successes = min(2 * self.length, LENGTH_MAX), 0
        elif self.n_failures == self.failure_tolerance:
            self.length, self.n_failures = self.length / 2, 0
        if self.length < LENGTH_MIN:
            self.length = LENGTH_INIT
            self.n_restarts += 1

    def bounds(self, centre: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper corners of the region, shape (k,) each."""
        log_lengths = np.log(lengths)
        weights = np.exp(log_lengths - log_lengths.mean())
        half = weights * self.length / 2
        return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def perturbation_probability(n_dims: int) -> float:
    """``p = min(1, PERTURBED_COLUMNS / k)``: the probability that a candidate
    changes a given continuous column of the centre, for ``k = n_dims``."""
    return min(1.0, PERTURBED_COLUMNS / n_dims)


def region_candidates(centre: np.ndarray, low: np.ndarray, high: np.ndarray,
                      unit_points: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """Points of the region that differ from ``centre`` in a random subset of columns.

    ``unit_points`` (n, k) in ``[0, 1]^k`` (a Sobol sample) are mapped into the
    box ``[low, high]``; each column of each point is kept only with probability
    :func:`perturbation_probability` and is the centre's otherwise, and every
    point changes at least one column. Returns shape (n, k).
    """
    n, k = unit_points.shape
    inside = low + (high - low) * unit_points
    perturbed = rng.uniform(size=(n, k)) <= perturbation_probability(k)
    unchanged = ~perturbed.any(axis=1)
    perturbed[unchanged, rng.randint(k, size=int(unchanged.sum()))] = True
    return np.where(perturbed, inside, centre)


def global_proposal_competes(n_told: int, n_continuous: int, n_restarts: int) -> bool:
    """Whether candidates over the whole space compete with the region's.

    True once the region has restarted (``n_restarts >= 1``) or more than
    ``GLOBAL_POINTS_PER_COLUMN * min(n_continuous, GLOBAL_COLUMNS_CAP)`` points
    were told (100 from 10 columns up). The region only ever searches around
    the best point: after a restart it shrinks again around the same basin, and
    with many points the GP is informed enough that a better basin it predicts
    elsewhere deserves a proposal. Before that, the few points leave the GP's
    global picture too vague, and global proposals are mostly exploration that
    the region does better (TuRBO's argument). The cap: with 10 points per
    column in 20 dimensions, global candidates joined only after 200 points,
    and median regret on Levy in 20 dimensions at 400 evaluations was 5.21
    against 4.14 with the cap (10 seeds; Levy in 10 dimensions is unchanged).
    """
    return n_restarts >= 1 or n_told > GLOBAL_POINTS_PER_COLUMN * min(n_continuous,
                                                                      GLOBAL_COLUMNS_CAP)


def axis_candidates(centre: np.ndarray, columns: np.ndarray, n: int,
                    rng: np.random.RandomState) -> np.ndarray:
    """``n`` copies of ``centre`` (shape (d,)), each with one of ``columns``
    (indices, drawn uniformly) set to a uniform value in ``[0, 1]``.
    Returns shape (n, d)."""
    points = np.tile(centre, (n, 1))
    rows = np.arange(n)
    points[rows, rng.choice(columns, size=n)] = rng.uniform(size=n)
    return points
