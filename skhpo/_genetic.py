"""GeneticSearchCV: an evolutionary search over mixed hyperparameter spaces.

Notation
--------
A population of ``P`` individuals lives in the unit cube of the shared
:class:`~skhpo.space.Space` encoding (``d = space.n_columns`` columns). A *gene* is
one dimension of a subspace: a numeric gene is one column (``Real``, ``Integer``,
a scipy distribution), a categorical gene is the block of one-hot columns of a
``Categorical``, and with a union of subspaces the one-hot subspace selector is one
more categorical gene. ``f`` is the fitness (mean cross-validated test score,
greater is better; NaN for a failed fit, which ranks last), ``k`` the tournament
size, ``E`` the number of elites, ``p_c`` and ``p_m`` the crossover and per-gene
mutation probabilities, ``g`` the generation (0-based) and ``G`` the number of
generations. ``n`` is the number of numeric genes (of every subspace), ``m``,
``sigma`` and ``C`` the mean, step size and covariance of their search
distribution, ``lambda = P - E`` the children per generation and ``K`` the
candidates bred per child kept (``SCREENING_FACTOR``).

Why these operators
-------------------
The budgets of hyperparameter searches are tiny for an evolutionary algorithm
(tens to a few hundred evaluations), so every evaluation must count:

* Numeric genes follow a CMA-ES search distribution ``N(m, sigma^2 C)`` on the
  unit-cube encoding (Hansen, 2016): it learns the scale and the correlations of
  the good region from each generation's ranking, where fixed Gaussian or SBX
  steps do not. Integer genes are sampled like reals and snapped; a floor on
  their standard deviation (the margin of Hamano et al., 2022) keeps an integer
  gene from freezing once the distribution is narrower than one integer.
  The distribution starts at the recombination of the initial design's best
  half (``design_mean``), the mean CMA-ES would move to after that sample,
  not at its best point: with a few generations, one lucky point in a poor
  region would otherwise anchor the search (at 40 evaluations, median regret
  over 100 seeds 4.6 against 5.3 on a 4-d Rosenbrock, 0.020 against 0.045 on
  the mixed space of the benchmark).
* Categorical genes and the choice of subspace keep the genetic operators
  (tournaments, uniform crossover, resampling mutation), for which no
  continuous distribution exists; the parents are the ``P`` best individuals
  evaluated so far (a plus-selection, as in DEAP's mu + lambda).
* Offspring are pre-screened (Emmerich et al., 2002): ``K`` candidates are bred
  per child and a cubic radial basis function surrogate with a linear tail
  (Gutmann, 2001) fitted to all evaluated points picks one, by the merit of
  Regis and Shoemaker (2007) that weighs the predicted score against the
  distance to evaluated points. RBF interpolation costs ``O(N^3)`` for ``N``
  points, milliseconds for the few hundred a search evaluates (at most
  ``MAX_SURROGATE_POINTS`` nearest are used), unlike a Gaussian process's
  hyperparameter fit. Its target is the scores with the poor half raised to
  the median (Gutmann, 2001; Regis and Shoemaker, 2007): outlying poor scores
  do not dominate it, and the good half keeps its differences in value, which
  a rank transform would make evenly spaced (on a 4-d Rosenbrock at 40
  evaluations the median regret over 100 seeds fell from 7.1 to 5.3 against
  normal scores of the ranks). Candidates sharing a child's categorical genes are
  screened against each other only: the surrogate chooses numeric genes, but
  never a category it cannot judge before it has been tried. The candidates'
  steps have several radii (``EARLY_RADII``, ``LATE_RADII``), so the surrogate
  can choose between exploring and refining; the short radii join in the
  second half of the generations, a budget-aware schedule (see
  ``sampling_radii``).

Budget-aware population sizing (the CMA-ES default ``lambda = 4 + 3 ln n``, or a
population shrunk when ``P G`` is small against ``n``) was not adopted as an
automatic rule: the population is also the batch of parallel fits and the
``generation`` column of ``cv_results_``, which the user sets. The benchmark
(``benchmarks/bench_genetic_oracle.py``) measures its effect: at 40 evaluations
``P = 5`` (8 generations) found better points than ``P = 10`` (4 generations)
on Branin, Hartmann6, a 4-d Rosenbrock and the mixed space (medians over 10
seeds: 0.0022 against 0.060, 0.20 against 0.42, 2.9 against 4.0, 0.0031
against 0.030), so the documentation of ``population_size`` recommends small
populations for small budgets; and the short step radii, which refine, are
offered only in the second half of the generations.

References: Hansen, "The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772,
2016; Hamano et al., "CMA-ES with Margin", GECCO 2022; Emmerich et al.,
"Metamodel-assisted evolution strategies", PPSN 2002; Gutmann, "A radial basis
function method for global optimization", J. Global Optim. 19, 2001; Regis and
Shoemaker, "A stochastic radial basis function method for the global
optimization of expensive functions", INFORMS J. Comput. 19, 2007.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy.spatial.distance import cdist
from scipy.special import ndtri

from ._base import BaseSearchCV
from ._cost import cooling_exponent, cost_cooled, log_fit_times
from ._sklearn_compat import Interval
from ._strategy import BatchStrategy, Trial
from .space import MAX_GRID_SIZE, Categorical, Space, one_hot

__all__ = ["AsyncGeneticStrategy", "GeneticSearchCV", "GeneticStrategy"]

Gene = tuple[slice, bool]  # (columns of the encoding, is categorical)

SBX_ETA = 2.0  # distribution index of simulated binary crossover: small = wide children
SCALE_START, SCALE_END = 0.25, 0.02  # mutation step (unit-cube std), first / last generation
N_RETRIES = 3  # mutations of a duplicate child before a random point replaces it
SIGMA_START = 0.15  # CMA step size after the initial design, in units of the unit cube
SIGMA_MIN, SIGMA_MAX = 1e-10, 1.0
INTEGER_MARGIN = 0.25  # smallest std of an integer gene, in units of one integer's slice
SCREENING_FACTOR = 10  # candidates bred per child kept after surrogate pre-screening
# candidate step sizes in units of sigma, in the first and the second half of the budget
EARLY_RADII, LATE_RADII = (1.0, 0.5), (1.0, 0.5, 0.25, 0.1)
MERIT_WEIGHTS = (0.8, 0.95, 0.95, 0.99)  # surrogate weight cycle (Regis and Shoemaker, 2007)
MAX_SURROGATE_POINTS = 256  # evaluated points nearest to the candidates the surrogate fits
RBF_RIDGE = 1e-8
DUPLICATE_DISTANCE = 1e-9
HISTORY_KEYS = ("generation", "best_score", "mean_score", "std_score", "n_new_evaluations")
_STRATEGY_PARAMS = ("population_size", "n_generations", "crossover_probability",
                    "mutation_probability", "tournament_size", "elitism", "patience",
                    "cost_aware")


# -- operators: pure functions of arrays and an rng ------------------------------


def gene_layout(space: Space) -> tuple[slice | None, list[list[Gene]]]:
    """The selector columns (None for one subspace) and the genes of each subspace."""
    selector = slice(0, space._n_selector) if space._n_selector else None
    genes = [
        [(sl, isinstance(dim, Categorical)) for dim, sl in zip(sub.values(), slices)
         if dim.n_columns]
        for sub, slices in zip(space.subspaces, space._slices)
    ]
    return selector, genes


def numeric_genes(space: Space) -> tuple[np.ndarray, np.ndarray]:
    """Columns of the numeric genes of every subspace, and their smallest std.

    The std floor is ``INTEGER_MARGIN / size`` for a gene with ``size`` values
    (an integer, or a discrete scipy distribution), 0 for a continuous one.
    """
    columns, floors = [], []
    for sub, slices in zip(space.subspaces, space._slices):
        for dim, sl in zip(sub.values(), slices):
            if dim.n_columns and not isinstance(dim, Categorical):
                columns.append(sl.start)
                floors.append(INTEGER_MARGIN / dim.size if math.isfinite(dim.size) else 0.0)
    return np.array(columns, dtype=int), np.array(floors, dtype=float)


def _subspace(x: np.ndarray, selector: slice | None) -> int:
    return 0 if selector is None else int(np.argmax(x[selector]))


def _resample_category(block: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """One-hot block moved to a category other than its argmax, uniformly."""
    width = len(block)
    new = (int(np.argmax(block)) + 1 + rng.randint(width - 1)) % width
    return one_hot([new], width)[0]


def tournament_select(fitness: np.ndarray, n: int, tournament_size: int,
                      rng: np.random.RandomState) -> np.ndarray:
    """Indices of the winners of ``n`` tournaments; shape ``(n,)``.

    Each tournament draws ``k`` distinct individuals uniformly and keeps the one of
    greatest ``f`` (NaN counts as ``-inf``), so ``k = P`` always returns the best.
    """
    f = np.where(np.isnan(fitness), -np.inf, fitness)
    winners = np.empty(n, dtype=int)
    for i in range(n):
        entrants = rng.choice(len(f), size=tournament_size, replace=False)
        winners[i] = entrants[np.argmax(f[entrants])]
    return winners


def sbx(a: np.ndarray, b: np.ndarray, rng: np.random.RandomState,
        eta: float = SBX_ETA) -> tuple[np.ndarray, np.ndarray]:
    """Simulated binary crossover (Deb and Agrawal, 1995) of unit-cube arrays.

    With ``u ~ U(0, 1)`` per column, ``beta = (2u)^(1/(eta+1))`` if ``u <= 1/2``
    else ``(2(1-u))^(-1/(eta+1))``, the children are
    ``((1 + beta) a + (1 - beta) b) / 2`` and ``((1 - beta) a + (1 + beta) b) / 2``,
    clipped to ``[0, 1]``: centred on the parents' mean, spread with their distance,
    so equal parents give themselves.
    """
    u = rng.uniform(size=np.shape(a))
    beta = np.where(u <= 0.5, (2 * u) ** (1 / (eta + 1)),
                    (2 * (1 - u)) ** (-1 / (eta + 1)))
    mean, half_gap = (a + b) / 2, (b - a) / 2  # exact when a == b
    return np.clip(mean - beta * half_gap, 0.0, 1.0), np.clip(mean + beta * half_gap, 0.0, 1.0)


def crossover(a: np.ndarray, b: np.ndarray, selector: slice | None,
              genes: list[list[Gene]], rng: np.random.RandomState,
              eta: float = SBX_ETA) -> tuple[np.ndarray, np.ndarray]:
    """Two children of parents ``a`` and ``b`` (encoded rows of shape ``(d,)``).

    Parents from different subspaces share no genes: the children are copies, so
    each child takes a parent's subspace wholesale. Otherwise each gene is crossed
    with probability 1/2: a categorical gene is swapped whole between the children
    (uniform crossover), a numeric gene is recombined by :func:`sbx`.
    """
    c1, c2 = a.copy(), b.copy()
    s = _subspace(a, selector)
    if s != _subspace(b, selector):
        return c1, c2
    for sl, categorical in genes[s]:
        if rng.uniform() >= 0.5:
            continue
        if categorical:
            c1[sl], c2[sl] = b[sl], a[sl]
        else:
            c1[sl], c2[sl] = sbx(a[sl], b[sl], rng, eta)
    return c1, c2


def reflect(u: np.ndarray) -> np.ndarray:
    """Fold the real line into ``[0, 1]`` (a triangle wave), so steps bounce off bounds."""
    u = np.abs(u) % 2.0
    return np.where(u > 1.0, 2.0 - u, u)


def mutate(x: np.ndarray, selector: slice | None, genes: list[list[Gene]],
           rng: np.random.RandomState, probability: float, scale: float,
           force: bool = False) -> np.ndarray:
    """A mutated copy of the encoded row ``x``; each active gene mutates w.p. ``p_m``.

    A numeric gene takes a step ``N(0, scale^2)`` reflected into ``[0, 1]``; a
    categorical gene is resampled among its other categories; a change of subspace
    draws the genes of the new subspace uniformly. ``force`` mutates one gene
    (chosen uniformly) when the draw picked none.
    """
    x = np.array(x, dtype=float)
    s = _subspace(x, selector)
    active = genes[s]
    n_genes = len(active) + (selector is not None)
    if n_genes == 0:
        return x
    mask = rng.uniform(size=n_genes) < probability
    if force and not mask.any():
        mask[rng.randint(n_genes)] = True
    if selector is not None and mask[-1]:
        x[selector] = _resample_category(x[selector], rng)
        for sl, _ in genes[_subspace(x, selector)]:
            x[sl] = rng.uniform(size=sl.stop - sl.start)
        return x
    for (sl, categorical), chosen in zip(active, mask):
        if not chosen:
            continue
        if categorical:
            if sl.stop - sl.start > 1:
                x[sl] = _resample_category(x[sl], rng)
        else:
            x[sl] = reflect(x[sl] + rng.normal(scale=scale, size=sl.stop - sl.start))
    return x


def mutation_scale(generation: int, n_generations: int, start: float = SCALE_START,
                   end: float = SCALE_END) -> float:
    """Step size for ``generation``: ``start (end / start)^(g / max(G - 1, 1))``."""
    return start * (end / start) ** (generation / max(n_generations - 1, 1))


# -- covariance matrix adaptation of the numeric genes ----------------------------


@dataclass
class CovarianceState:
    """Search distribution ``N(m, sigma^2 C)`` of the numeric genes (CMA-ES).

    Attributes
    ----------
    mean : ndarray of shape (n,)
        ``m``, inside ``[0, 1]^n``.
    sigma : float
        Global step size, in units of the unit cube.
    cov : ndarray of shape (n, n)
        ``C``, symmetric positive definite.
    path_sigma, path_c : ndarray of shape (n,)
        Evolution paths of the step size and of ``C``.
    n_updates : int
        Updates made so far.
    """

    mean: np.ndarray
    sigma: float
    cov: np.ndarray
    path_sigma: np.ndarray
    path_c: np.ndarray
    n_updates: int = 0

    @classmethod
    def start(cls, mean: np.ndarray, sigma: float | None = None) -> CovarianceState:
        n, sigma = len(mean), SIGMA_START if sigma is None else sigma
        return cls(np.asarray(mean, dtype=float).copy(), float(sigma), np.eye(n),
                   np.zeros(n), np.zeros(n))


def design_mean(genotypes: np.ndarray, fitness: np.ndarray) -> np.ndarray:
    """Weighted mean ``sum_i w_i x_{i:P}`` of the best half of a design; shape ``(n,)``.

    The CMA-ES mean update (Hansen, 2016, eq. 9) applied to the initial design
    (``genotypes`` of shape ``(P, n)``, NaN ranking last) with the weights of
    :func:`recombination_weights`: the search starts from where the good half
    of the design lies rather than at its single best point, so one lucky
    sample in a poor region does not anchor the first generations.
    """
    order = np.argsort(-np.nan_to_num(fitness, nan=-np.inf), kind="stable")
    weights = recombination_weights(len(genotypes))
    return weights @ np.asarray(genotypes, dtype=float)[order[:len(weights)]]


def recombination_weights(n_offspring: int) -> np.ndarray:
    """Weights of the ``mu = max(lambda // 2, 1)`` best offspring; shape ``(mu,)``.

    ``w_i = ln(mu + 1/2) - ln(i)`` for ``i = 1..mu``, normalised to sum to 1
    (Hansen, 2016, eq. 49 with positive weights only).
    """
    mu = max(n_offspring // 2, 1)
    weights = np.log(mu + 0.5) - np.log(np.arange(1, mu + 1))
    return weights / weights.sum()


def margin_stretch(state: CovarianceState, floors: np.ndarray) -> np.ndarray:
    """Per-gene factor ``max(1, floor_j / (sigma sqrt(C_jj)))``; shape ``(n,)``.

    Integer genes have a floor (a quarter of one integer's slice of the unit
    interval): once the distribution is narrower than that, every sample would
    round to the same integer and the gene could never move again, so its
    samples are stretched back to the floor (the margin of Hamano et al., 2022).
    """
    std = state.sigma * np.sqrt(np.maximum(np.diag(state.cov), 1e-300))
    return np.maximum(1.0, floors / std)


def cma_sample(state: CovarianceState, n: int, floors: np.ndarray,
               rng: np.random.RandomState, radii: np.ndarray | None = None) -> np.ndarray:
    """``n`` genotypes ``reflect(m + r_i sigma stretch B D z_i)``; shape ``(n, len(m))``.

    ``z_i ~ N(0, I)``, ``C = B D^2 B^T`` and ``r_i = radii[i]`` (1 when None):
    candidates at several radii let a surrogate choose between a long step and
    a refinement near the mean (the several perturbation scales of stochastic
    RBF methods, Regis and Shoemaker, 2007). Inside ``[0, 1]``.
    """
    eigenvalues, basis = np.linalg.eigh(state.cov)
    scales = np.sqrt(np.maximum(eigenvalues, 0.0))
    steps = (rng.standard_normal((n, len(state.mean))) * scales) @ basis.T
    radius = np.ones((n, 1)) if radii is None else np.asarray(radii, dtype=float)[:, None]
    return reflect(state.mean + radius * state.sigma * margin_stretch(state, floors) * steps)


def sampling_radii(generation: int, n_generations: int) -> tuple[float, ...]:
    """Radii of the candidates' steps: ``EARLY_RADII`` while ``g / (G - 1) <= 1/2``,
    then ``LATE_RADII``.

    Short steps refine a region the search distribution has found; offered too
    early, the surrogate prefers them and the search settles in the first basin
    it meets (measured on Levy and Rastrigin), so they come with the second half
    of the budget.
    """
    return EARLY_RADII if generation <= max(n_generations - 1, 1) / 2 else LATE_RADII


def cma_update(state: CovarianceState, genotypes: np.ndarray, fitness: np.ndarray,
               floors: np.ndarray, radii: np.ndarray | None = None) -> CovarianceState:
    """One (mu/mu_w, lambda)-CMA-ES update from ``lambda`` evaluated genotypes.

    With ``y_i = (x_{i:lambda} - m) / (sigma * stretch)`` the steps of the ``mu``
    best (greatest ``f``, NaN last) and ``y_w = sum_i w_i y_i``:
    ``m <- m + sigma stretch y_w``;
    ``p_s <- (1 - c_s) p_s + sqrt(c_s (2 - c_s) mu_eff) C^(-1/2) y_w``;
    ``p_c <- (1 - c_c) p_c + h_s sqrt(c_c (2 - c_c) mu_eff) y_w``;
    ``C <- (1 - c_1 - c_mu + (1 - h_s) c_1 c_c (2 - c_c)) C + c_1 p_c p_c^T
    + c_mu sum_i w_i y_i y_i^T``;
    ``sigma <- sigma exp(c_s / d_s (|p_s| / E|N(0, I)| - 1))``, with the
    default learning rates of Hansen (2016); ``genotypes`` has shape
    ``(lambda, n)``. A genotype sampled at radius ``r_i`` (``radii``, shape
    ``(lambda,)``; 1 when None) moves the mean by its own step but enters the
    paths and ``C`` as ``y_i / r_i``, the step of ``N(0, C)`` it was drawn
    from, so that picking short steps does not by itself shrink ``sigma``.
    """
    n = len(state.mean)
    order = np.argsort(-np.nan_to_num(fitness, nan=-np.inf), kind="stable")
    weights = recombination_weights(len(genotypes))
    mu_eff = 1.0 / np.sum(weights**2)
    c_s = (mu_eff + 2) / (n + mu_eff + 5)
    d_s = 1 + 2 * max(0.0, np.sqrt((mu_eff - 1) / (n + 1)) - 1) + c_s
    c_c = (4 + mu_eff / n) / (n + 4 + 2 * mu_eff / n)
    c_1 = 2 / ((n + 1.3) ** 2 + mu_eff)
    c_mu = min(1 - c_1, 2 * (mu_eff - 2 + 1 / mu_eff) / ((n + 2) ** 2 + mu_eff))
    expected_norm = np.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n**2))

    stretch = margin_stretch(state, floors)
    best = order[:len(weights)]
    moves = (genotypes[best] - state.mean) / (state.sigma * stretch)
    steps = moves if radii is None else moves / np.asarray(radii, dtype=float)[best, None]
    step = weights @ steps
    eigenvalues, basis = np.linalg.eigh(state.cov)
    inverse_root = basis @ np.diag(1 / np.sqrt(np.maximum(eigenvalues, 1e-300))) @ basis.T
    path_sigma = ((1 - c_s) * state.path_sigma
                  + np.sqrt(c_s * (2 - c_s) * mu_eff) * inverse_root @ step)
    generation = state.n_updates + 1
    stalled = (np.linalg.norm(path_sigma) / np.sqrt(1 - (1 - c_s) ** (2 * generation))
               >= (1.4 + 2 / (n + 1)) * expected_norm)
    path_c = (1 - c_c) * state.path_c + (not stalled) * np.sqrt(
        c_c * (2 - c_c) * mu_eff) * step
    cov = ((1 - c_1 - c_mu + stalled * c_1 * c_c * (2 - c_c)) * state.cov
           + c_1 * np.outer(path_c, path_c) + c_mu * (steps.T * weights) @ steps)
    sigma = state.sigma * np.exp(c_s / d_s * (np.linalg.norm(path_sigma) / expected_norm - 1))
    return CovarianceState(
        mean=np.clip(state.mean + state.sigma * stretch * (weights @ moves), 0.0, 1.0),
        sigma=float(np.clip(sigma, SIGMA_MIN, SIGMA_MAX)), cov=(cov + cov.T) / 2,
        path_sigma=path_sigma, path_c=path_c, n_updates=generation)


# -- surrogate pre-screening of offspring -------------------------------------------


def median_clipped_scores(fitness: np.ndarray) -> np.ndarray:
    """``f`` with every value below the median raised to it, rescaled to ``[0, 1]``.

    ``(max(f, med f) - med f) / (max f - med f)``, NaN counting as the least
    score (all 0 when the top half is flat): the surrogate target of Gutmann
    (2001) and Regis and Shoemaker (2007). The poor half, whose scale can be
    huge (a Rosenbrock wall), becomes a flat floor, while the good half keeps
    its differences in value, which ranks would make evenly spaced: in a narrow
    valley the surrogate then tells a point near the floor from one on its
    slope.
    """
    f = np.asarray(fitness, dtype=float)
    finite = f[~np.isnan(f)]
    if not finite.size:
        return np.zeros(len(f))
    median = np.median(finite)
    clipped = np.maximum(np.nan_to_num(f, nan=median), median) - median
    top = clipped.max()
    return clipped / top if top > 0 else clipped


def normal_scores(fitness: np.ndarray) -> np.ndarray:
    """Ranks of ``f`` mapped to standard normal quantiles (NaN ranks last).

    ``Phi^-1((r + 1/2) / n)`` for rank ``r`` (0 = worst): robust to the scale of
    the scores (a Rosenbrock valley and its 10^5 walls weigh alike).
    """
    f = np.nan_to_num(np.asarray(fitness, dtype=float), nan=-np.inf)
    ranks = np.empty(len(f))
    ranks[np.argsort(f, kind="stable")] = np.arange(len(f))
    return ndtri((ranks + 0.5) / len(f))


def fit_rbf(points: np.ndarray, values: np.ndarray,
            ridge: float = RBF_RIDGE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cubic radial basis interpolant with a linear tail (Gutmann, 2001).

    Solves ``[[Phi + ridge I, P], [P^T, 0]] [lam; c] = [values; 0]`` with
    ``Phi_ij = |x_i - x_j|^3`` and ``P = [1, X]``; ``points`` has shape
    ``(n, d)``. Returns ``(points, lam, c)`` for :func:`predict_rbf`.

    A column on which all points agree (a gene the search has settled) has no
    slope to fit: it is left out of ``P`` and its coefficient in ``c`` is 0.
    Kept, it would make the system singular, and the least-squares fallback
    would both cost an SVD and give the surrogate an arbitrary trend along that
    column.
    """
    n, d = points.shape
    varying = np.ptp(points, axis=0) > 0
    tail = np.hstack([np.ones((n, 1)), points[:, varying]])
    k = tail.shape[1]
    system = np.zeros((n + k, n + k))
    system[:n, :n] = cdist(points, points) ** 3 + ridge * np.eye(n)
    system[:n, n:], system[n:, :n] = tail, tail.T
    rhs = np.concatenate([values, np.zeros(k)])
    try:  # an LU solve is several times faster than lstsq's SVD
        solution = np.linalg.solve(system, rhs)
    except np.linalg.LinAlgError:  # points on a hyperplane leave the tail singular
        solution = np.linalg.lstsq(system, rhs, rcond=None)[0]
    linear = np.zeros(d + 1)
    linear[0] = solution[n]
    linear[1:][varying] = solution[n + 1:]
    return points, solution[:n], linear


def predict_rbf(model: tuple[np.ndarray, np.ndarray, np.ndarray],
                queries: np.ndarray) -> np.ndarray:
    """The interpolant of :func:`fit_rbf` at ``queries`` (shape ``(m, d)``)."""
    points, radial, linear = model
    return cdist(queries, points) ** 3 @ radial + linear[0] + queries @ linear[1:]


def prescreen(candidates: np.ndarray, predicted: np.ndarray, known: np.ndarray,
              n: int, weights: tuple[float, ...] | None = None,
              offset: int = 0) -> list[int]:
    """Indices of ``n`` candidates picked one at a time by the merit of
    Regis and Shoemaker (2007).

    Pick ``k`` minimises ``w V_R + (1 - w) V_D`` over the candidates not yet
    picked, with ``w = weights[(offset + k) % len(weights)]``, ``V_R`` the
    predicted score rescaled to ``[0, 1]`` (0 for the greatest ``predicted``) and
    ``V_D`` the distance to the nearest known or already picked point rescaled
    to ``[0, 1]`` (0 for the farthest). A candidate at distance 0 (a known
    point) is never picked; fewer than ``n`` come back when too few are left.
    ``candidates`` has shape ``(m, d)``, ``known`` ``(k, d)``.
    """
    nearest = (cdist(candidates, known).min(axis=1) if len(known)
               else np.full(len(candidates), np.inf))
    available = nearest > DUPLICATE_DISTANCE
    weights = MERIT_WEIGHTS if weights is None else weights
    picked: list[int] = []
    for k in range(n):
        if not available.any():
            break
        weight = weights[(offset + k) % len(weights)]
        merit = (weight * _rescale(-predicted, available)
                 + (1 - weight) * _rescale(-np.minimum(nearest, 1e300), available))
        best = int(np.flatnonzero(available)[np.argmin(merit[available])])
        picked.append(best)
        available[best] = False
        nearest = np.minimum(nearest, np.linalg.norm(candidates - candidates[best], axis=1))
        available &= nearest > DUPLICATE_DISTANCE
    return picked


def _rescale(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``(v - min) / (max - min)`` over ``mask`` (all 0 when they are equal)."""
    low, high = values[mask].min(), values[mask].max()
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def _key(point: np.ndarray) -> bytes:
    """Cache key of a rounded encoded point (``+ 0.0`` folds -0.0 into 0.0)."""
    return (np.round(point, 10) + 0.0).tobytes()


# -- the strategy -----------------------------------------------------------------


class GeneticStrategy(BatchStrategy):
    """Generational evolutionary search with elitism, asked one generation at a time.

    Categorical genes evolve by the genetic operators, numeric genes by a CMA-ES
    search distribution, and each child is the pick of ``screening_factor``
    candidates by an RBF surrogate (see :class:`GeneticSearchCV`, Notes).

    Parameters
    ----------
    space, rng
        See :class:`~skhpo._strategy.Strategy`.
    population_size, n_generations, crossover_probability, mutation_probability,\
    tournament_size, elitism, patience
        See :class:`GeneticSearchCV`.
    screening_factor : int, default=SCREENING_FACTOR
        Candidates bred per child; 1 turns pre-screening off (the first new
        candidate is kept).
    cost_aware : bool, default=False
        If True, pre-screening ranks candidates by the predicted normal score
        (the surrogate is then fitted to normal scores of the ranks) minus
        ``alpha`` times the predicted log fit time (a second RBF surrogate,
        fitted to the log mean fit times of the same evaluated points), with the
        cooling exponent ``alpha`` of :mod:`skhpo._cost` going from 1 after the
        initial population to nearly 0 in the last generation.

    Attributes
    ----------
    population_ : ndarray of shape (population_size, n_columns)
        The last complete generation, encoded (rows may repeat on tiny spaces).
    fitness_ : ndarray of shape (population_size,)
        Its scores (NaN for failed fits).
    covariance_ : CovarianceState or None
        The search distribution of the numeric genes (columns
        ``numeric_genes(space)[0]``); None before generation 0 is told and for
        spaces without numeric genes.
    history_ : dict of lists
        One entry per generation: ``generation``, ``best_score``, ``mean_score``,
        ``std_score`` (over the population, NaN scores left out) and
        ``n_new_evaluations`` (individuals not evaluated before).
    """

    def __init__(self, space, rng, *, population_size, n_generations,
                 crossover_probability, mutation_probability, tournament_size,
                 elitism, patience=None, screening_factor=SCREENING_FACTOR,
                 cost_aware=False):
        super().__init__(space, rng)
        self.cost_aware = cost_aware
        self.population_size = population_size
        self.n_generations = n_generations
        self.crossover_probability = crossover_probability
        self.mutation_probability = mutation_probability
        self.tournament_size = tournament_size
        self.elitism = elitism
        self.patience = patience
        self.screening_factor = screening_factor
        self._selector, self._genes = gene_layout(space)
        self._numeric, self._floors = numeric_genes(space)
        self._categorical_genes = [[gene for gene in sub if gene[1]] for sub in self._genes]
        self.covariance_: CovarianceState | None = None
        # key -> the numeric genes as sampled (before rounding), then the radius
        self._genotypes: dict[bytes, np.ndarray] = {}
        self._archive_points = np.zeros((0, space.n_columns))  # every evaluated point
        self._archive_scores = np.zeros(0)
        self._archive_fit_times = np.zeros(0)  # mean fit time (s) of each evaluated point
        self._fit_times: dict[int, float] = {}  # trial id -> told, not yet remembered
        self._grid: tuple[np.ndarray, list[bytes]] | None = None  # built when first needed
        self._cache: dict[bytes, float] = {}
        self._pending: tuple | None = None
        self._best, self._stale = -np.inf, 0
        self.generation_ = 0
        self.population_: np.ndarray | None = None
        self.fitness_: np.ndarray | None = None
        self.history_: dict[str, list] = {key: [] for key in HISTORY_KEYS}

    @property
    def max_trials(self) -> int:
        n_children = self.population_size - self.elitism
        budget = self.population_size + n_children * (self.n_generations - 1)
        return int(min(budget, self.space.size))

    def _finished(self) -> bool:
        stale = self.patience is not None and self._stale >= self.patience
        exhausted = len(self._cache) >= self.space.size
        return self.generation_ >= self.n_generations or stale or exhausted

    def ask_batch(self) -> list[Trial]:
        # A generation made only of known individuals costs nothing: close it here.
        while not self._finished():
            points = self._initial() if self.population_ is None else self._offspring()
            keys = [_key(p) for p in points]
            new = list(dict.fromkeys(k for k in keys if k not in self._cache))
            if new:
                self._pending = (points, keys, new)
                rows = points[[keys.index(k) for k in new]]
                info = {"generation": self.generation_}
                return [Trial(params, info=info) for params in self.space.from_unit(rows)]
            self._finish_generation(points, keys, 0)
        return []

    def tell_fit_time(self, trial_id: int, seconds: float) -> None:
        self._fit_times[trial_id] = float(seconds)

    def tell_batch(self, trials: list[Trial], scores: np.ndarray) -> None:
        points, keys, new = self._pending
        self._pending = None
        self._remember(points[[keys.index(k) for k in new]], new, scores,
                       [self._fit_times.pop(t.id, np.nan) for t in trials])
        self._finish_generation(points, keys, len(new))

    def _finish_generation(self, points: np.ndarray, keys: list[bytes], n_new: int) -> None:
        self._adapt(keys if self.population_ is None else keys[self.elitism:])
        self._close_generation(points, keys, n_new)

    def _remember(self, points: np.ndarray, keys: list[bytes], scores, fit_times) -> None:
        scores = np.asarray(scores, dtype=float).reshape(-1)
        self._cache.update(zip(keys, scores.tolist()))
        self._archive_points = np.vstack([self._archive_points, points])
        self._archive_scores = np.concatenate([self._archive_scores, scores])
        self._archive_fit_times = np.concatenate(
            [self._archive_fit_times, np.asarray(fit_times, dtype=float).reshape(-1)])

    def _close_generation(self, points: np.ndarray, keys: list[bytes], n_new: int) -> None:
        fitness = np.array([self._cache[k] for k in keys])
        self.population_, self.fitness_ = points, fitness
        valid = fitness[~np.isnan(fitness)]
        stats = ([float(valid.max()), float(valid.mean()), float(valid.std())]
                 if valid.size else [np.nan] * 3)
        for key, value in zip(HISTORY_KEYS, [self.generation_, *stats, n_new]):
            self.history_[key].append(value)
        if valid.size and valid.max() > self._best:
            self._best, self._stale = valid.max(), 0
        else:
            self._stale += 1
        self.generation_ += 1

    def _adapt(self, keys: list[bytes]) -> None:
        """Start the search distribution at the best of ``keys``, or update it."""
        if not len(self._numeric) or not keys:
            return
        fitness = np.array([self._cache[k] for k in keys])
        genotypes = np.array([self._genotypes[k] for k in keys])
        if self.covariance_ is None:
            self.covariance_ = CovarianceState.start(design_mean(genotypes[:, :-1], fitness))
        else:
            self.covariance_ = cma_update(self.covariance_, genotypes[:, :-1], fitness,
                                          self._floors, radii=genotypes[:, -1])

    # -- building generations -------------------------------------------------------

    def _initial(self) -> np.ndarray:
        seen: set[bytes] = set()
        points = []
        for point in self.space.sobol(self.population_size, self.rng):
            point = self._make_new(point, seen, SCALE_START)
            seen.add(_key(point))
            self._genotypes.setdefault(_key(point), np.append(point[self._numeric], 1.0))
            points.append(point)
        return np.array(points).reshape(len(points), self.space.n_columns)

    def _offspring(self) -> np.ndarray:
        """Elites, then the children that pre-screening keeps among many bred."""
        order = np.argsort(-np.nan_to_num(self.fitness_, nan=-np.inf), kind="stable")
        children = [self.population_[i] for i in order[:self.elitism]]
        n_children = self.population_size - self.elitism
        scale = mutation_scale(self.generation_, self.n_generations)
        best = np.argsort(-np.nan_to_num(self._archive_scores, nan=-np.inf),
                          kind="stable")[:self.population_size]
        candidates, genotypes, groups = self._breed(
            n_children, self._archive_points[best], self._archive_scores[best], scale,
            self.generation_)
        seen = set(self._cache)
        for i in self._screen(candidates, groups, n_children, self._archive_points, offset=0):
            children.append(self._adopt(candidates[i], genotypes[i], seen))
        while len(children) < self.population_size:  # few unknown points are left
            child = self._make_new(candidates[self.rng.randint(len(candidates))], seen, scale)
            children.append(self._adopt(child, np.append(child[self._numeric], 1.0), seen))
        return np.array(children)

    def _adopt(self, child: np.ndarray, genotype: np.ndarray, seen: set[bytes]) -> np.ndarray:
        key = _key(child)
        seen.add(key)
        self._genotypes.setdefault(key, genotype)
        return child

    def _breed(self, n: int, parents: np.ndarray, fitness: np.ndarray, scale: float,
               generation: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Candidates for ``n`` children (rounded), their numeric genotypes and groups.

        With categorical genes or subspaces, each child's subspace and categorical
        genes come from tournament winners, crossed and mutated, and its
        ``screening_factor`` candidates (group ``k`` for child ``k``) share them:
        the surrogate then picks numeric genes, never categories, which it cannot
        judge before they were tried. Otherwise all ``n * screening_factor``
        candidates form one pool (``groups`` is None). Numeric genes are drawn
        from the search distribution.
        """
        n_candidates = n * max(self.screening_factor, 1)
        rows = np.repeat(parents[:1], n_candidates, axis=0)
        groups = None
        if self._selector is not None or any(self._categorical_genes):
            size = min(self.tournament_size, len(parents))
            bases = np.empty((n, self.space.n_columns))
            for base in bases:
                i, j = tournament_select(fitness, 2, size, self.rng)
                child = parents[i]
                if self.rng.uniform() < self.crossover_probability:
                    child = crossover(parents[i], parents[j], self._selector,
                                      self._categorical_genes, self.rng)[0]
                base[:] = mutate(child, self._selector, self._categorical_genes, self.rng,
                                 self.mutation_probability, scale)
            groups = np.repeat(np.arange(n), max(self.screening_factor, 1))
            rows = bases[groups]
        radii = np.ones(n_candidates)
        if self.covariance_ is not None:
            choices = sampling_radii(generation, self.n_generations)
            radii = np.asarray(choices)[self.rng.randint(len(choices), size=n_candidates)]
            rows[:, self._numeric] = cma_sample(self.covariance_, n_candidates, self._floors,
                                                self.rng, radii)
        genotypes = np.column_stack([rows[:, self._numeric], radii])
        return self.space.round_unit(rows), genotypes, groups

    def _screen(self, candidates: np.ndarray, groups: np.ndarray | None, n: int,
                known: np.ndarray, offset: int) -> list[int]:
        """Indices of ``n`` candidates (one per group when grouped) picked by
        :func:`prescreen` on a cubic RBF surrogate fitted to the scores of
        the evaluated points nearest to the candidates (with ``cost_aware``, minus
        ``alpha`` times the predicted log fit time: :func:`~skhpo._cost.cost_cooled`
        of ``exp(score)`` per second)."""
        predicted = np.zeros(len(candidates))
        weights = (1.0,) if self.screening_factor <= 1 else None  # no screening: in order
        if self.screening_factor > 1 and len(self._archive_scores) >= 2:
            score_model, cost_model = self._surrogate(candidates.mean(axis=0))
            predicted = predict_rbf(score_model, candidates)
            if cost_model is not None:
                alpha = cooling_exponent(len(self._archive_scores), self.population_size,
                                         self.max_trials)
                predicted = cost_cooled(predicted, predict_rbf(cost_model, candidates),
                                        alpha)
        if groups is None:
            return prescreen(candidates, predicted, known, n, weights, offset)
        picked: list[int] = []
        for k in range(n):
            members = np.flatnonzero(groups == k)
            best = prescreen(candidates[members], predicted[members], known, 1, weights,
                             offset + k)
            if best:
                picked.append(int(members[best[0]]))
                known = np.vstack([known, candidates[picked[-1]]])
        return picked

    #: Points told after which the surrogate is fitted again (0: at every call,
    #: once per generation in the synchronous search).
    surrogate_period = 0

    def _surrogate(self, centre: np.ndarray) -> tuple[tuple, tuple | None]:
        """:func:`fit_rbf` on the :func:`median_clipped_scores` (with
        ``cost_aware``, :func:`normal_scores`) of the evaluated points nearest to
        ``centre`` and, with ``cost_aware``, on their log fit times (else None);
        fitted again once ``surrogate_period`` points were told since the last fit."""
        n_points = len(self._archive_scores)
        fitted = getattr(self, "_fitted_surrogate", None)
        if fitted is None or n_points - fitted[0] >= self.surrogate_period:
            distance = cdist(centre[None], self._archive_points)[0]
            near = np.argsort(distance, kind="stable")[:MAX_SURROGATE_POINTS]
            points = self._archive_points[near]
            # the cost trade-off is in normal-score units (log utility per log second)
            target = normal_scores if self.cost_aware else median_clipped_scores
            models = (fit_rbf(points, target(self._archive_scores[near])),
                      fit_rbf(points, log_fit_times(self._archive_fit_times[near]))
                      if self.cost_aware else None)
            self._fitted_surrogate = fitted = (n_points, models)
        return fitted[1]

    def _make_new(self, child: np.ndarray, seen: set[bytes], scale: float) -> np.ndarray:
        """``child``, or a mutation of it, or a random point, that is not in ``seen``.

        Keeps the population diverse on small discrete spaces, where crossover and
        small steps often land on known points; a duplicate is accepted only when
        no unseen point is found (it is then not evaluated again).
        """
        for attempt in range(N_RETRIES):
            if _key(child) not in seen:
                return child
            child = self._round(mutate(child, self._selector, self._genes, self.rng,
                                       self.mutation_probability, scale * 2**attempt,
                                       force=True))
        if _key(child) not in seen:
            return child
        if not (self.space.is_finite and self.space.size <= MAX_GRID_SIZE):
            point = self._round(self.rng.uniform(size=self.space.n_columns))
            return point if _key(point) not in seen else child
        if self._grid is None:
            grid = self.space.grid_unit()
            self._grid = grid, [_key(p) for p in grid]
        grid, keys = self._grid
        unseen = [i for i, k in enumerate(keys) if k not in seen]
        return grid[self.rng.choice(unseen)] if unseen else child

    def _round(self, point: np.ndarray) -> np.ndarray:
        return self.space.round_unit(point[None])[0]

    def __getstate__(self) -> dict:
        # A pickled search carries this strategy (as ``optimizer_``); the grid can be
        # megabytes and is rebuilt on demand.
        return {**self.__dict__, "_grid": None}


class AsyncGeneticStrategy(GeneticStrategy):
    """Steady-state genetic algorithm: a child is bred whenever a worker frees.

    The first ``P`` trials are the initial population (the Sobol design of
    :class:`GeneticStrategy`). Every later trial is one child: its categorical
    genes come from two parents chosen by tournaments of size ``min(k, n)``
    among the ``n`` individuals of the population, crossed with probability
    ``p_c`` (the first child is kept) and mutated; its numeric genes are the
    surrogate's pick among ``screening_factor`` samples of the search
    distribution, never a known or pending point, so nothing is evaluated
    twice. Children are bred in blocks of ``max(1, (P - E) // 4)`` (fewer at the
    end of a generation) that share one draw of the distribution and one
    surrogate, and are handed out one per free worker. The distribution starts
    at :func:`design_mean` of the individuals told when the first child is bred
    and is updated after every ``P - E`` told children.
    Children are bred as soon as one individual is told, so workers never wait
    for the initial population to finish. A told individual joins
    the population while it has fewer than ``P`` members; after that it
    replaces the worst member if it scores better (NaN ranks last). The best
    members are thus never lost: elitism is implicit, and ``E`` only sets the
    size ``P - E`` of a generation.

    Generation ``g >= 1`` holds children ``(g - 1)(P - E)`` to ``g (P - E) - 1``
    in the order they were bred (their mutation step is that generation's), so
    the budget, ``P + (P - E)(G - 1)`` evaluations, and the generation sizes are
    those of the synchronous algorithm. ``history_`` gets one entry each time
    ``P``, then every further ``P - E``, trials have been told (and when the
    last one is): the population's statistics then, and ``patience`` counts
    these entries.

    Parameters are those of :class:`GeneticStrategy`.

    Attributes
    ----------
    population_ : ndarray of shape (n_members, n_columns)
        The current population (at most ``population_size`` told individuals).
    fitness_ : ndarray of shape (n_members,)
        Their scores.
    history_ : dict of lists
        See :class:`GeneticStrategy`; one entry per block of told trials.
    """

    def __init__(self, space, rng, **kwargs):
        super().__init__(space, rng, **kwargs)
        # one fit per child would cost more than a fast estimator's fit (an
        # O(n^3) solve for up to MAX_SURROGATE_POINTS points); a surrogate a
        # quarter generation old is still fresher than the synchronous one
        self.surrogate_period = max(1, (self.population_size - self.elitism) // 4)
        self.population_ = np.zeros((0, space.n_columns))
        self.fitness_ = np.zeros(0)
        self._initial_points: np.ndarray | None = None  # drawn at the first ask
        self._initial_params: list[dict] = []  # their parameters
        self._n_initial_asked = 0
        self._n_children = 0
        self._n_told = 0
        self._pending: dict[int, tuple[np.ndarray, bytes, int]] = {}  # id -> point, key, g
        self._bred: deque[tuple[np.ndarray, int, dict]] = deque()  # bred, not yet asked
        self._told_children: list[bytes] = []  # children told since the last update

    def _ask(self, n: int | None) -> list[Trial]:
        if self._initial_points is None:
            self._initial_points = self._initial()
            self._initial_params = self.space.from_unit(self._initial_points)
        trials: list[Trial] = []
        while len(trials) < (n or 1) and self.n_asked + len(trials) < self.max_trials:
            if self._stale_too_long():
                break
            bred = self._next_individual()
            if bred is None:
                break
            point, generation, params = bred
            self._pending[self.n_asked + len(trials)] = (point, _key(point), generation)
            trials.append(Trial(params, info={"generation": generation}))
        return trials

    def _stale_too_long(self) -> bool:
        return self.patience is not None and self._stale >= self.patience

    def _known(self) -> set[bytes]:
        return set(self._cache) | {key for _, key, _ in self._pending.values()}

    def _next_individual(self) -> tuple[np.ndarray, int, dict] | None:
        """The next initial point or child, its generation and its parameters;
        None to wait or stop."""
        if self._n_initial_asked < len(self._initial_points):
            known = self._known()
            while self._n_initial_asked < len(self._initial_points):
                i = self._n_initial_asked
                self._n_initial_asked += 1
                if _key(self._initial_points[i]) not in known:  # repeats only when P > size
                    return self._initial_points[i], 0, self._initial_params[i]
        if not len(self.population_):
            return None  # nothing told yet: nothing to breed from
        if not self._bred:
            self._bred.extend(self._breed_block())
        if not self._bred:
            return None  # a finite space with no unknown point left
        self._n_children += 1
        return self._bred.popleft()

    def _breed_block(self) -> list[tuple[np.ndarray, int, dict]]:
        """The next ``min(surrogate_period, children left in the generation)``
        children, bred and pre-screened together.

        One draw from the search distribution and one surrogate prediction
        serve the whole block: bred one at a time, the per-call cost of these
        steps made the search's own time larger than a fast estimator's fits.
        The block's children see the population of the moment they are bred,
        at most a quarter generation old when they are asked.
        """
        per_generation = self.population_size - self.elitism
        generation = 1 + self._n_children // per_generation
        size = min(self.surrogate_period, per_generation - self._n_children % per_generation)
        scale = mutation_scale(min(generation, self.n_generations - 1), self.n_generations)
        if self.covariance_ is None and len(self._numeric):
            genotypes = np.array([self._genotypes[_key(p)][:-1] for p in self.population_])
            self.covariance_ = CovarianceState.start(design_mean(genotypes, self.fitness_))
        candidates, genotypes, groups = self._breed(size, self.population_, self.fitness_,
                                                    scale, generation)
        pending = [point for point, _, _ in self._pending.values()]
        known_points = np.vstack([self._archive_points, *pending]) if pending else (
            self._archive_points)
        picked = self._screen(candidates, groups, size, known_points, offset=self._n_children)
        known = self._known()
        children = [self._adopt(candidates[i], genotypes[i], known) for i in picked]
        while len(children) < size:  # few unknown points are left
            child = self._make_new(candidates[self.rng.randint(len(candidates))], known, scale)
            if _key(child) in known:
                break
            children.append(self._adopt(child, np.append(child[self._numeric], 1.0), known))
        params = self.space.from_unit(np.array(children)) if children else []
        return [(child, generation, p) for child, p in zip(children, params)]

    def tell(self, trial_id: int, score: float) -> None:
        point, key, generation = self._pending.pop(trial_id)
        score = float(score)
        self._remember(point[None], [key], [score],
                       [self._fit_times.pop(trial_id, np.nan)])
        self._n_told += 1
        if generation:
            self._told_children.append(key)
            if len(self._told_children) >= self.population_size - self.elitism:
                self._adapt(self._told_children)
                self._told_children = []
        if len(self.population_) < self.population_size:
            self.population_ = np.vstack([self.population_, point[None]])
            self.fitness_ = np.append(self.fitness_, score)
        else:
            worst = int(np.argmin(np.nan_to_num(self.fitness_, nan=-np.inf)))
            if score > np.nan_to_num(self.fitness_[worst], nan=-np.inf):
                self.population_[worst], self.fitness_[worst] = point, score
        self._record_history()

    def _record_history(self) -> None:
        """Close a history entry after ``P`` trials, then every ``P - E``, and the last."""
        n_new = self._n_told - sum(self.history_["n_new_evaluations"])
        block = self.population_size if not self.history_["generation"] else (
            self.population_size - self.elitism)
        exhausted = len(self._cache) >= self.space.size
        last = not self._pending and (
            self.n_asked >= self.max_trials or self._stale_too_long() or exhausted)
        if n_new >= block or (last and n_new):
            self._close_generation(self.population_, [_key(p) for p in self.population_],
                                   n_new)


# -- the estimator ----------------------------------------------------------------


class GeneticSearchCV(BaseSearchCV):
    """Genetic-algorithm search over hyperparameters with cross-validation.

    A population of candidates evolves for ``n_generations`` generations by
    tournament selection, crossover, mutation and elitism. Each generation's new
    candidates x folds are fitted as one parallel batch, and a candidate seen before
    is never fitted again. Everything else (``cv_results_``, ``best_*``, ``refit``,
    scoring, ``error_score``, ``n_jobs``, delegation) behaves as in
    :class:`~sklearn.model_selection.GridSearchCV`.

    Parameters
    ----------
    estimator : estimator object
        The estimator to tune; cloned for every fit, never modified.
    search_spaces : dict or list of dict
        ``parameter name -> domain``: an skhpo :class:`~skhpo.space.Real`,
        :class:`~skhpo.space.Integer` or :class:`~skhpo.space.Categorical`, a list
        of values (categorical, as in GridSearchCV: every non-string sequence,
        tuples and ``range`` included; one value is fixed), a frozen scipy.stats
        distribution, or a fixed value. A list of dicts is a union of subspaces;
        crossing parents from different subspaces copies them, and mutation can
        move a child to another subspace.
    population_size : int, default=20
        Individuals per generation, ``P``; a generation is one batch of
        parallel fits. For small budgets prefer small populations and more
        generations (5 to 10 individuals for 40 evaluations): the search
        distribution and the surrogate learn once per generation.
    n_generations : int, default=10
        Generations, ``G``, the initial population included. At most
        ``P + (P - elitism) (G - 1)`` candidates are evaluated.
    crossover_probability : float, default=0.8
        Probability that a pair of selected parents is crossed, ``p_c``; otherwise
        the pair is copied (and then mutated).
    mutation_probability : float, default=0.5
        Probability that each categorical gene (and the choice of subspace of
        a union) of a child mutates, ``p_m``. Numeric genes are drawn from the
        adapted search distribution instead (see Notes).
    tournament_size : int, default=3
        Individuals drawn (without replacement) per tournament, ``k``; larger is
        greedier. At most ``population_size``.
    elitism : int, default=1
        Best individuals copied unchanged into the next generation, ``E``. Less
        than ``population_size``; 0 keeps none.
    patience : int, default=None
        Stop when the best score has not improved for ``patience`` generations;
        None runs every generation.
    scoring : str, callable, list, tuple or dict, default=None
        As in GridSearchCV. With several metrics the search maximizes the
        ``refit`` metric (or the first one when ``refit`` is not a metric name).
    n_jobs : int, default=None
        Parallel jobs (joblib); every new candidate x fold of a generation is one
        task.
    refit : bool, str or callable, default=True
        As in GridSearchCV.
    cv : int, cross-validation generator or iterable, default=None
        As in GridSearchCV. The folds are split once per ``fit``.
    verbose : int, default=0
        Verbosity.
    pre_dispatch : int or str, default="2*n_jobs"
        As in GridSearchCV.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial population and every operator. With an int the results
        are the same for every ``n_jobs``.
    error_score : "raise" or float, default=np.nan
        Score of a failed fit. A failed candidate ranks last in selection.
    return_train_score : bool, default=False
        As in GridSearchCV.
    callbacks : callable or list of callables, default=None
        Called after each generation with the results so far (see
        :mod:`skhpo.callbacks`); returning True stops the search.
    max_time : float, default=None
        Seconds after which no new generation is started.
    checkpoint : str or path-like, default=None
        File where the search state (finished trials, the algorithm's state and
        random state, live models of incremental searches) is written after
        every batch, atomically. When ``fit`` starts and the file holds the
        state of the same search (same parameters, search space, cv splits,
        scoring, fit parameters and data), the search resumes from it: no
        finished trial is fitted again, and the results equal those of an
        uninterrupted run with the same ``random_state``. A file of another
        search raises ``CheckpointMismatchError`` naming what differs.
    asynchronous : bool, default=False
        If False, each generation is one batch, bred once the previous one is
        all done: results are the same for every ``n_jobs`` and backend. If
        True, the evolution is steady-state: whenever a worker frees, one child
        is bred by tournaments from the individuals evaluated so far and
        started, and each finished child replaces the worst member of the
        population if it scores better (see Notes); workers never wait for a
        generation to end, and results depend on timing. The number of
        evaluations is the same in both modes.
    devices : "auto" or list of str, default=None
        Devices for the estimator's device parameter (a skorch net's
        ``device``, or a Pipeline step's ``<step>__device``), set in each
        (trial, fold) task before it fits. A list holds one slot per entry: a
        task runs only while it holds a free slot, so ``["cuda:0", "cuda:1"]``
        runs at most one task on each GPU, a device listed twice runs two, and
        at most ``min(n_jobs, len(devices))`` tasks run at once. ``"auto"``:
        one slot per visible GPU (``torch.cuda.device_count()``); without a GPU
        or torch, one ``"cpu"`` slot per worker. Models kept between rungs or
        rounds (incremental searches) wait on the CPU, so the GPUs hold only
        the running tasks' models. A fit that runs out of GPU memory gets
        ``error_score``, its fit error naming the device, and the search goes
        on. The refit runs on the first device. None: the estimator's own
        device is used.
    cost_aware : bool, default=False
        If True, the surrogate pre-screening of offspring also predicts each
        candidate's log fit time (an RBF surrogate of the log ``mean_fit_time``
        of the evaluated candidates) and ranks candidates by their predicted
        score minus ``alpha`` times that log time, with a cooling exponent
        ``alpha`` that falls from 1 after the initial population to nearly 0 in
        the last generation (the EI-cool schedule of Lee et al. [5]_): early
        generations prefer cheap children of good predicted score, late ones
        the best predicted. Selection, crossover and the search distribution
        are unchanged, so it remains an evolutionary search. Results then
        depend on the measured fit times.

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        As in GridSearchCV, with one row per evaluated candidate (a candidate met
        again in a later generation reuses its scores and adds no row), plus
        ``generation``: the generation in which the candidate was first evaluated,
        and ``iteration``: the batch it was evaluated in (the same as
        ``generation`` unless a generation brought nothing new). With
        ``asynchronous=True`` rows are in the order candidates finished,
        ``iteration`` counts them, and ``generation`` is as described in Notes.
    best_estimator_ : estimator
        The best candidate refitted on all the data (if ``refit``).
    best_score_ : float
        Mean cross-validated score of the best candidate.
    best_params_ : dict
        Parameters of the best candidate.
    best_index_ : int
        Row of the best candidate in ``cv_results_``.
    scorer_, n_splits_, refit_time_, multimetric_, classes_, n_features_in_,\
    feature_names_in_
        As in GridSearchCV.
    history_ : dict of lists
        One entry per generation, for plots (``pandas.DataFrame(history_)``):
        ``generation``; ``best_score``, ``mean_score`` and ``std_score`` of the
        whole population (elites and known candidates included, failed fits left
        out); ``n_new_evaluations``, the candidates fitted in that generation.
    n_iterations_ : int
        Number of batches evaluated.
    optimizer_ : GeneticStrategy or AsyncGeneticStrategy
        The algorithm's state: ``population_`` (the last generation, encoded in the
        unit cube of :class:`~skhpo.space.Space`; the final population when
        ``asynchronous=True``), ``fitness_``, ``history_`` and ``covariance_``
        (the search distribution of the numeric genes, a
        :class:`CovarianceState`; None without numeric genes).
    devices_ : list of str or None
        The device slots (``devices``, or what ``"auto"`` found); None when
        ``devices=None``.

    See Also
    --------
    sklearn.model_selection.GridSearchCV : Exhaustive search.
    sklearn.model_selection.RandomizedSearchCV : Random search.
    skhpo.BayesSearchCV : Bayesian optimization, better for small budgets.

    Notes
    -----
    Individuals are points of the unit cube (log priors in log space, integers as
    equal slices, categoricals one-hot, one more one-hot block choosing the subspace
    of a union) and are snapped to valid values after every operator, so the
    encoding of an individual identifies it: a cache from encoded point to score
    replaces refitting.

    Generation 0 is a scrambled Sobol design of ``P`` points. Each later generation
    keeps the ``E`` best individuals and fills the remaining ``P - E`` places with
    children. For each child, the subspace and the categorical genes come from
    two parents chosen by tournaments of size ``k`` among the ``P`` best
    individuals evaluated so far: with probability ``p_c`` they are crossed
    (each categorical gene swapped whole with probability 1/2), then each
    categorical gene mutates with probability ``p_m`` (another category, or
    another subspace). The numeric genes (reals and integers, in the unit-cube
    encoding) are drawn from a CMA-ES search distribution ``N(m, sigma^2 C)``,
    started at the weighted mean of the best half of generation 0 (the CMA-ES
    recombination weights) with ``sigma = 0.15`` and
    ``C = I``, and updated after every generation from the ranking of its
    children with the default learning rates of Hansen (2016); an integer
    gene's standard deviation never falls below a quarter of one integer's
    share of the unit interval, so it keeps moving. Each child is the pick of
    ``K = 10`` candidates sharing its categorical genes (all ``K (P - E)``
    candidates compete when there are no categorical genes): a cubic radial
    basis function surrogate, fitted to the scores of the (at most 256
    nearest) evaluated candidates with those below their median raised to it
    and rescaled to ``[0, 1]``, predicts their scores, and the
    candidate of least ``w V_R + (1 - w) V_D`` is kept, where ``V_R`` is the
    rescaled prediction (0 best), ``V_D`` the rescaled distance to the nearest
    evaluated or kept point (0 farthest) and ``w`` cycles through 0.8, 0.95,
    0.95, 0.99 (Regis and Shoemaker, 2007). The candidates' steps are scaled by
    1 or 0.5 at random while ``g <= (G - 1) / 2``, then by 1, 0.5, 0.25 or 0.1;
    a kept candidate updates the distribution with its step divided by that
    radius. A child that was already evaluated is never
    kept; when no candidate is new, a mutation of one (a Gaussian step of
    standard deviation ``0.25 (0.02/0.25)^(g/(G-1))`` of the unit interval for
    numbers, doubled at each try) up to 3 times, then a random unevaluated
    point replaces it; only when a finite space has none left is a known
    individual kept, and scored from the cache. The search ends after ``G``
    generations, after ``patience`` generations without a better score, when a
    finite space has been evaluated entirely, or when a callback or
    ``max_time`` stops it. Unlike sklearn-genetic-opt's ``GASearchCV`` (DEAP's
    mu + lambda), every generation's fits run as one batch over ``n_jobs``
    workers. The module docstring of ``skhpo._genetic`` says why these
    operators were chosen.

    With ``asynchronous=True`` the first ``P`` candidates are the Sobol design; then
    every candidate is one child, bred when a worker frees, as above but from the
    population of individuals finished so far (at most ``P``, filled in the order
    they finish), and pre-screened against the evaluated and the running candidates
    with a surrogate refitted to every result so far. The search distribution is
    started at the weighted mean of the best half of the finished individuals when
    the first child is bred and updated after every ``P - E`` finished children. A
    finished child replaces the worst member if it scores better, so the best are
    never lost (elitism is implicit). Child ``c`` (0-based, in breeding order)
    belongs to generation ``1 + c // (P - E)``, so generations have the sizes of the
    synchronous search; ``history_`` gets an entry when ``P`` candidates have
    finished and then after every further ``P - E`` (and the last), and ``patience``
    counts those entries.

    On functions with a known optimum searched through an oracle estimator
    (``benchmarks/bench_genetic_oracle.py``), this search finds better points
    than random search and sklearn-genetic-opt at 40 evaluations, and than
    CMA-ES (pycma, Optuna's ``CmaEsSampler``) on most of a standard suite of
    test functions at ``20 d`` evaluations (``benchmarks/results/genetic_oracle*``).

    References
    ----------
    .. [1] Goldberg, "Genetic Algorithms in Search, Optimization and Machine
       Learning", Addison-Wesley, 1989.
    .. [2] Hansen, "The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772,
       2016.
    .. [3] Emmerich, Giotis, Oezdemir, Baeck and Giannakoglou,
       "Metamodel-assisted evolution strategies", PPSN VII, 2002.
    .. [4] Regis and Shoemaker, "A stochastic radial basis function method for
       the global optimization of expensive functions", INFORMS Journal on
       Computing 19, 2007.
    .. [5] Lee, Perrone, Archambeau, Seeger, "Cost-aware Bayesian
       Optimization", ICML AutoML Workshop, 2020, arXiv:2003.10870.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from skhpo import GeneticSearchCV, Real
    >>> X, y = load_iris(return_X_y=True)
    >>> search = GeneticSearchCV(
    ...     SVC(), {"C": Real(1e-2, 1e2, prior="log-uniform")},
    ...     population_size=6, n_generations=3, random_state=0,
    ... ).fit(X, y)
    >>> search.history_["n_new_evaluations"]
    [6, 5, 5]
    >>> len(search.cv_results_["params"])
    16
    """

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "population_size": [Interval(Integral, 2, None, closed="left")],
        "n_generations": [Interval(Integral, 1, None, closed="left")],
        "crossover_probability": [Interval(Real, 0, 1, closed="both")],
        "mutation_probability": [Interval(Real, 0, 1, closed="both")],
        "tournament_size": [Interval(Integral, 1, None, closed="left")],
        "elitism": [Interval(Integral, 0, None, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left"), None],
        "cost_aware": ["boolean"],
    }

    def __init__(
        self,
        estimator,
        search_spaces,
        *,
        population_size=20,
        n_generations=10,
        crossover_probability=0.8,
        mutation_probability=0.5,
        tournament_size=3,
        elitism=1,
        patience=None,
        scoring=None,
        n_jobs=None,
        refit=True,
        cv=None,
        verbose=0,
        pre_dispatch="2*n_jobs",
        random_state=None,
        error_score=np.nan,
        return_train_score=False,
        callbacks=None,
        max_time=None,
        checkpoint=None,
        asynchronous=False,
        devices=None,
        cost_aware=False,
    ):
        super().__init__(
            estimator,
            search_spaces,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            random_state=random_state,
            error_score=error_score,
            return_train_score=return_train_score,
            callbacks=callbacks,
            max_time=max_time,
            checkpoint=checkpoint,
            asynchronous=asynchronous,
            devices=devices,
        )
        self.population_size = population_size
        self.n_generations = n_generations
        self.crossover_probability = crossover_probability
        self.mutation_probability = mutation_probability
        self.tournament_size = tournament_size
        self.elitism = elitism
        self.patience = patience
        self.cost_aware = cost_aware

    def _check_search_parameters(self, space):
        if self.tournament_size > self.population_size:
            raise ValueError(
                f"tournament_size={self.tournament_size} is greater than "
                f"population_size={self.population_size}; lower tournament_size or "
                "raise population_size."
            )
        if self.elitism >= self.population_size:
            raise ValueError(
                f"elitism={self.elitism} keeps the whole population_size="
                f"{self.population_size}, so no child would be made; lower elitism "
                "below population_size."
            )

    def _make_strategy(self, space, rng):
        settings = {name: getattr(self, name) for name in _STRATEGY_PARAMS}
        strategy = AsyncGeneticStrategy if self.asynchronous else GeneticStrategy
        self._adopt_strategy(strategy(space, rng, **settings))
        return self.optimizer_

    def _adopt_strategy(self, strategy) -> None:
        self.optimizer_ = strategy
        self.history_ = strategy.history_
