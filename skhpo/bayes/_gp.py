"""Gaussian-process surrogate on the unit-cube encoding.

Notation
--------
``X`` : (n, d) encoded points in ``[0, 1]^d`` (already rounded, so integers and
categoricals reach the kernel as the values they decode to);
``y`` : (n,) scores, greater is better, standardized to zero mean, unit variance;
kernel ``k(x, x') = s^2 * Matern52(x, x'; l_1..l_d) + noise^2 * [x == x']``, one
length scale per column, ``s``, ``l`` and ``noise`` set by maximizing the log
marginal likelihood (L-BFGS-B with restarts, warm-started from the last fit).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

__all__ = ["GaussianProcess", "standardize"]


def standardize(y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Return ``(y - mean) / std`` and the mean and std (std of a constant is 1)."""
    mean = float(np.mean(y))
    std = float(np.std(y))
    std = std if std > 1e-12 else 1.0
    return (y - mean) / std, mean, std


class GaussianProcess:
    """A GP regressor with a Matern 5/2 ARD kernel and learned noise.

    Parameters
    ----------
    n_columns : int
        Width ``d`` of the encoding.
    rng : numpy.random.RandomState
        Source of the optimizer's restart seeds.
    n_restarts : int, default=2
        Extra random restarts of the marginal-likelihood optimization.
    """

    def __init__(self, n_columns: int, rng: np.random.RandomState, n_restarts: int = 2):
        self.n_columns = n_columns
        self.rng = rng
        self.n_restarts = n_restarts
        self.kernel_ = ConstantKernel(1.0, (1e-2, 1e2)) * Matern(
            length_scale=np.full(max(n_columns, 1), 0.5),
            length_scale_bounds=(1e-2, 1e2),
            nu=2.5,
        ) + WhiteKernel(1e-2, (1e-6, 1.0))
        self._model: GaussianProcessRegressor | None = None

    def fit(self, X: np.ndarray, y: np.ndarray, optimize: bool = True) -> GaussianProcess:
        """Fit on standardized scores ``y``; with ``optimize=False`` keep the kernel."""
        model = GaussianProcessRegressor(
            kernel=self.kernel_,
            optimizer="fmin_l_bfgs_b" if optimize else None,
            n_restarts_optimizer=self.n_restarts if optimize else 0,
            normalize_y=False,
            random_state=self.rng.randint(2**31) if optimize else 0,
            alpha=1e-8,
        )
        with warnings.catch_warnings():
            # hyperparameters at a bound are expected on tiny data sets
            warnings.simplefilter("ignore")
            model.fit(self._columns(X), y)
        self._model = model
        self.kernel_ = model.kernel_
        return self

    def _columns(self, X: np.ndarray) -> np.ndarray:
        return X if self.n_columns else np.zeros((len(X), 1))

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation, each of shape (len(X),)."""
        mean, std = self._model.predict(self._columns(X), return_std=True)
        return mean, np.maximum(std, 1e-9)

    def fantasize(self, X: np.ndarray, y: np.ndarray, X_new: np.ndarray,
                  y_new: np.ndarray) -> GaussianProcess:
        """A copy conditioned on extra (believed) observations, same kernel."""
        other = GaussianProcess(self.n_columns, self.rng, self.n_restarts)
        other.kernel_ = self.kernel_
        return other.fit(np.vstack([X, X_new]), np.concatenate([y, y_new]), optimize=False)
