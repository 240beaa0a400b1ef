"""Gaussian-process surrogate on the unit-cube encoding.

Notation
--------
``X`` : (n, d) encoded points in ``[0, 1]^d`` (already rounded, so integers and
categoricals reach the kernel as the values they decode to);
``y`` : (n,) scores, greater is better, Yeo-Johnson warped and standardized;
``r(x, x') = sqrt(sum_j (x_j - x'_j)^2 / l_j^2)``;
``k(x, x') = s2 * (1 + sqrt5 r + 5/3 r^2) exp(-sqrt5 r)`` (Matern 5/2, one length
scale ``l_j`` per column) and ``K = k(X, X) + noise * I = L L'`` (Cholesky);
``alpha = K^-1 y`` (two triangular solves with ``L``);
``theta = (log s2, log l_1 .. log l_d, log noise)`` is set by maximizing the log
marginal likelihood ``-1/2 y' alpha - sum log diag(L) - n/2 log 2 pi`` with its
analytic gradient ``1/2 tr((alpha alpha' - K^-1) dK/dtheta)`` (L-BFGS-B),
optionally plus a log prior of ``theta`` (maximum a posteriori, see
:func:`kernel_log_prior`).

The squared column differences of the ``n (n - 1) / 2`` pairs of training points
do not depend on ``theta``: they are computed once per fit, so one likelihood
evaluation is a matrix-vector product for ``r``, one Cholesky factorization, the
entries of ``K^-1`` from that factor (LAPACK ``potri``), and one more
matrix-vector product for the length-scale gradient.

Written in plain numpy rather than on sklearn's GaussianProcessRegressor because
the acquisition is evaluated thousands of times per proposal: a prediction here
is a couple of small matrix products, without input validation.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.linalg import cho_solve, solve_triangular
from scipy.linalg.lapack import dpotrf, dpotri
from scipy.optimize import fminbound, minimize

__all__ = ["GaussianProcess", "kernel_log_prior", "negative_log_marginal_likelihood",
           "pairwise_squared_differences", "standardize", "surrogate_targets", "warp_scores",
           "yeo_johnson", "yeo_johnson_lambda"]

SQRT5 = np.sqrt(5.0)
# bounds of theta: signal variance, length scales (unit cube), noise variance
LOG_S2_BOUNDS = (np.log(1e-2), np.log(1e2))
LOG_LENGTH_BOUNDS = (np.log(1e-2), np.log(1e2))
LOG_NOISE_BOUNDS = (np.log(1e-6), np.log(1.0))
JITTER = 1e-8
PREDICT_CHUNK = 2048  # rows per block of a prediction, to bound its memory
# L-BFGS-B stops the likelihood search when no gradient entry exceeds this: the
# acquisition does not need the hyperparameters more precisely, and the warm
# start from the last fit is usually within it after a few steps
LIKELIHOOD_GTOL = 1e-2


def standardize(y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Return ``(y - mean) / std`` and the mean and std (std of a constant is 1)."""
    mean = float(np.mean(y))
    std = float(np.std(y))
    std = std if std > 1e-12 else 1.0
    return (y - mean) / std, mean, std


def yeo_johnson(x: np.ndarray, lmbda: float) -> np.ndarray:
    """The Yeo-Johnson transform of ``x`` with parameter ``lmbda``:
    ``((x + 1)^lmbda - 1) / lmbda`` for ``x >= 0`` (``log(x + 1)`` at 0) and
    ``-((1 - x)^(2 - lmbda) - 1) / (2 - lmbda)`` for ``x < 0`` (``-log(1 - x)`` at 2)."""
    out = np.empty_like(x, dtype=float)
    positive = x >= 0
    log_positive, log_negative = np.log1p(x[positive]), np.log1p(-x[~positive])
    out[positive] = (np.expm1(lmbda * log_positive) / lmbda if abs(lmbda) > 1e-12
                     else log_positive)
    out[~positive] = (-np.expm1((2 - lmbda) * log_negative) / (2 - lmbda)
                      if abs(lmbda - 2) > 1e-12 else -log_negative)
    return out


def yeo_johnson_log_likelihood(lmbda: float, x: np.ndarray, sum_signed_log1p: float) -> float:
    """Profile log-likelihood of ``lmbda`` under a normal model of the transformed
    ``x``: ``-n/2 log var(psi(x)) + (lmbda - 1) sum sign(x) log(1 + |x|)``."""
    variance = np.var(yeo_johnson(x, lmbda))
    if not variance > 0:
        return -np.inf
    return -0.5 * len(x) * np.log(variance) + (lmbda - 1) * sum_signed_log1p


def yeo_johnson_lambda(x: np.ndarray) -> float:
    """The maximum-likelihood ``lmbda``, as :func:`scipy.stats.yeojohnson_normmax`
    finds it (bounded Brent search within the same overflow-safe bounds), on a
    likelihood without scipy's per-call input handling (a proposal warps the
    scores once per fit)."""
    if np.all(x == 0):
        return 1.0
    log1p_max_x = np.log1p(20 * np.max(np.abs(x)))
    log_eps = np.log(np.finfo(float).eps)
    low = (np.log(np.finfo(float).tiny) - log_eps) / 2 / log1p_max_x
    high = (np.log(np.finfo(float).max) + log_eps) / 2 / log1p_max_x
    if np.all(x < 0):
        low, high = 2 - high, 2 - low
    elif np.any(x < 0):
        low, high = max(2 - high, low), min(2 - low, high)
    sum_signed_log1p = float(np.sum(np.sign(x) * np.log1p(np.abs(x))))
    with np.errstate(over="ignore", invalid="ignore"):
        return float(fminbound(lambda lmbda: -yeo_johnson_log_likelihood(lmbda, x,
                                                                          sum_signed_log1p),
                               low, high, xtol=1.48e-08))


def warp_scores(y: np.ndarray) -> np.ndarray:
    """Yeo-Johnson transform of standardized scores (lambda by maximum likelihood).

    Cross-validated scores and test functions are skewed: a few very bad
    candidates stretch the scale and flatten the region that matters. The
    transform makes the marginal distribution closer to normal, so the GP models
    the good region instead of the outliers (as HEBO does).
    """
    z, _, _ = standardize(y)
    if np.ptp(z) == 0:
        return z
    return yeo_johnson(z, yeo_johnson_lambda(z))


def surrogate_targets(scores: np.ndarray) -> np.ndarray:
    """The GP targets of ``scores`` (n,): failed (NaN) scores take the worst
    finite score (0 if none is finite), then :func:`warp_scores`, standardized."""
    y = np.array(scores, dtype=float)
    finite = np.isfinite(y)
    y[~finite] = y[finite].min() if finite.any() else 0.0
    return standardize(warp_scores(y))[0]


def scaled_distances(A: np.ndarray, B: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``r(a, b)`` for every row pair, shape (len(A), len(B)).

    Uses ``|a|^2 + |b|^2 - 2 a.b`` (one matrix product, no (len(A), len(B), d)
    array); the round-off near ``r = 0`` is harmless because the Matern 5/2
    kernel is flat there.
    """
    A, B = A / lengths, B / lengths
    sq = (A**2).sum(axis=1)[:, None] + (B**2).sum(axis=1)[None, :] - 2 * A @ B.T
    return np.sqrt(np.maximum(sq, 0.0))


def matern52(r: np.ndarray) -> np.ndarray:
    """Unit-variance Matern 5/2 kernel of scaled distances ``r``."""
    return (1 + SQRT5 * r + 5.0 / 3.0 * r**2) * np.exp(-SQRT5 * r)


@lru_cache(maxsize=4)
def _lower_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.tril_indices(n, -1)``, kept for the many likelihood evaluations of a fit."""
    return np.tril_indices(n, -1)


def pairwise_squared_differences(X: np.ndarray) -> np.ndarray:
    """``(X_a - X_b)^2`` per column for the pairs ``a > b`` in ``np.tril_indices(n, -1)``
    order, shape (n (n - 1) / 2, d)."""
    rows, cols = _lower_pairs(len(X))
    return (X[rows] - X[cols]) ** 2


def kernel_log_prior(theta: np.ndarray) -> tuple[float, np.ndarray]:
    """``log p(theta)`` up to a constant, and its gradient in ``theta``.

    Weak priors on the unit-cube encoding and standardized scores, the ones of
    Optuna's ``GPSampler``: ``-0.1 (l_j^2 + l_j^-2)`` per length scale (centred on
    ``l_j = 1``, vanishing tails), a Gamma(2, 1) density on ``s2`` and a
    Gamma(1.1, 30) density on the noise variance (mean 0.037). They keep the
    likelihood search from explaining the scores of a rugged function in many
    dimensions as noise around a flat mean; ``benchmarks/bench_bayes_prior.py``
    compares them with maximum likelihood and with a dimension-scaled log-normal
    length-scale prior.
    """
    log_lengths, s2, noise = theta[1:-1], np.exp(theta[0]), np.exp(theta[-1])
    up, down = np.exp(2 * log_lengths), np.exp(-2 * log_lengths)
    value = (-0.1 * np.sum(up + down) + theta[0] - s2
             + 0.1 * theta[-1] - 30.0 * noise)
    gradient = np.empty_like(theta)
    gradient[0] = 1.0 - s2
    gradient[1:-1] = -0.2 * (up - down)
    gradient[-1] = 0.1 - 30.0 * noise
    return float(value), gradient


def negative_log_marginal_likelihood(theta: np.ndarray, sq_diffs: np.ndarray, y: np.ndarray,
                                     log_prior=None):
    """``-log p(y | X, theta)`` and its gradient in ``theta``; with ``log_prior``
    (a function of ``theta`` returning ``log p(theta)`` and its gradient, such as
    :func:`kernel_log_prior`) the negative log posterior, up to a constant.

    ``sq_diffs`` is :func:`pairwise_squared_differences` of ``X``. Only the lower
    triangles of ``K``, ``L`` and ``K^-1`` are formed.
    """
    n = len(y)
    s2, lengths, noise = np.exp(theta[0]), np.exp(theta[1:-1]), np.exp(theta[-1])
    inv_sq_lengths = lengths**-2
    r = np.sqrt(sq_diffs @ inv_sq_lengths)  # (m,)
    e = np.exp(-SQRT5 * r)
    base = (1 + SQRT5 * r + 5.0 / 3.0 * r**2) * e
    rows, cols = _lower_pairs(n)
    K = np.zeros((n, n))
    K[rows, cols] = s2 * base
    K.flat[:: n + 1] = s2 + noise + JITTER
    L, info = dpotrf(K, lower=1, clean=1, overwrite_a=1)
    if info != 0:
        return 1e10, np.zeros_like(theta)
    alpha = cho_solve((L, True), y, check_finite=False)
    nll = 0.5 * y @ alpha + np.log(np.diag(L)).sum() + 0.5 * n * np.log(2 * np.pi)
    K_inv, info = dpotri(L, lower=1)  # lower triangle of K^-1 from the factor
    if info != 0:
        return 1e10, np.zeros_like(theta)
    # (alpha alpha' - K^-1), off the diagonal (each pair counts twice) and on it
    inner_pairs = alpha[rows] * alpha[cols] - K_inv[rows, cols]
    inner_diag = alpha**2 - np.diag(K_inv)
    grad = np.empty_like(theta)
    grad[0] = -(inner_pairs @ base) * s2 - 0.5 * inner_diag.sum() * s2
    # dK/dlog l_j = s2 * 5/3 (1 + sqrt5 r) exp(-sqrt5 r) * (x_j - x'_j)^2 / l_j^2
    common = s2 * 5.0 / 3.0 * (1 + SQRT5 * r) * e
    grad[1:-1] = -(sq_diffs.T @ (inner_pairs * common)) * inv_sq_lengths
    grad[-1] = -0.5 * inner_diag.sum() * noise
    if log_prior is not None:
        prior, prior_gradient = log_prior(theta)
        nll -= prior
        grad -= prior_gradient
    return nll, grad


class GaussianProcess:
    """A zero-mean GP regressor with a Matern 5/2 ARD kernel and learned noise.

    Parameters
    ----------
    n_columns : int
        Width ``d`` of the encoding.
    rng : numpy.random.RandomState
        Source of the restart points of the likelihood optimization.
    n_restarts : int, default=2
        Random restarts besides the warm start (0: the warm start only).
    log_prior : callable or None, default=None
        ``theta -> (log p(theta), gradient)``, e.g. :func:`kernel_log_prior`
        (None: maximum likelihood).

    Attributes
    ----------
    theta_ : ndarray of shape (d + 2,)
        Log signal variance, log length scales and log noise variance.
    n_likelihood_evaluations_ : int
        Likelihood evaluations of the last :meth:`fit` (0 with ``optimize=False``).
    n_starts_ : int
        L-BFGS-B runs of the last :meth:`fit` (the warm start plus the restarts).
    """

    def __init__(self, n_columns: int, rng: np.random.RandomState, n_restarts: int = 2,
                 log_prior=None):
        self.n_columns = max(n_columns, 1)
        self.rng = rng
        self.n_restarts = n_restarts
        self.log_prior = log_prior
        self.theta_ = np.concatenate([[0.0], np.full(self.n_columns, np.log(0.3)), [np.log(1e-2)]])
        self.n_likelihood_evaluations_ = 0
        self.n_starts_ = 0

    def _bounds(self):
        return [LOG_S2_BOUNDS] + [LOG_LENGTH_BOUNDS] * self.n_columns + [LOG_NOISE_BOUNDS]

    def _columns(self, X: np.ndarray) -> np.ndarray:
        return X if X.shape[1] else np.zeros((len(X), 1))

    @property
    def lengths_(self) -> np.ndarray:
        """The length scales ``l_j``, shape (d,)."""
        return np.exp(self.theta_[1:-1])

    def fit(self, X: np.ndarray, y: np.ndarray, optimize: bool = True,
            max_iter: int = 100) -> GaussianProcess:
        """Fit on standardized scores ``y``; with ``optimize=False`` keep ``theta_``.

        The likelihood search starts from ``theta_`` (the warm start) and from
        ``n_restarts`` uniform points within the bounds, ``max_iter`` L-BFGS-B
        iterations each.
        """
        X = self._columns(np.asarray(X, dtype=float))
        y = np.asarray(y, dtype=float)
        self.n_likelihood_evaluations_ = self.n_starts_ = 0
        if optimize and len(y) > 1:
            sq_diffs = pairwise_squared_differences(X)
            bounds = self._bounds()
            low, high = np.array(bounds).T
            starts = [np.clip(self.theta_, low, high)]
            starts += [self.rng.uniform(low, high) for _ in range(self.n_restarts)]
            best = None
            for start in starts:
                result = minimize(negative_log_marginal_likelihood, start,
                                  args=(sq_diffs, y, self.log_prior), jac=True,
                                  method="L-BFGS-B", bounds=bounds,
                                  options={"maxiter": max_iter, "gtol": LIKELIHOOD_GTOL})
                self.n_likelihood_evaluations_ += result.nfev
                if best is None or result.fun < best.fun:
                    best = result
            self.n_starts_ = len(starts)
            self.theta_ = best.x
        s2, lengths, noise = np.exp(self.theta_[0]), self.lengths_, np.exp(self.theta_[-1])
        K = s2 * matern52(scaled_distances(X, X, lengths))
        K.flat[:: len(X) + 1] = s2 + noise + JITTER
        L, info = dpotrf(K, lower=1, clean=1)
        if info != 0:
            raise np.linalg.LinAlgError("the kernel matrix is not positive definite")
        self._set_posterior(X, y, L)
        return self

    def _set_posterior(self, X: np.ndarray, y: np.ndarray, L: np.ndarray) -> None:
        self._X, self._y, self._L = X, y, L
        self._alpha = cho_solve((L, True), y, check_finite=False)
        self._s2, self._lengths = np.exp(self.theta_[0]), self.lengths_

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the latent function, shape (len(X),).

        Computed in blocks of ``PREDICT_CHUNK`` rows: the memory is
        ``PREDICT_CHUNK x n``, whatever ``len(X)``.
        """
        X = self._columns(np.asarray(X, dtype=float))
        mean, std = np.empty(len(X)), np.empty(len(X))
        for start in range(0, len(X), PREDICT_CHUNK):
            block = slice(start, start + PREDICT_CHUNK)
            k = self._s2 * matern52(scaled_distances(X[block], self._X, self._lengths))
            mean[block] = k @ self._alpha
            v = solve_triangular(self._L, k.T, lower=True, check_finite=False)
            std[block] = np.sqrt(np.maximum(self._s2 - (v**2).sum(axis=0), 1e-18))
        return mean, std

    def predict_with_gradient(self, X: np.ndarray):
        """Posterior mean and std of a few points and their gradients in ``X``.

        Returns ``mean, std`` of shape (m,) and ``d_mean, d_std`` of shape (m, d),
        from ``dk/dx_j = -5/3 s2 (1 + sqrt5 r) exp(-sqrt5 r) (x_j - X_ij) / l_j^2``,
        ``d mean = dk' alpha`` and ``d var = -2 (K^-1 k)' dk``. Memory is
        (m, n, d): meant for the few points of a local optimization.
        """
        X = self._columns(np.asarray(X, dtype=float))
        diff = (X[:, None, :] - self._X[None, :, :]) / self._lengths**2  # (m, n, d)
        r = scaled_distances(X, self._X, self._lengths)
        e = np.exp(-SQRT5 * r)
        k = self._s2 * (1 + SQRT5 * r + 5.0 / 3.0 * r**2) * e
        dk = -(self._s2 * 5.0 / 3.0 * (1 + SQRT5 * r) * e)[:, :, None] * diff
        mean = k @ self._alpha
        K_inv_k = cho_solve((self._L, True), k.T, check_finite=False)  # (n, m)
        var = np.maximum(self._s2 - np.einsum("nm,mn->m", K_inv_k, k), 1e-18)
        std = np.sqrt(var)
        d_mean = np.einsum("mnd,n->md", dk, self._alpha)
        d_var = -2 * np.einsum("nm,mnd->md", K_inv_k, dk)
        return mean, std, d_mean, d_var / (2 * std[:, None])

    def fantasize(self, X_new: np.ndarray, y_new: np.ndarray) -> GaussianProcess:
        """A copy conditioned on extra (believed) observations, same ``theta_``.

        The Cholesky factor is extended by a block (``O(n^2 q)`` for ``q`` new
        points) instead of being recomputed (``O(n^3)``).
        """
        other = GaussianProcess(self.n_columns, self.rng, self.n_restarts, self.log_prior)
        other.theta_ = self.theta_
        X_new = self._columns(np.asarray(X_new, dtype=float))
        noise = np.exp(self.theta_[-1])
        K_cross = self._s2 * matern52(scaled_distances(self._X, X_new, self._lengths))
        K_new = self._s2 * matern52(scaled_distances(X_new, X_new, self._lengths))
        K_new.flat[:: len(X_new) + 1] = self._s2 + noise + JITTER
        L_cross = solve_triangular(self._L, K_cross, lower=True, check_finite=False).T
        schur = K_new - L_cross @ L_cross.T
        L_corner, info = dpotrf(schur, lower=1, clean=1)
        n, q = len(self._X), len(X_new)
        if info != 0:  # a believed point on top of a told one: refactor with jitter
            return other.fit(np.vstack([self._X, X_new]),
                             np.concatenate([self._y, y_new]), optimize=False)
        L = np.zeros((n + q, n + q))
        L[:n, :n], L[n:, :n], L[n:, n:] = self._L, L_cross, L_corner
        other._set_posterior(np.vstack([self._X, X_new]), np.concatenate([self._y, y_new]), L)
        return other
