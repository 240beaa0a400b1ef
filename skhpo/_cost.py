"""Cost-aware proposals: a candidate's value per unit of predicted fit time.

Notation
--------
``u(x) > 0`` : the value of proposing ``x`` (expected improvement for
BayesSearchCV, ``exp`` of the surrogate's predicted normal score for
GeneticSearchCV); ``c(x) > 0`` : the predicted fit time of ``x`` in seconds,
modelled on ``log c`` (fit times span orders of magnitude);
``n`` : trials told so far; ``n_0`` : trials of the initial design;
``N`` : the budget (``n_iter``, or the evaluations of all generations).

The cost-cooled value of Lee et al. (2020, "EI-cool") is ``u(x) / c(x)^alpha``,
computed in logarithms as ``log u(x) - alpha log c(x)``, with the cooling
exponent ``alpha = (N - n) / (N - n_0)``: 1 right after the initial design,
where value per second is maximised and cheap candidates are preferred, falling
linearly to 0 at the end of the budget, where the plain value is maximised and
an expensive candidate that the model expects to be better is not passed over.
Plain value per unit cost (``alpha = 1`` throughout, Snoek et al. 2012) was not
used: it can keep sampling cheap, poor regions and miss the optimum when good
candidates are expensive (Lee et al. 2020).

References: Lee, Perrone, Archambeau, Seeger, "Cost-aware Bayesian
Optimization", ICML AutoML workshop, 2020 (arXiv:2003.10870); Snoek,
Larochelle, Adams, "Practical Bayesian Optimization of Machine Learning
Algorithms", NeurIPS 2012.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MIN_FIT_TIME", "cooling_exponent", "cost_cooled", "log_fit_times"]

# a fit faster than the timer's resolution would have log cost -inf
MIN_FIT_TIME = 1e-6


def cooling_exponent(n_told: int, n_initial: int, budget: int) -> float:
    """``alpha = (N - n) / (N - n_0)`` clipped to ``[0, 1]`` (0 when ``N <= n_0``)."""
    if budget <= n_initial:
        return 0.0
    return float(np.clip((budget - n_told) / (budget - n_initial), 0.0, 1.0))


def cost_cooled(log_value: np.ndarray, log_cost: np.ndarray, alpha: float) -> np.ndarray:
    """``log(u / c^alpha) = log u - alpha log c``, shape of the broadcast inputs."""
    return np.asarray(log_value, dtype=float) - alpha * np.asarray(log_cost, dtype=float)


def log_fit_times(fit_times: np.ndarray) -> np.ndarray:
    """``log max(c, MIN_FIT_TIME)`` of fit times in seconds; NaN (not measured)
    becomes the mean log time of the measured ones (0 if none is)."""
    times = np.asarray(fit_times, dtype=float)
    logs = np.log(np.maximum(times, MIN_FIT_TIME))
    measured = np.isfinite(logs)
    logs[~measured] = logs[measured].mean() if measured.any() else 0.0
    return logs
