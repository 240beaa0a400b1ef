"""Acquisition functions (all to be maximized; scores are greater-is-better).

Notation
--------
``mean``, ``std`` : (n,) GP posterior on standardized scores;
``best`` : the best standardized score observed; ``xi`` : exploration margin;
``z = (mean - best - xi) / std``.

* log expected improvement: ``log(std) + log h(z)``, ``h(z) = z Phi(z) + phi(z)``,
  computed stably for very negative ``z`` (Ament et al., "Unexpected
  improvements to expected improvement", NeurIPS 2023);
* log probability of improvement: ``log Phi(z)``;
* upper confidence bound (LCB of the minimization view): ``mean + kappa * std``.

Each ``*_with_gradient`` function also returns the derivatives of the value with
respect to ``mean`` and ``std`` (chain rule through ``z``), from which the
acquisition optimizer gets the gradient in ``x`` analytically:
``d log h / dz = Phi(z) / h(z)`` and ``d log Phi / dz = phi(z) / Phi(z)``, both
computed as differences of logarithms so that they stay finite far in the tail.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfcx, log_ndtr

__all__ = ["ACQUISITIONS", "ACQUISITION_GRADIENTS", "log_expected_improvement", "log_h"]

_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)
_SQRT_HALF_PI = np.sqrt(np.pi / 2)
_INV_SQRT_EPS = 1 / np.sqrt(np.finfo(float).eps)


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """``log(1 - exp(x))`` for ``x < 0``, accurate near 0 and for large ``-x``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > -np.log(2), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def log_h(z: np.ndarray) -> np.ndarray:
    """``log(z * Phi(z) + phi(z))`` without underflow or cancellation."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    mid = z > -1
    out[mid] = np.log(z[mid] * np.exp(log_ndtr(z[mid])) + np.exp(-0.5 * z[mid] ** 2 - _LOG_SQRT_2PI))
    tail = ~mid
    zt = z[tail]
    log_phi = -0.5 * zt**2 - _LOG_SQRT_2PI
    # h(z) = phi(z) * (1 - |z| * sqrt(pi/2) * erfcx(|z| / sqrt(2))) for z < 0
    w = np.log(erfcx(-zt / np.sqrt(2)) * -zt * _SQRT_HALF_PI)
    far = zt < -_INV_SQRT_EPS
    out[tail] = np.where(far, log_phi - 2 * np.log(np.abs(zt)), log_phi + _log1mexp(np.minimum(w, -1e-300)))
    return out


def log_expected_improvement(mean, std, best, xi=0.0, kappa=None):
    z = (mean - best - xi) / std
    return np.log(std) + log_h(z)


def log_probability_of_improvement(mean, std, best, xi=0.1, kappa=None):
    # PI is greedy: a larger margin than EI's keeps it exploring (Lizotte 2008)
    return log_ndtr((mean - best - xi) / std)


def upper_confidence_bound(mean, std, best=None, xi=None, kappa=1.96):
    return mean + kappa * std


ACQUISITIONS = {
    "ei": log_expected_improvement,
    "pi": log_probability_of_improvement,
    "lcb": upper_confidence_bound,
}


def log_expected_improvement_with_gradient(mean, std, best, xi=0.0, kappa=None):
    z = (mean - best - xi) / std
    log_h_z = log_h(z)
    dlogh_dz = np.exp(log_ndtr(z) - log_h_z)
    return np.log(std) + log_h_z, dlogh_dz / std, (1 - dlogh_dz * z) / std


def log_probability_of_improvement_with_gradient(mean, std, best, xi=0.1, kappa=None):
    z = (mean - best - xi) / std
    log_cdf = log_ndtr(z)
    dlogcdf_dz = np.exp(-0.5 * z**2 - _LOG_SQRT_2PI - log_cdf)
    return log_cdf, dlogcdf_dz / std, -dlogcdf_dz * z / std


def upper_confidence_bound_with_gradient(mean, std, best=None, xi=None, kappa=1.96):
    return mean + kappa * std, np.ones_like(mean), np.full_like(std, kappa)


ACQUISITION_GRADIENTS = {
    "ei": log_expected_improvement_with_gradient,
    "pi": log_probability_of_improvement_with_gradient,
    "lcb": upper_confidence_bound_with_gradient,
}
