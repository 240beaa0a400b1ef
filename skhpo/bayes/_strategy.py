"""Ask/tell Bayesian optimization: Sobol initial design, then GP + acquisition.

:class:`BayesStrategy` proposes a batch of ``n_points`` per ``ask``. Within a
batch, proposals are diversified with the kriging believer: after choosing a
point, the GP (kernel fixed) is conditioned on its own posterior mean there,
which removes that point's uncertainty so the next argmax lands elsewhere.
:class:`AsyncBayesStrategy` proposes one point per free worker, with the points
still being evaluated put in the model the same way.

The cost of a proposal is kept bounded as the history grows: the likelihood
search has random restarts only while the history is short or after it grew by
``REFIT_GROWTH`` since the last search with restarts, and starts from the last
kernel otherwise; points are compared by fingerprints of their rounded rows
(hashing), so checking ``m`` points against ``n`` costs ``O((m + n) d)`` time and
memory instead of an ``(m, n, d)`` array. With ``TRUST_REGION_MIN_COLUMNS`` or
more continuous columns the candidates are drawn in a trust region around the
best point (:mod:`._trust_region`) and the likelihood search has the weak priors
of :func:`._gp.kernel_log_prior` (``benchmarks/results/bayes_prior.md``: at 100
evaluations, median regret 4.9 against 15.5 with maximum likelihood on Ackley in
10 dimensions, 13.7 against 68.5 on Levy in 20). Once the region has restarted
or the history is long (:func:`._trust_region.global_proposal_competes`), the
candidates over the whole space compete with the region's, scored with the same
acquisition, and the proposal is the best of both; moves of the best point along
one column (:func:`._trust_region.axis_candidates`) always compete.
"""

from __future__ import annotations


import numpy as np
from scipy.optimize import minimize

from .._cost import cooling_exponent, cost_cooled, log_fit_times
from .._strategy import BatchStrategy, Trial
from ..space import MAX_GRID_SIZE, Real, ScipyDimension, Space
from ._acquisition import ACQUISITION_GRADIENTS, ACQUISITIONS
from ._gp import GaussianProcess, kernel_log_prior, standardize, surrogate_targets
from ._trust_region import (TrustRegion, axis_candidates, global_proposal_competes,
                            region_candidates)

__all__ = ["AsyncBayesStrategy", "BayesStrategy"]

N_CANDIDATES = 1024  # quasi-random candidates scored per proposal
AXIS_CANDIDATES = 512  # with a trust region: the best point moved along one column
N_POLISH = 3  # best candidates refined by L-BFGS-B on their continuous columns
POLISH_MAX_ITER = 30  # L-BFGS-B iterations of that refinement
LOCAL_SCALES = (0.1, 0.02, 0.004)  # std of the perturbations of the best points
N_CENTRES = 5  # best points that the local candidates perturb
N_PER_CENTRE = 16  # local candidates per centre and scale
KEY_DECIMALS = 9  # rows equal to this many decimals are the same point
N_RESTARTS = 2  # random starts of the likelihood search, besides the last kernel
# the likelihood search has restarts for histories of up to FULL_FIT_UP_TO points,
# then only once the history grew by REFIT_GROWTH since the last search with
# restarts; in between, the last kernel is a good start and one search suffices
FULL_FIT_UP_TO = 30
REFIT_GROWTH = 1.25
TRUST_REGION_MIN_COLUMNS = 10  # continuous columns from which a trust region is used


def row_keys(points: np.ndarray) -> list[bytes]:
    """A hashable fingerprint of each row: the bytes of the row rounded to
    ``KEY_DECIMALS`` decimals (``-0.0`` made ``0.0``)."""
    rounded = np.round(np.asarray(points, dtype=float), KEY_DECIMALS) + 0.0
    return [row.tobytes() for row in np.ascontiguousarray(rounded)]


def is_seen(points: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Whether each row of ``points`` is a row of ``seen``, shape (len(points),).

    A set of row fingerprints: memory is ``O((len(points) + len(seen)) d)``.
    """
    seen_keys = set(row_keys(seen))
    return np.fromiter((key in seen_keys for key in row_keys(points)), dtype=bool,
                       count=len(points))


def _continuous_mask(space: Space) -> np.ndarray:
    mask = np.zeros(space.n_columns, dtype=bool)
    for sub, slices in zip(space.subspaces, space._slices):
        for dim, sl in zip(sub.values(), slices):
            if isinstance(dim, Real) or (
                isinstance(dim, ScipyDimension) and not dim._discrete
            ):
                mask[sl] = True
    return mask


def sobol_and_local_candidates(space: Space, centres: np.ndarray,
                               rng: np.random.RandomState) -> np.ndarray:
    """``N_CANDIDATES`` Sobol points over the space, then ``N_PER_CENTRE``
    Gaussian perturbations of each row of ``centres`` (encoded, shape (k, d)) at
    each of ``LOCAL_SCALES``, clipped and rounded to the space; shape
    ``(N_CANDIDATES + N_PER_CENTRE * len(LOCAL_SCALES) * k, d)``.

    The three scales escape a basin, refine within it and converge finely.
    """
    global_points = space.sobol(N_CANDIDATES, rng)
    centres = np.asarray(centres, dtype=float)
    scales = np.repeat(LOCAL_SCALES, len(centres) * N_PER_CENTRE)[:, None]
    near = np.tile(np.repeat(centres, N_PER_CENTRE, axis=0), (len(LOCAL_SCALES), 1))
    local = near + scales * rng.normal(size=near.shape)
    return np.vstack([global_points, space.round_unit(np.clip(local, 0, 1))])


class BayesStrategy(BatchStrategy):
    """GP-based ask/tell optimizer.

    Parameters
    ----------
    space, rng
        See :class:`~skhpo._strategy.Strategy`.
    n_iter : int
        Total number of trials.
    n_initial_points : int
        Trials drawn from a scrambled Sobol design before the GP is used.
    n_points : int
        Trials per batch.
    acquisition : {"ei", "pi", "lcb"}
        Acquisition function (log-EI, log-PI, or upper confidence bound).
    xi : float or None
        Exploration margin of EI/PI in standardized units (None: 0 for EI,
        0.1 for PI).
    kappa : float
        UCB's width in posterior standard deviations.
    cost_aware : bool, default=False
        If True (with ``acquisition`` "ei" or "pi"), a second GP models the log
        fit time of the told points and the acquisition is divided by the
        predicted fit time raised to the cooling exponent (EI-cool, see
        :mod:`skhpo._cost`): ``log a(x) - alpha log c(x)`` with ``alpha`` going
        from 1 after the initial design to 0 at the end of ``n_iter``.

    Attributes
    ----------
    X_ : ndarray of shape (n_told, n_columns)
        Encoded points told so far.
    y_ : ndarray of shape (n_told,)
        Their scores (NaN for failed fits).
    fit_time_ : ndarray of shape (n_told,)
        Their mean fit times over the folds, in seconds (NaN if not reported).
    cost_surrogate_ : GaussianProcess or None
        With ``cost_aware``, the last GP of the standardized log fit times.
    surrogate_ : GaussianProcess or None
        The last fitted surrogate.
    trust_region_ : TrustRegion or None
        The trust region, on spaces with at least ``TRUST_REGION_MIN_COLUMNS``
        continuous columns (None otherwise). Once
        :func:`~._trust_region.global_proposal_competes`, candidates over the
        whole space compete with the region's.
    """

    def __init__(self, space, rng, *, n_iter, n_initial_points, n_points,
                 acquisition="ei", xi=None, kappa=1.96, cost_aware=False):
        super().__init__(space, rng)
        self.cost_aware = cost_aware
        self.n_points = n_points
        self.acquisition = acquisition
        self.xi, self.kappa = xi, kappa
        self._grid = None
        if space.is_finite and space.size <= MAX_GRID_SIZE:
            self._grid = space.grid_unit()
            self._grid_used = np.zeros(len(self._grid), dtype=bool)
            self._grid_rows = {key: row for row, key in enumerate(row_keys(self._grid))}
        self.n_iter = int(min(n_iter, space.size))
        self._initial = space.sobol(min(n_initial_points, self.n_iter), rng)
        self.X_ = np.zeros((0, space.n_columns))
        self.y_ = np.zeros(0)
        self.fit_time_ = np.zeros(0)
        self._fit_times: dict[int, float] = {}  # trial id -> told, not yet recorded
        self.surrogate_ = None
        self.cost_surrogate_ = None
        self._cost_model = None  # (GP, mean, std of log fit time, alpha) of a proposal
        self._n_last_full_fit = 0  # history length at the last likelihood search with restarts
        self._continuous = _continuous_mask(space)
        n_continuous = int(self._continuous.sum())
        self.trust_region_ = None
        if self._grid is None and n_continuous >= TRUST_REGION_MIN_COLUMNS:
            self.trust_region_ = TrustRegion(n_continuous, self._region_batch_size())
        # many columns: maximum likelihood tends to explain the few scores as
        # noise around a flat mean, and the region's proposals become random
        self._log_prior = kernel_log_prior if self.trust_region_ is not None else None

    def _region_batch_size(self) -> int:
        return self.n_points

    @property
    def max_trials(self) -> int:
        return self.n_iter

    def ask_batch(self) -> list[Trial]:
        remaining = self.n_iter - self.n_asked
        if remaining <= 0:
            return []
        if self._grid is not None and self.n_iter == len(self._grid):
            # the budget covers the whole grid: evaluate every point once, at once
            points = self._grid[~self._grid_used]
        elif self.n_asked < len(self._initial):
            batch = min(self.n_points, len(self._initial) - self.n_asked, remaining)
            points = self._unique(self._initial[self.n_asked:self.n_asked + batch])
        else:
            points = self._propose(min(self.n_points, remaining))
        self._mark_used(points)
        return [Trial(params) for params in self.space.from_unit(points)]

    def tell_fit_time(self, trial_id: int, seconds: float) -> None:
        self._fit_times[trial_id] = float(seconds)

    def tell_batch(self, trials: list[Trial], scores: np.ndarray) -> None:
        self._record(self.space.to_unit([t.params for t in trials]),
                     np.asarray(scores, dtype=float),
                     np.array([self._fit_times.pop(t.id, np.nan) for t in trials]))

    def _record(self, points: np.ndarray, scores: np.ndarray,
                fit_times: np.ndarray) -> None:
        """Add told points; after the initial design, resize the trust region."""
        if self.trust_region_ is not None and len(self.y_) >= len(self._initial):
            best_before = np.nanmax(self.y_) if np.isfinite(self.y_).any() else -np.inf
            batch_best = np.nanmax(scores) if np.isfinite(scores).any() else np.nan
            self.trust_region_.update(best_before, batch_best)
        self.X_ = np.vstack([self.X_, points])
        self.y_ = np.concatenate([self.y_, scores])
        self.fit_time_ = np.concatenate([self.fit_time_, fit_times])

    # -- proposals --------------------------------------------------------------

    def _is_seen(self, points: np.ndarray, seen: np.ndarray) -> np.ndarray:
        return is_seen(points, seen)

    def _grid_indices(self, points: np.ndarray) -> list[int | None]:
        """Row of each point in the grid (None for a point not on it)."""
        return [self._grid_rows.get(key) for key in row_keys(points)]

    def _mark_used(self, points: np.ndarray) -> None:
        if self._grid is not None:
            for row in self._grid_indices(points):
                if row is not None:
                    self._grid_used[row] = True

    def _unique(self, points: np.ndarray) -> np.ndarray:
        """Replace repeats (possible on discrete spaces) by random unused grid points."""
        if self._grid is None:
            return points
        used = self._grid_used.copy()
        rows = []
        for row in self._grid_indices(points):
            if row is None or used[row]:
                row = self.rng.choice(np.flatnonzero(~used))
            used[row] = True
            rows.append(row)
        return self._grid[rows]

    def _propose(self, n: int, pending: np.ndarray | None = None,
                 believed_incumbent: bool = False) -> np.ndarray:
        """Up to ``n`` new points, shape ``(<= n, n_columns)``.

        ``pending`` (asked, not yet told; encoded rows) are put in the GP at its
        own posterior mean (kriging believer) before the first argmax, as each
        chosen point is before the next one, and are never proposed again. With
        ``believed_incumbent``, the best score that EI and PI improve on includes
        these believed values (Ginsbourger et al. 2010), so a point next to a
        pending one that the GP expects to be good gains little; without it (the
        batches of :class:`BayesStrategy`), it is the best told score.
        """
        d = self.space.n_columns
        pending = np.zeros((0, d)) if pending is None else pending.reshape(-1, d)
        if not np.isfinite(self.y_).any():
            return self._unique(self.space.round_unit(self.rng.uniform(size=(n, d))))
        gp, best = self._surrogate()
        self._cost_model = self._cost_surrogate() if self.cost_aware else None
        if len(pending):
            believed, _ = gp.predict(pending)
            gp = gp.fantasize(pending, believed)
            if believed_incumbent:
                best = max(best, believed.max())
        chosen = []
        for i in range(n):
            point = self._argmax_acquisition(gp, best, np.vstack([pending, *chosen]))
            if point is None:
                break
            chosen.append(point[None])
            if i + 1 < n:  # kriging believer: pretend the GP mean was observed
                mean, _ = gp.predict(point[None])
                gp = gp.fantasize(point[None], mean)
                if believed_incumbent:
                    best = max(best, mean[0])
        return np.vstack([np.zeros((0, d)), *chosen])

    def _surrogate(self) -> tuple[GaussianProcess, float]:
        """A GP fitted on the told points (warped, standardized scores) and the
        best of those scores.

        The likelihood search starts from the last fit's kernel; it adds
        ``N_RESTARTS`` random starts while the history has at most
        ``FULL_FIT_UP_TO`` points or has grown by ``REFIT_GROWTH`` since the last
        search with restarts, so that a long history costs one warm-started
        search per proposal.
        """
        y_std = surrogate_targets(self.y_)
        n = len(y_std)
        full = (self.surrogate_ is None or n <= FULL_FIT_UP_TO
                or n >= REFIT_GROWTH * self._n_last_full_fit)
        gp = GaussianProcess(self.space.n_columns, self.rng,
                             n_restarts=N_RESTARTS if full else 0,
                             log_prior=self._log_prior)
        if self.surrogate_ is not None:
            gp.theta_ = self.surrogate_.theta_  # warm start the likelihood search
        gp.fit(self.X_, y_std)
        if full:
            self._n_last_full_fit = n
        self.surrogate_ = gp
        return gp, y_std.max()

    def _cost_surrogate(self) -> tuple[GaussianProcess, float, float, float]:
        """A GP of the standardized log fit times of the told points, the mean
        and std that standardized them, and the cooling exponent of this
        proposal (:func:`~skhpo._cost.cooling_exponent`)."""
        log_cost, mean, std = standardize(log_fit_times(self.fit_time_))
        gp = GaussianProcess(self.space.n_columns, self.rng, n_restarts=N_RESTARTS,
                             log_prior=self._log_prior)
        if self.cost_surrogate_ is not None:
            gp.theta_ = self.cost_surrogate_.theta_
        gp.fit(self.X_, log_cost)
        self.cost_surrogate_ = gp
        alpha = cooling_exponent(len(self.y_), len(self._initial), self.n_iter)
        return gp, mean, std, alpha

    def _margin(self) -> dict:
        return {} if self.xi is None else {"xi": self.xi}

    def _acquire(self, gp, best, points):
        mean, std = gp.predict(points)
        values = ACQUISITIONS[self.acquisition](mean, std, best, kappa=self.kappa,
                                                **self._margin())
        if self._cost_model is None:
            return values
        cost_gp, cost_mean, cost_std, alpha = self._cost_model
        log_cost = cost_mean + cost_std * cost_gp.predict(points)[0]
        return cost_cooled(values, log_cost, alpha)

    def _argmax_acquisition(self, gp, best, pending: np.ndarray) -> np.ndarray | None:
        """The argmax of the acquisition among points neither told nor ``pending``."""
        if self._grid is not None:
            free = ~self._grid_used
            for row in self._grid_indices(pending):
                if row is not None:
                    free[row] = False
            if not free.any():
                return None
            candidates = self._grid[free]
            # a copy: a view would keep the whole candidate array alive per batch point
            return candidates[np.argmax(self._acquire(gp, best, candidates))].copy()
        region = self.trust_region_
        if region is None:
            pools = [self._scored_pool(gp, best, self._candidates())]
        else:
            pools = [self._scored_pool(gp, best, *self._region_candidates(gp))]
            if global_proposal_competes(len(self.y_), region.n_dims, region.n_restarts):
                pools.append(self._scored_pool(gp, best, self._candidates()))
            axis = self.space.round_unit(axis_candidates(
                self.X_[np.nanargmax(self.y_)], np.flatnonzero(self._continuous),
                AXIS_CANDIDATES, self.rng))
            pools.append((axis, self._acquire(gp, best, axis)))
        candidates = np.vstack([points for points, _ in pools])
        values = np.concatenate([pool_values for _, pool_values in pools])
        seen = np.vstack([self.X_, pending])
        values[self._is_seen(candidates, seen)] = -np.inf
        return candidates[np.argmax(values)].copy()

    def _scored_pool(self, gp, best, candidates: np.ndarray, low: np.ndarray | None = None,
                     high: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``candidates`` with their acquisition values, the best ``N_POLISH``
        refined by :meth:`_polish` within ``[low, high]`` (default: the unit cube)."""
        values = self._acquire(gp, best, candidates)
        if self._continuous.any():
            d = self.space.n_columns
            low = np.zeros(d) if low is None else low
            high = np.ones(d) if high is None else high
            top = np.argsort(values)[-N_POLISH:]
            candidates[top], values[top] = self._polish(gp, best, candidates[top],
                                                        values[top], low, high)
        return candidates, values

    def _candidates(self) -> np.ndarray:
        """Sobol points plus Gaussian perturbations of the best points so far."""
        order = np.argsort(np.nan_to_num(self.y_, nan=-np.inf))[::-1][:N_CENTRES]
        return sobol_and_local_candidates(self.space, self.X_[order], self.rng)

    def _region_candidates(self, gp) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidates in the trust region around the best told point, and the
        region's corners on every column (``[0, 1]`` on the discrete ones).

        The continuous columns come from :func:`region_candidates`; the discrete
        ones are the best point's for half of the candidates and a Sobol point's
        for the other half.
        """
        mask = self._continuous
        centre = self.X_[np.nanargmax(self.y_)]
        lengths = gp.lengths_[mask] if len(gp.lengths_) == len(mask) else gp.lengths_
        region_low, region_high = self.trust_region_.bounds(centre[mask], lengths)
        candidates = self.space.sobol(N_CANDIDATES, self.rng)
        keep_centre = self.rng.uniform(size=len(candidates)) < 0.5
        candidates[np.ix_(keep_centre, ~mask)] = centre[~mask]
        candidates[:, mask] = region_candidates(centre[mask], region_low, region_high,
                                                candidates[:, mask], self.rng)
        low, high = np.zeros(len(mask)), np.ones(len(mask))
        low[mask], high[mask] = region_low, region_high
        return self.space.round_unit(candidates), low, high

    def _acquire_with_gradient(self, gp, best, points):
        """:meth:`_acquire` of ``points`` (shape (m,)) and its gradient in the
        points (shape (m, d)): the GP's
        :meth:`~GaussianProcess.predict_with_gradient` chained with the
        acquisition's derivatives in its mean and std, minus ``alpha`` times
        the gradient of the predicted log fit time with ``cost_aware``."""
        mean, std, d_mean, d_std = gp.predict_with_gradient(points)
        value, d_value_d_mean, d_value_d_std = ACQUISITION_GRADIENTS[self.acquisition](
            mean, std, best, kappa=self.kappa, **self._margin())
        gradient = d_value_d_mean[:, None] * d_mean + d_value_d_std[:, None] * d_std
        if self._cost_model is not None:
            cost_gp, cost_mean, cost_std, alpha = self._cost_model
            cost, _, d_cost, _ = cost_gp.predict_with_gradient(points)
            value = cost_cooled(value, cost_mean + cost_std * cost, alpha)
            gradient = gradient - alpha * cost_std * d_cost
        return value, gradient

    def _polish(self, gp, best, starts, start_values, low, high):
        """Refine the continuous columns of the rows of ``starts`` within
        ``[low, high]`` by L-BFGS-B, with the acquisition's analytic gradient
        (:meth:`_acquire_with_gradient`). Returns the points and
        their values; a row that did not improve is returned as it was.

        The rows are refined in one L-BFGS-B run on the sum of their acquisition
        values: the sum is separable, so its optimum is each row's, and one run
        costs one GP prediction of all rows per step instead of one per row.
        """
        mask = self._continuous
        m, k = len(starts), int(mask.sum())

        def negative_acquisition_and_gradient(z):
            points = starts.copy()
            points[:, mask] = z.reshape(m, k)
            value, gradient = self._acquire_with_gradient(gp, best, points)
            return -value.sum(), -gradient[:, mask].ravel()

        result = minimize(negative_acquisition_and_gradient, starts[:, mask].ravel(),
                          jac=True, method="L-BFGS-B",
                          bounds=list(zip(low[mask], high[mask])) * m,
                          options={"maxiter": POLISH_MAX_ITER})
        points = starts.copy()
        points[:, mask] = result.x.reshape(m, k)
        points = self.space.round_unit(points)
        values = self._acquire(gp, best, points)
        better = np.isfinite(values) & (values > start_values)
        return (np.where(better[:, None], points, starts),
                np.where(better, values, start_values))


class AsyncBayesStrategy(BayesStrategy):
    """:class:`BayesStrategy` that proposes one point per free worker.

    ``ask(n)`` returns up to ``n`` points: the next points of the Sobol initial
    design while it lasts, then argmaxes of the acquisition on a GP fitted to
    every told score, with the pending points (asked, not yet told) put in the
    GP at its posterior mean (kriging believer), so that no proposal repeats or
    crowds a point being evaluated. ``tell`` adds the observation and drops the
    point from the pending ones. On a finite space no point is asked twice, and
    when ``n_iter`` covers the whole grid every point is asked once, in grid
    order. ``n_iter`` points are asked in all; ``n_points`` is not used.

    Unlike the batches of :class:`BayesStrategy`, the best score that EI and PI
    improve on includes the believed values of the pending points (the kriging
    believer of Ginsbourger et al. 2010), so a point next to a pending one gains
    little. Proposals are made while workers wait, so they are kept cheap: the
    GP is refitted only when a score came in since the last ask, and its
    likelihood search starts from the last kernel, with random restarts only
    as in :meth:`BayesStrategy._surrogate`.

    Parameters are those of :class:`BayesStrategy`.

    Attributes
    ----------
    X_, y_, surrogate_
        As in :class:`BayesStrategy`; ``X_`` and ``y_`` are in the order the
        points were told.
    pending_ : ndarray of shape (n_pending, n_columns)
        The encoded points asked and not yet told.
    """

    def __init__(self, space, rng, **kwargs):
        super().__init__(space, rng, **kwargs)
        self._pending: dict[int, np.ndarray] = {}  # trial id -> encoded point
        self._n_fitted = 0  # told points the last surrogate was fitted on
        self._best_fitted = -np.inf  # their best standardized score

    @property
    def pending_(self) -> np.ndarray:
        return np.array(list(self._pending.values())).reshape(-1, self.space.n_columns)

    def _ask(self, n: int | None) -> list[Trial]:
        n = min(n or 1, self.n_iter - self.n_asked)
        if n <= 0:
            return []
        if self._grid is not None and self.n_iter == len(self._grid):
            points = self._grid[~self._grid_used][:n]
        else:
            start = min(self.n_asked, len(self._initial))
            points = self._unique(self._initial[start:start + n])
            self._mark_used(points)
            if len(points) < n:
                pending = np.vstack([self.pending_, points])
                points = np.vstack([points, self._propose(n - len(points), pending,
                                                            believed_incumbent=True)])
        self._mark_used(points)
        for offset, point in enumerate(points):
            self._pending[self.n_asked + offset] = point
        return [Trial(params) for params in self.space.from_unit(points)]

    def _surrogate(self) -> tuple[GaussianProcess, float]:
        # the loop asks whenever a worker frees, often with no new score since the
        # last ask: the GP fitted then is the same (before its pending fantasies)
        if self.surrogate_ is not None and self._n_fitted == len(self.y_):
            return self.surrogate_, self._best_fitted
        gp, self._best_fitted = super()._surrogate()
        self._n_fitted = len(self.y_)
        return gp, self._best_fitted

    def _region_batch_size(self) -> int:
        return 1  # the trust region counts every told point

    def tell(self, trial_id: int, score: float) -> None:
        point = self._pending.pop(trial_id)
        self._record(point[None], np.array([float(score)]),
                     np.array([self._fit_times.pop(trial_id, np.nan)]))
