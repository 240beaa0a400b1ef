"""PBTSearchCV: population-based training of incrementally trained estimators."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral, Real as RealNumber

import numpy as np
from sklearn.base import clone

from ._base import BaseSearchCV, select_best_at_largest_resource
from ._incremental import (
    IncrementalEvaluator,
    changed_params,
    classes_for,
    has_partial_fit,
    train_partial_fit,
)
from ._sklearn_compat import Interval, StrOptions
from ._strategy import BatchStrategy, Strategy, Trial
from .integration._skorch import is_skorch_net, warn_about_search_pitfalls
from .space import Categorical, Constant, Dimension, Integer, Real, ScipyDimension

__all__ = ["AsyncPBTStrategy", "PBTSearchCV", "PBTStrategy", "explore", "truncation_quantiles"]

# skorch re-initializes the module (and optimizer) when these change
_REINITIALIZING_PREFIXES = ("module__", "criterion__")


def _perturb(dim: Dimension, value, factor: float):
    """``value * factor`` kept inside ``dim`` (an integer always moves by >= 1)."""
    new = value * factor
    if isinstance(dim, Integer) or (isinstance(dim, ScipyDimension) and dim._discrete):
        new = int(round(new))
        if new == value and factor != 1:
            new = value + (1 if factor > 1 else -1)
    if isinstance(dim, (Real, Integer)):
        low, high = dim.low, dim.high
    else:
        low, high = dim.distribution.support()
    clipped = min(max(new, low), high)
    return type(value)(clipped) if isinstance(value, (int, float)) else clipped


def explore(params: dict, dims: dict, mutable: list, rng: np.random.RandomState, *,
            resample_probability: float, perturbation_factors) -> dict:
    """PBT's explore step: perturb or resample each mutable parameter.

    Categoricals are always resampled; numbers are resampled with probability
    ``resample_probability``, else multiplied by a factor drawn from
    ``perturbation_factors`` (so a log prior moves by equal ratios), rounded for
    integers and clipped to the bounds.
    """
    new = dict(params)
    for name in mutable:
        dim = dims.get(name)
        if dim is None or isinstance(dim, Constant):
            continue
        if isinstance(dim, Categorical) or rng.uniform() < resample_probability:
            new[name] = dim.sample(1, rng)[0]
        else:
            factor = perturbation_factors[rng.randint(len(perturbation_factors))]
            new[name] = _perturb(dim, params[name], factor)
    return new


def initial_population(space, n: int, rng: np.random.RandomState, design: str) -> list[dict]:
    """The ``n`` starting points: independent samples (``"random"``) or a
    scrambled Sobol design that spreads them over the space (``"sobol"``)."""
    if design == "sobol":
        return space.from_unit(space.sobol(n, rng))
    return space.sample(n, rng)


def tournament_donors(scores, rng: np.random.RandomState) -> dict[int, int]:
    """Binary tournament (Jaderberg et al. 2017): each member draws one other
    member uniformly and copies it when the other's score is strictly higher.

    Returns ``{member: donor}``; NaN scores lose to every finite score. A donor is
    never itself a copier in the same round (the copier would otherwise hand on
    models it is replacing), so a member that is copied keeps its own models.
    """
    scores = np.nan_to_num(np.asarray(scores, dtype=float), nan=-np.inf)
    n = len(scores)
    donors = {}
    for member in rng.permutation(n):
        other = rng.randint(n - 1)
        other += other >= member  # uniform over the other members
        if scores[other] > scores[member] and other not in donors \
                and member not in donors.values():
            donors[int(member)] = int(other)
    return donors


def _numeric_mutable(dims: dict, mutable: list) -> list[str]:
    """The mutable names that one numeric column of the unit cube encodes."""
    return [n for n in mutable if isinstance(dims.get(n), (Real, Integer, ScipyDimension))]


def bandit_explore(params: dict, dims: dict, mutable: list, observations, step: float,
                   rng: np.random.RandomState, *, kappa: float = 2.0,
                   n_candidates: int = 512) -> dict:
    """PB2's explore step (Parker-Holder et al. 2020): a GP-bandit choice.

    A GP models the score change over one interval as a function of
    ``(step, mutable numbers in the unit cube)`` from ``observations`` (rows
    ``[step, *unit_params, change]``, all in ``[0, 1]`` but the change); the
    numeric mutable parameters get the candidate that maximizes the upper
    confidence bound ``mean + kappa * std`` at ``step`` (in ``[0, 1]``), among
    ``n_candidates`` uniform points and the donor's own point. Categorical
    mutable parameters are resampled. With fewer than 3 observations the
    numbers are resampled uniformly, as with no model.
    """
    from .bayes._gp import GaussianProcess, standardize

    names = _numeric_mutable(dims, mutable)
    new = dict(params)
    for name in mutable:
        if isinstance(dims.get(name), Categorical):
            new[name] = dims[name].sample(1, rng)[0]
    if not names:
        return new
    if len(observations) < 3:
        chosen = rng.uniform(size=len(names))
    else:
        data = np.asarray(observations, dtype=float)
        y, _, _ = standardize(data[:, -1])
        gp = GaussianProcess(1 + len(names), rng).fit(data[:, :-1], y)
        own = np.array([[dims[n].to_unit([params[n]])[0, 0] for n in names]])
        candidates = np.vstack([own, rng.uniform(size=(n_candidates, len(names)))])
        mean, std = gp.predict(np.column_stack([np.full(len(candidates), step), candidates]))
        chosen = candidates[int(np.argmax(mean + kappa * std))]
    for name, unit in zip(names, chosen):
        new[name] = dims[name].from_unit(np.array([[unit]]))[0]
    return new


class _PopulationSettings:
    """The settings both PBT strategies keep, and the budget they imply."""

    def _set_settings(self, population_size, max_resources, perturbation_interval,
                      mutable_params, quantile_fraction, resample_probability,
                      perturbation_factors, release, initial_design="sobol",
                      exploit="truncation", explore="perturb") -> None:
        self.initial_design = initial_design
        self.exploit = exploit
        self.explore = explore
        # PB2's data: [step / max_resources, *unit mutable numbers, score change]
        self.observations: list[list[float]] = []
        self.population_size = population_size
        self.max_resources = max_resources
        self.interval = perturbation_interval
        self.mutable = list(mutable_params)
        self.quantile_fraction = quantile_fraction
        self.resample_probability = resample_probability
        self.factors = tuple(perturbation_factors)
        self.release = release

    def _explore(self, params: dict) -> dict:
        """New parameters for a member that copies a donor with ``params``."""
        sub = self.space.subspaces[self.space.find_subspace(params)]
        if self.explore == "bandit":
            return bandit_explore(params, sub, self.mutable, self.observations,
                                  self._step_fraction(), self.rng)
        return explore(params, sub, self.mutable, self.rng,
                       resample_probability=self.resample_probability,
                       perturbation_factors=self.factors)

    def _observe(self, params: dict, start: int, change: float) -> None:
        """Record a PB2 observation: ``params`` changed the score by ``change``
        over the interval that started at step ``start``."""
        if self.explore != "bandit" or not np.isfinite(change):
            return
        sub = self.space.subspaces[self.space.find_subspace(params)]
        names = _numeric_mutable(sub, self.mutable)
        self.observations.append([start / self.max_resources]
                                 + [sub[n].to_unit([params[n]])[0, 0] for n in names]
                                 + [change])

    @property
    def max_trials(self) -> int:
        return self.population_size * math.ceil(self.max_resources / self.interval)


class PBTStrategy(_PopulationSettings, BatchStrategy):
    """Ask/tell population-based training (synchronous rounds).

    Round 0 trains ``population_size`` samples of the space for
    ``perturbation_interval`` units. After each round the bottom
    ``quantile_fraction`` of members copy the models of a random member of the top
    quantile (exploit) and perturb its hyperparameters (explore); the others
    continue. Trials carry ``parent`` (the trial whose models they continue) and
    ``resource`` (the cumulative units their models reach).

    Attributes
    ----------
    schedules_ : list of list of (int, dict)
        For each member, ``(step, params)``: the step at which each parameter set
        took effect, including the history inherited when it exploited another.
    scores_ : ndarray of shape (population_size,)
        Latest score of each member.
    """

    def __init__(self, space, rng, *, population_size, max_resources, perturbation_interval,
                 mutable_params, quantile_fraction, resample_probability,
                 perturbation_factors, release=None, initial_design="sobol",
                 exploit="truncation", explore="perturb"):
        super().__init__(space, rng)
        self._set_settings(population_size, max_resources, perturbation_interval,
                           mutable_params, quantile_fraction, resample_probability,
                           perturbation_factors, release, initial_design, exploit, explore)
        self.round = 0
        self.step = 0
        self.schedules_: list[list[tuple[int, dict]]] = []
        self.scores_ = np.full(population_size, np.nan)
        self._last_trial = np.full(population_size, -1)  # trial index per member
        self._params: list[dict] = []
        self._start_scores = np.full(population_size, np.nan)  # score each interval began at


    def ask_batch(self) -> list[Trial]:
        if self.step >= self.max_resources:
            return []
        target = min(self.step + self.interval, self.max_resources)
        if self.round == 0:
            self._params = initial_population(self.space, self.population_size, self.rng,
                                              self.initial_design)
            self.schedules_ = [[(0, dict(p))] for p in self._params]
            parents = [-1] * self.population_size
            continued = [None] * self.population_size
        else:
            parents, continued = self._exploit_and_explore()
        trials = [
            Trial(dict(self._params[m]), resource=target, parent=continued[m],
                  info={"round": self.round, "member": m, "parent": parents[m],
                        "n_resources": target})
            for m in range(self.population_size)
        ]
        self._interval_start, self.step = self.step, target
        return trials

    def _donors(self) -> dict[int, int]:
        """``{member: donor}`` for the members that copy another this round."""
        if self.exploit == "tournament":
            return tournament_donors(self.scores_, self.rng)
        n_swap = max(1, int(self.quantile_fraction * self.population_size))
        # failed members (NaN) rank last; ties keep member order (deterministic)
        order = np.argsort(-np.nan_to_num(self.scores_, nan=-np.inf), kind="stable")
        top, bottom = order[:n_swap], order[-n_swap:]
        return {int(member): int(top[self.rng.randint(len(top))]) for member in bottom}

    def _exploit_and_explore(self) -> tuple[list[int], list[int]]:
        donors = self._donors()
        parents = [-1] * self.population_size
        continued = [int(self._last_trial[m]) for m in range(self.population_size)]
        self._start_scores = self.scores_.copy()
        for member, donor in donors.items():
            new_params = self._explore(self._params[donor])
            self._start_scores[member] = self.scores_[donor]
            parents[member] = donor
            continued[member] = int(self._last_trial[donor])
            self._params[member] = new_params
            # the donor's entries are shared, not deep-copied: a copy of an object
            # value (an estimator) would differ from the original and make the
            # refit replay set it again mid-schedule
            self.schedules_[member] = list(self.schedules_[donor]) + [
                (self.step, dict(new_params))
            ]
        if self.release is not None:
            # the copiers' own models are continued by nobody
            self.release([self._last_trial[m] for m in donors if m not in donors.values()])
        return parents, continued

    def tell_batch(self, trials: list[Trial], scores: np.ndarray) -> None:
        for trial, score in zip(trials, scores):
            member = trial.info["member"]
            self._observe(trial.params, self._interval_start,
                          score - self._start_scores[member])
            self.scores_[member] = score
            self._last_trial[member] = trial.id
        self.round += 1

    def _step_fraction(self) -> float:
        return self.step / self.max_resources


def truncation_quantiles(scores, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the top and of the bottom ``fraction`` of ``scores`` (1-D).

    Each quantile holds ``max(1, int(fraction * n))`` of the ``n >= 2`` scores
    (at most ``n // 2``, so the two never overlap); NaN ranks last and ties keep
    their order (deterministic).
    """
    n = len(scores)
    size = min(max(1, int(fraction * n)), n // 2)
    order = np.argsort(-np.nan_to_num(np.asarray(scores, dtype=float), nan=-np.inf),
                       kind="stable")
    return order[:size], order[n - size:]


@dataclass
class _Member:
    """One member of an asynchronous population.

    ``params`` and ``schedule`` are those of its latest asked trial (running, or
    told when it is idle); ``told_*`` those of its latest told trial, whose models
    a bottom member may copy: they stay in the evaluator until the member's next
    trial is told.
    """

    params: dict
    schedule: list
    running: Trial | None = None
    last_trial: int = -1  # id of the latest told trial; -1 before the first
    progress: int = 0  # units the latest told trial's models reached
    score: float = np.nan
    told_params: dict = field(default_factory=dict)
    told_schedule: list = field(default_factory=list)
    start_step: int = 0  # the step its running trial's models started from
    start_score: float = np.nan  # and their score then


class AsyncPBTStrategy(_PopulationSettings, Strategy):
    """Asynchronous population-based training: no global round.

    Each member has at most one trial running, of ``perturbation_interval``
    units. Members ready to continue (their trial was told) start as workers
    free, the least trained first. A member that starts is ranked against the
    current population, the latest told score of every member still training
    (Jaderberg et al. 2017; Ray Tune's ``PopulationBasedTraining``). In the bottom ``quantile_fraction`` it copies
    the latest told models of a member of the top quantile (exploit; the donor
    keeps its models and continues) and perturbs that member's parameters
    (explore); otherwise it continues its own models. A donor is never less
    trained than the member that copies it, so an exploit may move a member
    forward (it takes the donor's progress) but never repeats training: each
    member trains at most ``ceil(max_resources / perturbation_interval)``
    trials, exactly that many when no exploit moves it forward, and every member
    ends at ``max_resources``.

    Parameters are those of :class:`PBTStrategy`; ``release(trial_ids)`` is called
    with a member's previous trial once its next one is told (no one can copy its
    models any more), so the evaluator must keep parents until released
    (``IncrementalEvaluator(copy_parents=True)``).

    Attributes
    ----------
    schedules_ : list of list of (int, dict)
        For each member, the schedule of its latest trial: ``(step, params)``, the
        step (units of training of the member's models) at which each parameter
        set took effect, including the history inherited at each exploit.
    scores_ : ndarray of shape (population_size,)
        Latest told score of each member (NaN before its first).
    """

    def __init__(self, space, rng, *, population_size, max_resources, perturbation_interval,
                 mutable_params, quantile_fraction, resample_probability,
                 perturbation_factors, release=None, initial_design="sobol",
                 exploit="truncation", explore="perturb"):
        super().__init__(space, rng)
        self._set_settings(population_size, max_resources, perturbation_interval,
                           mutable_params, quantile_fraction, resample_probability,
                           perturbation_factors, release, initial_design, exploit, explore)
        self._members: list[_Member] = []
        self._ready: list[int] = []  # members waiting for a worker, oldest first
        self._running: dict[int, int] = {}  # trial id -> member
        self._step_now = 0  # the step the member being explored starts from

    @property
    def schedules_(self) -> list[list[tuple[int, dict]]]:
        return [member.schedule for member in self._members]

    @property
    def scores_(self) -> np.ndarray:
        scores = [member.score for member in self._members]
        return np.array(scores or [np.nan] * self.population_size, dtype=float)

    def ask(self, n: int | None = None) -> list[Trial]:
        trials = super().ask(n)
        for trial in trials:
            self._members[trial.info["member"]].running = trial
            self._running[trial.id] = trial.info["member"]
        return trials

    def _ask(self, n: int | None) -> list[Trial]:
        if not self._members:
            initial = initial_population(self.space, self.population_size, self.rng,
                                         self.initial_design)
            self._members = [_Member(dict(p), [(0, dict(p))]) for p in initial]
            self._ready.extend(range(self.population_size))
        trials = []
        while self._ready and (n is None or len(trials) < n):
            # the member furthest behind has the most training left: started
            # first, the population ends together instead of one member alone
            index = min(self._ready, key=lambda k: self._members[k].progress)
            self._ready.remove(index)
            trials.append(self._continue(index))
        return trials

    def _continue(self, index: int) -> Trial:
        """The next trial of member ``index``: exploit and explore, or go on."""
        member = self._members[index]
        donor = self._donor_for(index) if member.last_trial >= 0 else None
        if donor is None:  # its own models and params go on
            source, parent_member = member, -1
        else:
            source, parent_member = self._members[donor], donor
            self._step_now = source.progress
            member.params = self._explore(source.told_params)
            # the donor's entries are shared, not deep-copied (see PBTStrategy)
            member.schedule = list(source.told_schedule) + [(source.progress,
                                                             dict(member.params))]
        start = source.progress
        target = min(start + self.interval, self.max_resources)
        member.start_step, member.start_score = start, source.score
        return Trial(dict(member.params), resource=target,
                     parent=None if source.last_trial < 0 else source.last_trial,
                     info={"round": start // self.interval, "member": index,
                           "parent": parent_member, "n_resources": target})

    def _donor_for(self, index: int) -> int | None:
        """A top member whose models ``index`` copies, or None if it is not at the bottom."""
        ranked = [k for k, m in enumerate(self._members)
                  if m.last_trial >= 0 and m.progress < self.max_resources]
        if len(ranked) < 2:
            return None
        top, bottom = truncation_quantiles([self._members[k].score for k in ranked],
                                           self.quantile_fraction)
        progress = self._members[index].progress
        if self.exploit == "tournament":
            others = [k for k in ranked if k != index]
            other = others[self.rng.randint(len(others))]
            better = self._members[other].score > self._members[index].score
            return other if better and self._members[other].progress >= progress else None
        if index not in {ranked[k] for k in bottom}:
            return None
        # a less trained donor would make the member repeat training it has done
        donors = [ranked[k] for k in top if self._members[ranked[k]].progress >= progress]
        if not donors:
            return None
        return donors[self.rng.randint(len(donors))]

    def _step_fraction(self) -> float:
        return self._step_now / self.max_resources

    def tell(self, trial_id: int, score: float) -> None:
        index = self._running.pop(trial_id)
        member = self._members[index]
        trial, member.running = member.running, None
        previous = member.last_trial
        self._observe(trial.params, member.start_step, score - member.start_score)
        member.last_trial, member.progress, member.score = trial_id, trial.resource, float(score)
        member.told_params, member.told_schedule = dict(trial.params), list(member.schedule)
        if previous >= 0 and self.release is not None:
            self.release([previous])
        if member.progress < self.max_resources:
            self._ready.append(index)


class PBTSearchCV(BaseSearchCV):
    """Population-based training with cross-validation.

    A population of ``population_size`` members, each one model per CV fold, is
    trained incrementally (``partial_fit``; one step is one pass over the training
    fold, or one epoch of a skorch net). Every ``perturbation_interval`` steps
    all members are scored on their test folds; the bottom ``quantile_fraction``
    copy the fitted state of a random top member (exploit: weights, and for skorch
    the optimizer state, fold by fold) and perturb its hyperparameters (explore).
    The others continue untouched. The result is a hyperparameter *schedule*.

    Parameters
    ----------
    estimator : estimator object
        Has ``partial_fit`` (SGDClassifier, MLPClassifier, a Pipeline whose last
        step has it) or is a skorch net.
    search_spaces : dict or list of dict
        As in :class:`~skhpo.BayesSearchCV`; members start from the points of
        ``initial_design``.
    population_size : int, default=10
        Number of members.
    max_resources : int, default=20
        Total ``partial_fit`` steps (epochs) per member.
    perturbation_interval : int, default=5
        Steps between exploit/explore rounds.
    mutable_params : list of str, default=None
        Names that may change during training. Default: every numeric
        (Real/Integer) parameter of ``search_spaces``, except skorch's
        ``module__*`` and ``criterion__*``, which re-initialize the network.
    quantile_fraction : float, default=0.25
        Share of the population in the top and in the bottom quantile.
    resample_probability : float, default=0.25
        Probability that an explored number is resampled instead of perturbed.
    perturbation_factors : tuple of float, default=(0.8, 1.2)
        Factors an explored number is multiplied by (``explore="perturb"``).
        Wider factors such as ``(0.5, 2.0)`` gave a higher test accuracy when
        tuning a skorch MLP's ``lr`` and a lower one when tuning
        ``SGDClassifier``'s ``alpha`` and ``eta0`` (``benchmarks/results/pbt_mlp_win.md``).
    initial_design : {"sobol", "random"}, default="sobol"
        How the starting population is drawn: a scrambled Sobol design that
        spreads the members over the space (with ``2**k`` members, each of
        ``2**k`` equal strata of each parameter's unit range gets one), or
        independent samples of ``search_spaces``. A small population leaves
        less of the space uncovered with the design.
    exploit : {"truncation", "tournament"}, default="truncation"
        Which members copy another. ``"truncation"``: the bottom
        ``quantile_fraction`` copy a random member of the top quantile.
        ``"tournament"``: each member meets one other member drawn uniformly and
        copies it when its score is higher (binary tournament [1]_).
    explore : {"perturb", "bandit"}, default="perturb"
        How a copier's mutable parameters change. ``"perturb"``: multiplied by a
        factor of ``perturbation_factors``, or resampled with probability
        ``resample_probability`` (categoricals are always resampled).
        ``"bandit"``: PB2's GP-bandit [2]_: a Gaussian process models the score
        change over one interval from the step and the mutable numbers of every
        interval trained so far, and the copier takes the point of highest
        upper confidence bound among uniform candidates and the donor's own.
    scoring, n_jobs, refit, cv, verbose, pre_dispatch, random_state, \
error_score, return_train_score, callbacks, max_time, checkpoint, \
devices
        As in :class:`~skhpo.BayesSearchCV`.
    asynchronous : bool, default=False
        If False, rounds are synchronous: every member trains its interval, then
        the whole population is ranked, and results are the same for every
        ``n_jobs``. If True, there is no global round: a member is ranked against
        the current population as soon as its interval ends and continues at once,
        so no worker waits for the slowest member (see Notes).

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        One row per trial (one interval of one member), in the order trials
        finished, with extra columns ``member``, ``n_resources`` (steps the row's
        models were trained, inherited steps included), ``round`` (the interval
        index of the row: ``n_resources`` is
        ``min((round + 1) * perturbation_interval, max_resources)``), ``parent``
        (the member whose models were copied at the start of the row, or -1)
        and ``trial_id`` / ``parent_id`` (the trial whose models the row
        continued: the member's own previous one, or the donor's latest). With
        ``asynchronous=False`` there are ``population_size`` rows per round.
    best_params_ : dict
        Final hyperparameters of the best member at ``max_resources``.
    best_index_, best_score_, best_estimator_, scorer_, n_splits_, refit_time_, \
multimetric_
        As in GridSearchCV; ``best_*`` are chosen among the last round's rows.
    best_schedule_ : list of (int, dict)
        The best member's schedule: the step at which each parameter set took
        effect, inherited history included.
    schedules_ : list of list of (int, dict)
        The schedule of every member's last trial: ``(step, params)`` pairs, the
        step counting the training of that member's models (a copied donor's
        steps included).
    mutable_params_ : list of str
        The parameters that were allowed to change.
    resources_used_ : int
        ``partial_fit`` steps trained during the search, all folds together.
    model_transfers_ : list of dict
        One dict per batch that continued models (``partial_fit``, or a
        ``warm_start`` parameter): ``n_models`` (one per candidate and fold),
        ``bytes_sent`` and ``bytes_received``, the pickled model bytes that went to
        and came back from worker processes (0 when the tasks ran in this
        process: ``n_jobs=1`` or the threading backend). Models trained to
        ``max_resources`` are never continued, so they are not sent back.
    devices_ : list of str or None
        The device slots (``devices``, or what ``"auto"`` found); None when
        ``devices=None``.

    See Also
    --------
    skhpo.HyperbandSearchCV : Multi-fidelity search with continued training.

    Notes
    -----
    By default the rounds are synchronous: every member trains
    ``perturbation_interval`` steps, then the population is ranked. A member in
    the bottom quantile picks a donor uniformly from the top quantile; its models
    become deep copies of the donor's (for skorch nets, module and optimizer
    state), then explored
    parameters are set on the live models with ``set_params``. For skorch use
    ``lr`` or ``optimizer__*`` as mutable parameters: they update the live
    optimizer in place.

    With ``asynchronous=True`` (asynchronous PBT [1]_, as Ray Tune's
    ``PopulationBasedTraining`` runs it) each member has at most one interval
    running, and a new one starts whenever a worker frees. When a member's
    interval ends it is ranked against the latest scores of the members still
    training; in the bottom ``quantile_fraction`` it copies the latest models of
    a member of the top quantile picked uniformly (the donor keeps its own and
    goes on) and perturbs that member's parameters. Its models, and its
    ``round``, then continue from the donor's step, which is never behind its
    own: an exploit may move a member ahead but never makes it retrain steps it
    has done. Every member ends at ``max_resources``, after at most
    ``ceil(max_resources / perturbation_interval)`` intervals (fewer when an
    exploit moved it ahead), so ``population_size`` times that is an upper
    bound on the number of trials. A member's latest models stay in memory until
    its next interval ends, as others may copy them meanwhile. Scores of members
    trained for different numbers of steps are compared as they are (a member
    behind usually ranks lower and catches up by copying one ahead).

    With ``refit=True`` the best member's schedule is replayed on the whole
    training data: a fresh model is trained with ``partial_fit``, switching
    parameters at the recorded steps, for ``max_resources`` steps.

    References
    ----------
    .. [1] Jaderberg et al., "Population Based Training of Neural Networks",
       arXiv:1711.09846, 2017.
    .. [2] Parker-Holder, Nguyen and Roberts, "Provably Efficient Online
       Hyperparameter Optimization with Population-Based Bandits", NeurIPS 2020.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import SGDClassifier
    >>> from skhpo import PBTSearchCV, Real
    >>> X, y = load_iris(return_X_y=True)
    >>> search = PBTSearchCV(SGDClassifier(random_state=0),
    ...                      {"alpha": Real(1e-5, 1e-1, prior="log-uniform")},
    ...                      population_size=4, max_resources=6,
    ...                      perturbation_interval=2, random_state=0).fit(X, y)
    >>> len(search.cv_results_["params"])
    12
    """

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "population_size": [Interval(Integral, 2, None, closed="left")],
        "max_resources": [Interval(Integral, 1, None, closed="left")],
        "perturbation_interval": [Interval(Integral, 1, None, closed="left")],
        "mutable_params": [list, None],
        "quantile_fraction": [Interval(RealNumber, 0, 0.5, closed="right")],
        "resample_probability": [Interval(RealNumber, 0, 1, closed="both")],
        "perturbation_factors": [tuple, list],
        "initial_design": [StrOptions({"random", "sobol"})],
        "exploit": [StrOptions({"truncation", "tournament"})],
        "explore": [StrOptions({"perturb", "bandit"})],
    }

    def __init__(
        self,
        estimator,
        search_spaces,
        *,
        population_size=10,
        max_resources=20,
        perturbation_interval=5,
        mutable_params=None,
        quantile_fraction=0.25,
        resample_probability=0.25,
        perturbation_factors=(0.8, 1.2),
        initial_design="sobol",
        exploit="truncation",
        explore="perturb",
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
        self.max_resources = max_resources
        self.perturbation_interval = perturbation_interval
        self.mutable_params = mutable_params
        self.quantile_fraction = quantile_fraction
        self.resample_probability = resample_probability
        self.perturbation_factors = perturbation_factors
        self.initial_design = initial_design
        self.exploit = exploit
        self.explore = explore

    def _check_search_parameters(self, space) -> None:
        name = type(self.estimator).__name__
        skorch = is_skorch_net(self.estimator)
        if not skorch and not has_partial_fit(self.estimator):
            raise TypeError(
                f"PBTSearchCV trains members incrementally, but {name} has no "
                "partial_fit (nor is it a skorch net); use an estimator with "
                "partial_fit such as SGDClassifier or MLPClassifier."
            )
        if self.perturbation_interval > self.max_resources:
            raise ValueError(
                f"perturbation_interval={self.perturbation_interval} is larger than "
                f"max_resources={self.max_resources}; lower perturbation_interval or "
                "raise max_resources."
            )
        factors = self.perturbation_factors
        if not factors or not all(isinstance(f, RealNumber) and f > 0 for f in factors):
            raise ValueError(
                f"perturbation_factors={factors!r} must be a non-empty tuple of "
                "positive numbers, e.g. (0.8, 1.2)."
            )
        self.mutable_params_ = self._check_mutable_params(space)
        if skorch:
            warn_about_search_pitfalls(self.estimator, "PBTSearchCV")

    def _check_mutable_params(self, space) -> list[str]:
        numeric = (Real, Integer, ScipyDimension)
        if self.mutable_params is None:
            return [
                n for n in space.names
                if not n.startswith(_REINITIALIZING_PREFIXES)
                and any(isinstance(sub.get(n), numeric) for sub in space.subspaces)
            ]
        for name in self.mutable_params:
            if name not in space.names:
                raise ValueError(
                    f"mutable_params names {name!r}, which is not in search_spaces "
                    f"(names: {space.names}); add it to search_spaces or drop it."
                )
            if name.startswith(_REINITIALIZING_PREFIXES):
                raise ValueError(
                    f"mutable_params names {name!r}: changing a skorch 'module__' or "
                    "'criterion__' parameter re-initializes the network's weights, "
                    "so it cannot change during training; keep it in search_spaces "
                    "only (fixed per member) and mutate lr or optimizer__* instead."
                )
        return list(self.mutable_params)

    def _make_evaluator(self, context):
        # asynchronous: a donor keeps its models (it continues while others copy
        # them) until the strategy releases them
        self._evaluator = IncrementalEvaluator(context, final_resource=self.max_resources,
                                               copy_parents=self.asynchronous)
        return self._evaluator

    def _make_strategy(self, space, rng):
        strategy_class = AsyncPBTStrategy if self.asynchronous else PBTStrategy
        self._strategy = strategy_class(
            space,
            rng,
            population_size=self.population_size,
            max_resources=self.max_resources,
            perturbation_interval=self.perturbation_interval,
            mutable_params=self.mutable_params_,
            quantile_fraction=self.quantile_fraction,
            resample_probability=self.resample_probability,
            perturbation_factors=tuple(self.perturbation_factors),
            release=self._evaluator.release,
            initial_design=self.initial_design,
            exploit=self.exploit,
            explore=self.explore,
        )
        return self._strategy

    def _run_search(self, space, evaluator, *, callback_ctx=None, refit_metric="score"):
        try:
            history = super()._run_search(space, evaluator, callback_ctx=callback_ctx,
                                          refit_metric=refit_metric)
        finally:
            evaluator.release_all()
            del self._evaluator
        self.schedules_ = self._strategy.schedules_
        self.resources_used_ = evaluator.resources_used
        self.model_transfers_ = evaluator.transfers
        self._row_members = [t.info["member"] for t in history.trials]
        del self._strategy
        return history

    _select_best_index = staticmethod(select_best_at_largest_resource)

    @property
    def best_schedule_(self) -> list[tuple[int, dict]]:
        """The best member's schedule: ``(step, params)`` pairs, inherited included."""
        return self.schedules_[self._row_members[self.best_index_]]

    def _refit_best_estimator(self, estimator, X, y, fit_params) -> None:
        """Replay the best member's schedule on all the data with ``partial_fit``."""
        classes = classes_for(estimator, y)
        steps = [s for s, _ in self.best_schedule_] + [self.max_resources]
        previous: dict = {}
        for k, (start, params) in enumerate(self.best_schedule_):
            # only what changed: setting a skorch module__* param, even to its
            # current value, re-initializes the weights trained so far
            # the schedule holds the user's own objects (estimators as categorical
            # values): set clones, as GridSearchCV does, never the objects themselves
            estimator.set_params(**clone(changed_params(previous, params), safe=False))
            previous = params
            train_partial_fit(estimator, X, y, steps[k + 1] - start, fresh=k == 0,
                              classes=classes, fit_params=fit_params)
