"""Partial dependence of BayesSearchCV's Gaussian process, on the score's scale.

Notation
--------
``y`` : (n,) told scores (failed fits imputed as the worst score, as the search
does); the search models ``z = standardize(YJ_lambda(standardize(y)))``, where
``YJ_lambda`` is the Yeo-Johnson transform with ``lambda`` fitted by maximum
likelihood. ``mu(x), sigma(x)`` : the GP posterior of ``z`` at encoded ``x``.
The band is ``mu +- 1.96 sigma`` mapped back through the inverse transforms, so
it is a 95% band of the modelled score and need not be symmetric. A warp
fitted on few scores has a bounded range (``lambda > 2`` bounds it below,
``lambda < 0`` above), beyond which the inverse does not exist: values are
clipped to the told scores' range widened by its width on either side.

The partial dependence of parameter ``j`` at value ``v`` is
``1/S sum_s g(x_s with its j columns set to v)`` over ``S`` random points
``x_s`` of the space (Friedman 2001; ``skopt.plots.plot_objective``), for ``g``
the mean and each band edge on the score's scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import yeojohnson

from ..bayes._gp import GaussianProcess, standardize
from ..space import Space

__all__ = ["ScoreScale", "fit_surrogate", "inverse_yeojohnson", "partial_dependence"]

BAND_WIDTH = 1.96  # posterior standard deviations either side: a 95% band


def inverse_yeojohnson(w: np.ndarray, lmbda: float) -> np.ndarray:
    """``x`` with ``YJ_lambda(x) = w`` (elementwise, any shape).

    ``x = (lambda w + 1)^(1/lambda) - 1`` for ``w >= 0`` (``exp(w) - 1`` at
    ``lambda = 0``) and ``1 - (1 - (2 - lambda) w)^(1/(2 - lambda))`` for
    ``w < 0`` (``1 - exp(-w)`` at ``lambda = 2``). Values outside the
    transform's range (a band far beyond the data) are clipped to its edge.
    """
    w = np.asarray(w, dtype=float)
    x = np.empty_like(w)
    positive = w >= 0
    wp, wn = w[positive], w[~positive]
    if abs(lmbda) < 1e-12:
        x[positive] = np.expm1(wp)
    else:
        x[positive] = np.maximum(lmbda * wp + 1, 1e-12) ** (1 / lmbda) - 1
    if abs(lmbda - 2) < 1e-12:
        x[~positive] = -np.expm1(-wn)
    else:
        x[~positive] = 1 - np.maximum(1 - (2 - lmbda) * wn, 1e-12) ** (1 / (2 - lmbda))
    return x


@dataclass(frozen=True)
class ScoreScale:
    """The map between scores and the GP's standardized, warped scale.

    Mirrors the search's own transform (``warp_scores`` then ``standardize``):
    ``z = (YJ((y - m1) / s1) - m2) / s2``.
    """

    m1: float
    s1: float
    lmbda: float | None  # None: constant scores, no warp
    m2: float
    s2: float
    low: float  # clip bounds on the score's scale
    high: float

    @classmethod
    def fit(cls, y: np.ndarray) -> tuple[ScoreScale, np.ndarray]:
        """The scale of scores ``y`` (shape (n,)) and ``z``, ``y`` on it."""
        u, m1, s1 = standardize(y)
        lmbda = None
        if np.ptp(u) > 0:
            u, lmbda = yeojohnson(u)
        z, m2, s2 = standardize(u)
        width = max(float(np.ptp(y)), 1e-12)
        scale = cls(m1, s1, None if lmbda is None else float(lmbda), m2, s2,
                    float(np.min(y)) - width, float(np.max(y)) + width)
        return scale, z

    def to_scores(self, z: np.ndarray) -> np.ndarray:
        """Map values on the GP's scale back to scores."""
        u = self.m2 + self.s2 * np.asarray(z, dtype=float)
        if self.lmbda is not None:
            u = inverse_yeojohnson(u, self.lmbda)
        return np.clip(self.m1 + self.s1 * u, self.low, self.high)


def fit_surrogate(optimizer, random_state: int = 0) -> tuple[GaussianProcess, ScoreScale]:
    """A GP on every point a BayesSearchCV told, as its search fits one.

    The search's last surrogate was fitted before the last batch was told, so
    the plot fits a new one on all points, its likelihood search starting from
    the last kernel. Failed (NaN) scores are imputed as the worst score seen.
    """
    X, y = np.asarray(optimizer.X_, dtype=float), np.asarray(optimizer.y_, dtype=float).copy()
    finite = np.isfinite(y)
    if not finite.any():
        raise ValueError(
            "every trial of the search failed (NaN scores): there is no surrogate "
            "to plot; pass surrogate=False."
        )
    y[~finite] = y[finite].min()
    scale, z = ScoreScale.fit(y)
    gp = GaussianProcess(optimizer.space.n_columns, np.random.RandomState(random_state))
    if getattr(optimizer, "surrogate_", None) is not None:
        gp.theta_ = optimizer.surrogate_.theta_
    return gp.fit(X, z), scale


def partial_dependence(gp: GaussianProcess, scale: ScoreScale, space: Space, name: str,
                       samples: np.ndarray, n_points: int):
    """Partial dependence of the modelled score on parameter ``name``.

    ``samples`` : (S, n_columns) encoded points of ``space`` (one subspace).
    Returns ``values`` (the parameter's values: ``n_points`` along a continuous
    range, every value of a finite one up to ``n_points``), and ``mean``,
    ``lower`` and ``upper`` of shape (len(values),) on the score's scale.
    """
    column = space._slices[0][list(space.subspaces[0]).index(name)]
    dim = space.subspaces[0][name]
    if dim.size <= n_points:
        values = dim.grid()
        units = dim.to_unit(values)
    else:
        units = dim.round_unit(np.linspace(0, 1, n_points)[:, None])
        units = np.unique(units, axis=0)
        values = dim.from_unit(units)
    curves = np.empty((3, len(units)))
    for i, unit in enumerate(units):
        points = samples.copy()
        points[:, column] = unit
        mu, sigma = gp.predict(points)
        for k, z in enumerate((mu, mu - BAND_WIDTH * sigma, mu + BAND_WIDTH * sigma)):
            curves[k, i] = scale.to_scores(z).mean()
    return values, curves[0], curves[1], curves[2]
