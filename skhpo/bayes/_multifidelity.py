"""A Gaussian process over (point, resource) for Hyperband's model-based sampler.

Notation
--------
``U`` : (n, d) encoded points in ``[0, 1]^d``; ``r`` : (n,) the resources they
were scored at; ``r_min``, ``r_max`` : the smallest and largest budget;
``t = log(r / r_min) / log(r_max / r_min)`` : the resource column, 0 at the
smallest budget and 1 at the largest (1 everywhere when ``r_min = r_max``);
``X = [U, t]`` : (n, d + 1) the training matrix; ``y`` : (n,) the scores, failed
(NaN) ones imputed as the worst finite score, Yeo-Johnson warped and
standardized over all resources together.

One GP is fitted on the results of every rung (Swersky et al. 2013; Klein et
al. 2017, FABOLAS; Li et al. 2022, Hyper-Tune): the cheap rungs hold most of the
results and tell where the space is good, the resource column lets the GP learn
how the scores change with the budget, and candidates are judged by the
prediction at ``t = 1``, the budget the search selects at. The proposals are
the argmaxes of log expected improvement at ``t = 1`` over a candidate pool,
with the GP conditioned on its own mean at each chosen point before the next
argmax (kriging believer); the incumbent is the best posterior mean at ``t = 1``
of the measured points, since few of them were measured at ``t = 1``.
"""

from __future__ import annotations

import numpy as np

from ..space import MAX_GRID_SIZE, Space
from ._acquisition import log_expected_improvement
from ._gp import GaussianProcess, surrogate_targets
from ._strategy import N_CENTRES, is_seen, row_keys, sobol_and_local_candidates

__all__ = ["N_CENTRES", "at_full_resource", "candidate_pool", "multifidelity_training_data",
           "propose_at_full_resource", "resource_column"]


def resource_column(resources: np.ndarray, min_resources: int,
                    max_resources: int) -> np.ndarray:
    """``t = log(r / r_min) / log(r_max / r_min)``, shape (n,); 1 if ``r_min = r_max``."""
    resources = np.asarray(resources, dtype=float)
    if max_resources <= min_resources:
        return np.ones(len(resources))
    return np.log(resources / min_resources) / np.log(max_resources / min_resources)


def multifidelity_training_data(points: np.ndarray, resources: np.ndarray,
                                scores: np.ndarray, min_resources: int,
                                max_resources: int) -> tuple[np.ndarray, np.ndarray]:
    """The training matrix ``X = [U, t]``, shape (n, d + 1), and targets ``y``, (n,).

    Failed scores take the worst finite score (they rank last, as in the rungs);
    ``y`` is warped and standardized over all resources together, so the GP
    sees how a larger budget changes the scores.
    """
    y = surrogate_targets(scores)
    points = np.asarray(points, dtype=float).reshape(len(y), -1)
    t = resource_column(resources, min_resources, max_resources)
    return np.column_stack([points, t]), y


def at_full_resource(points: np.ndarray) -> np.ndarray:
    """``[U, 1]``: encoded points, shape (m, d), with the resource column at the
    largest budget, shape (m, d + 1)."""
    points = np.asarray(points, dtype=float)
    return np.column_stack([points, np.ones(len(points))])


def candidate_pool(space: Space, centres: np.ndarray, seen: np.ndarray,
                   rng: np.random.RandomState) -> np.ndarray:
    """Distinct encoded candidates that are not rows of ``seen``, shape (<= m, d).

    A finite space of at most ``MAX_GRID_SIZE`` points gives its whole grid;
    otherwise :func:`~skhpo.bayes._strategy.sobol_and_local_candidates` around
    ``centres``, the candidates of BayesSearchCV.
    """
    if space.is_finite and space.size <= MAX_GRID_SIZE:
        pool = space.grid_unit()
    else:
        pool = sobol_and_local_candidates(space, centres, rng)
    _, first = np.unique(np.array(row_keys(pool), dtype=object), return_index=True)
    pool = pool[np.sort(first)]
    return pool[~is_seen(pool, seen)]


def propose_at_full_resource(gp: GaussianProcess, incumbent: float,
                             candidates: np.ndarray, n: int) -> np.ndarray:
    """Row indices of ``n`` of the ``candidates`` (m, d), fewer if ``m < n``, in
    order of choice.

    ``gp`` is fitted on :func:`multifidelity_training_data`; ``incumbent`` is the
    best posterior mean at ``t = 1`` of the measured points. Each choice is the
    argmax of log expected improvement over it at ``t = 1``; the GP is then
    conditioned on its mean at the chosen point.
    """
    if not len(candidates):
        return np.zeros(0, dtype=int)
    full = at_full_resource(candidates)
    free = np.ones(len(candidates), dtype=bool)
    chosen: list[int] = []
    for _ in range(min(n, len(candidates))):
        mean, std = gp.predict(full)
        values = log_expected_improvement(mean, std, incumbent)
        values[~free] = -np.inf
        best = int(np.argmax(values))
        chosen.append(best)
        free[best] = False
        gp = gp.fantasize(full[best][None], mean[best:best + 1])
    return np.array(chosen, dtype=int)
