"""Gaussian-process surrogate on the unit-cube encoding.

Notation
--------
``X`` : (n, d) encoded points in ``[0, 1]^d`` (already rounded, so integers and
categoricals reach the kernel as the values they decode to);
``y`` : (n,) scores, greater is better, Yeo-Johnson warped and standardized;
``r(x, x') = sqrt(sum_j (x_j - x'_j)^2 / l_j^2)``;
``k(x, x') = s2 * (1 + sqrt5 r + 5/3 r^2) exp(-sqrt5 r)`` (Matern 5/2, one length
scale ``l_j`` per column) and ``K = k(X, X) + noise * I``;
``theta = (log s2, log l_1 .. log l_d, log noise)`` is set by maximizing the log
marginal likelihood ``-1/2 y' K^-1 y - 1/2 log|K| - n/2 log 2 pi`` with its
analytic gradient (L-BFGS-B, warm-started from the last fit plus random restarts).

Written in plain numpy rather than on sklearn's GaussianProcessRegressor because
the acquisition is evaluated thousands of times per proposal: a prediction here
is a couple of small matrix products, without input validation.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_solve, cholesky, solve_triangular
from scipy.optimize import minimize
from scipy.stats import yeojohnson

__all__ = ["GaussianProcess", "standardize", "warp_scores"]

SQRT5 = np.sqrt(5.0)
# bounds of theta: signal variance, length scales (unit cube), noise variance
LOG_S2_BOUNDS = (np.log(1e-2), np.log(1e2))
LOG_LENGTH_BOUNDS = (np.log(1e-2), np.log(1e2))
LOG_NOISE_BOUNDS = (np.log(1e-6), np.log(1.0))
JITTER = 1e-8


def standardize(y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Return ``(y - mean) / std`` and the mean and std (std of a constant is 1)."""
    mean = float(np.mean(y))
    std = float(np.std(y))
    std = std if std > 1e-12 else 1.0
    return (y - mean) / std, mean, std


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
    return yeojohnson(z)[0]


def matern52(A: np.ndarray, B: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Unit-variance Matern 5/2 kernel matrix of shape (len(A), len(B))."""
    diff = (A[:, None, :] - B[None, :, :]) / lengths
    r = np.sqrt(np.maximum((diff**2).sum(axis=2), 0.0))
    return (1 + SQRT5 * r + 5.0 / 3.0 * r**2) * np.exp(-SQRT5 * r)


def negative_log_marginal_likelihood(theta: np.ndarray, X: np.ndarray, y: np.ndarray):
    """``-log p(y | X, theta)`` and its gradient with respect to ``theta``."""
    n, d = X.shape
    s2, lengths, noise = np.exp(theta[0]), np.exp(theta[1:-1]), np.exp(theta[-1])
    scaled = (X[:, None, :] - X[None, :, :]) / lengths  # (n, n, d)
    sq = scaled**2
    r = np.sqrt(sq.sum(axis=2))
    e = np.exp(-SQRT5 * r)
    base = (1 + SQRT5 * r + 5.0 / 3.0 * r**2) * e
    K = s2 * base + (noise + JITTER) * np.eye(n)
    try:
        L = cholesky(K, lower=True)
    except np.linalg.LinAlgError:
        return 1e10, np.zeros_like(theta)
    alpha = cho_solve((L, True), y)
    nll = 0.5 * y @ alpha + np.log(np.diag(L)).sum() + 0.5 * n * np.log(2 * np.pi)
    inner = np.outer(alpha, alpha) - cho_solve((L, True), np.eye(n))  # (aa' - K^-1)
    grad = np.empty_like(theta)
    grad[0] = -0.5 * np.sum(inner * (s2 * base))
    # dK/dlog l_j = s2 * 5/3 (1 + sqrt5 r) exp(-sqrt5 r) * scaled_j^2
    common = s2 * 5.0 / 3.0 * (1 + SQRT5 * r) * e
    grad[1:-1] = -0.5 * np.einsum("ab,abj->j", inner * common, sq)
    grad[-1] = -0.5 * np.trace(inner) * noise
    return nll, grad


class GaussianProcess:
    """A zero-mean GP regressor with a Matern 5/2 ARD kernel and learned noise.

    Parameters
    ----------
    n_columns : int
        Width ``d`` of the encoding.
    rng : numpy.random.RandomState
        Source of the restart points of the likelihood optimization.
    n_restarts : int, default=1
        Random restarts besides the warm start.
    """

    def __init__(self, n_columns: int, rng: np.random.RandomState, n_restarts: int = 2):
        self.n_columns = max(n_columns, 1)
        self.rng = rng
        self.n_restarts = n_restarts
        self.theta_ = np.concatenate([[0.0], np.full(self.n_columns, np.log(0.3)), [np.log(1e-2)]])

    def _bounds(self):
        return [LOG_S2_BOUNDS] + [LOG_LENGTH_BOUNDS] * self.n_columns + [LOG_NOISE_BOUNDS]

    def _columns(self, X: np.ndarray) -> np.ndarray:
        return X if X.shape[1] else np.zeros((len(X), 1))

    def fit(self, X: np.ndarray, y: np.ndarray, optimize: bool = True) -> GaussianProcess:
        """Fit on standardized scores ``y``; with ``optimize=False`` keep ``theta_``."""
        X = self._columns(np.asarray(X, dtype=float))
        y = np.asarray(y, dtype=float)
        if optimize:
            bounds = self._bounds()
            low, high = np.array(bounds).T
            starts = [np.clip(self.theta_, low, high)]
            starts += [self.rng.uniform(low, high) for _ in range(self.n_restarts)]
            best = None
            for start in starts:
                result = minimize(negative_log_marginal_likelihood, start, args=(X, y),
                                  jac=True, method="L-BFGS-B", bounds=bounds,
                                  options={"maxiter": 100})
                if best is None or result.fun < best.fun:
                    best = result
            self.theta_ = best.x
        s2, lengths, noise = np.exp(self.theta_[0]), np.exp(self.theta_[1:-1]), np.exp(self.theta_[-1])
        K = s2 * matern52(X, X, lengths) + (noise + JITTER) * np.eye(len(X))
        self._L = cholesky(K, lower=True)
        self._alpha = cho_solve((self._L, True), y)
        self._X, self._y = X, y
        self._s2, self._lengths = s2, lengths
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the latent function, shape (len(X),)."""
        X = self._columns(np.asarray(X, dtype=float))
        k = self._s2 * matern52(X, self._X, self._lengths)
        mean = k @ self._alpha
        v = solve_triangular(self._L, k.T, lower=True)
        var = np.maximum(self._s2 - (v**2).sum(axis=0), 1e-18)
        return mean, np.sqrt(var)

    def fantasize(self, X_new: np.ndarray, y_new: np.ndarray) -> GaussianProcess:
        """A copy conditioned on extra (believed) observations, same ``theta_``."""
        other = GaussianProcess(self.n_columns, self.rng, self.n_restarts)
        other.theta_ = self.theta_
        X_new = self._columns(np.asarray(X_new, dtype=float))
        return other.fit(np.vstack([self._X, X_new]), np.concatenate([self._y, y_new]),
                         optimize=False)
