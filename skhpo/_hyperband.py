"""HyperbandSearchCV: brackets of successive halving on a budget.

Notation (Li et al., JMLR 2018, Algorithm 1)
--------------------------------------------
``R`` = ``max_resources / min_resources`` (the largest budget in units of the
smallest); ``eta`` = ``factor``; ``s_max = floor(log_eta(R))``; bracket ``s`` in
``s_max, ..., 0`` starts ``n = ceil((s_max + 1) / (s + 1) * eta**s)`` candidates
at ``r = max_resources * eta**-s``; its rung ``i`` in ``0..s`` evaluates
``n_i = floor(n * eta**-i)`` candidates at ``r_i = r * eta**i`` and promotes its
top ``n_{i+1}`` (``= floor(n_i / eta)`` for an integer ``eta``). Resources are
rounded to integers; the last rung of every bracket is ``max_resources``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Callable

import numpy as np

from ._base import BaseSearchCV, as_indices, select_best_at_largest_resource
from ._evaluate import FromScratchEvaluator
from ._incremental import (
    IncrementalEvaluator,
    WarmStartTrainer,
    classes_for,
    final_estimator,
    has_partial_fit,
    train_partial_fit,
)
from ._sklearn_compat import Interval, StrOptions
from ._strategy import BatchStrategy, Trial
from .bayes._gp import GaussianProcess
from .bayes._multifidelity import (
    N_CENTRES,
    at_full_resource,
    candidate_pool,
    multifidelity_training_data,
    propose_at_full_resource,
)
from .bayes._strategy import N_RESTARTS
from .integration._skorch import is_skorch_net, warn_about_search_pitfalls

__all__ = ["AsyncHyperbandStrategy", "HyperbandSearchCV", "HyperbandStrategy", "hyperband_schedule"]

_TOL = 1e-9  # float slack for floor/ceil/log of products of a float factor
DEFAULT_MAX_EPOCHS = 81  # max_resources="auto" for partial_fit without max_epochs
RANDOM_FRACTION = 1 / 3  # BOHB's share of random candidates when sampler="bayes"


def hyperband_schedule(max_resources: int, min_resources: int = 1,
                       factor: float = 3) -> list[list[tuple[int, int]]]:
    """The (n_i, r_i) rungs of every bracket of one Hyperband iteration.

    Parameters
    ----------
    max_resources, min_resources : int
        Largest and smallest budget of one evaluation; ``R = max / min``.
    factor : float
        ``eta`` > 1.

    Returns
    -------
    schedule : list of list of (int, int)
        ``schedule[k]`` is bracket ``s = s_max - k``: ``[(n_0, r_0), ..., (n_s,
        r_s)]`` with ``r_s = max_resources``. Resources are rounded to integers.

    Examples
    --------
    >>> [rungs[0] for rungs in hyperband_schedule(81, 1, 3)]
    [(81, 1), (34, 3), (15, 9), (8, 27), (5, 81)]
    """
    s_max = 0
    while min_resources * factor ** (s_max + 1) <= max_resources * (1 + _TOL):
        s_max += 1
    schedule = []
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) / (s + 1) * factor**s - _TOL)
        rungs = []
        for i in range(s + 1):
            n_i = math.floor(n * factor**-i + _TOL)
            r_i = max(min_resources, round(max_resources * factor ** (i - s)))
            rungs.append((n_i, int(r_i)))
        schedule.append(rungs)
    return schedule


@dataclass
class _Bracket:
    """State of one bracket: the rung being evaluated and its trials."""

    index: int
    rungs: list[tuple[int, int]]
    rung: int = -1  # -1: not started
    waiting: bool = False
    params: list[dict] = field(default_factory=list)  # of the rung's candidates
    parents: list = field(default_factory=list)  # trial each candidate continues
    trial_ids: list[int] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.rung >= 0 and not self.params


class HyperbandStrategy(BatchStrategy):
    """Ask/tell Hyperband; independent brackets share batches.

    With ``sampler="random"`` the first rungs of all brackets form the first
    batch, and each later batch holds the next rung of every bracket that is
    still running. With ``sampler="bayes"`` the brackets run one after the
    other, from the most exploratory, as in BOHB (Falkner et al. 2018): a
    bracket starts once the previous one has finished, so that its candidates
    come from a GP fitted on every rung the earlier brackets measured, the
    largest budgets included, with the budget as an input
    (:mod:`skhpo.bayes._multifidelity`).

    Parameters
    ----------
    space, rng
        See :class:`~skhpo._strategy.Strategy`.
    max_resources, min_resources, factor
        See :func:`hyperband_schedule`.
    n_iterations : int, default=1
        Hyperband iterations (all brackets, again).
    sampler : {"random", "bayes"}, default="random"
        How new candidates are drawn.
    resource_param : str or None, default=None
        If set, each trial's params also set this estimator parameter to r_i.
    continue_promoted : bool, default=True
        Whether a promoted candidate continues its own trial (``Trial.parent``).
    release : callable or None, default=None
        Called with the indices of trials whose models are no longer needed
        (eliminated, or finished their bracket).
    """

    def __init__(self, space, rng, *, max_resources, min_resources=1, factor=3,
                 n_iterations=1, sampler="random", resource_param=None,
                 continue_promoted=True, release: Callable | None = None) -> None:
        super().__init__(space, rng)
        self.schedule = hyperband_schedule(max_resources, min_resources, factor)
        self.sampler = sampler
        self.resource_param = resource_param
        self.continue_promoted = continue_promoted
        self.release = release
        self.brackets = [
            _Bracket(index=it * len(self.schedule) + k, rungs=rungs)
            for it in range(n_iterations) for k, rungs in enumerate(self.schedule)
        ]
        self.results: dict[int, list[tuple[dict, float]]] = defaultdict(list)
        self._asked: list[_Bracket] = []

    @property
    def max_trials(self) -> int:
        return sum(n for b in self.brackets for n, _ in b.rungs)

    def ask_batch(self) -> list[Trial]:
        batch: list[Trial] = []
        self._asked = []
        for bracket in self.brackets:
            if bracket.waiting or bracket.finished:
                continue
            if self.sampler == "bayes" and self._asked:
                break  # one bracket at a time: the next one waits for its data
            if bracket.rung < 0:
                bracket.rung = 0
                bracket.params = self._sample(bracket.rungs[0][0])
                bracket.parents = [None] * len(bracket.params)
            batch.extend(self._trials(bracket, first_id=self.n_asked + len(batch)))
            self._asked.append(bracket)
        return batch

    def _trials(self, bracket: _Bracket, first_id: int) -> list[Trial]:
        resource = bracket.rungs[bracket.rung][1]
        info = {"bracket": bracket.index, "iter": bracket.rung, "n_resources": resource}
        extra = {self.resource_param: resource} if self.resource_param else {}
        bracket.waiting = True
        bracket.trial_ids = list(range(first_id, first_id + len(bracket.params)))
        return [
            Trial({**params, **extra} if extra else params, resource=resource,
                  parent=parent if self.continue_promoted else None, info=info)
            for params, parent in zip(bracket.params, bracket.parents)
        ]

    def tell_batch(self, trials: list[Trial], scores: np.ndarray) -> None:
        scores = np.asarray(scores, dtype=float)
        offset = 0
        for bracket in self._asked:
            n = len(bracket.params)
            self._promote(bracket, scores[offset:offset + n])
            offset += n
        self._asked = []

    def _promote(self, bracket: _Bracket, scores: np.ndarray) -> None:
        """Record a rung's scores and keep its top ``n_{i+1}`` finite scores."""
        resource = bracket.rungs[bracket.rung][1]
        self.results[resource].extend(zip(bracket.params, scores))
        bracket.waiting = False
        keep: list[int] = []
        if bracket.rung + 1 < len(bracket.rungs):
            finite = np.flatnonzero(np.isfinite(scores))
            order = finite[np.argsort(-scores[finite], kind="stable")]
            keep = sorted(order[: bracket.rungs[bracket.rung + 1][0]].tolist())
        dropped = [t for i, t in enumerate(bracket.trial_ids) if i not in keep]
        bracket.params = [bracket.params[i] for i in keep]
        bracket.parents = [bracket.trial_ids[i] for i in keep]
        bracket.rung += 1
        if self.release is not None and dropped:
            self.release(dropped)

    def _sample(self, n: int) -> list[dict]:
        """``n`` new candidates: uniform, or a share of them from a GP when asked to."""
        data = self._model_data() if self.sampler == "bayes" else None
        if data is None:  # a finite space gives each bracket distinct candidates
            return self.space.sample(n, self.rng, distinct=True)
        X, y = data
        gp = GaussianProcess(X.shape[1], self.rng, n_restarts=N_RESTARTS).fit(X, y)
        observed = X[:, :-1]
        predicted, _ = gp.predict(at_full_resource(observed))
        centres = observed[np.argsort(-predicted, kind="stable")[:N_CENTRES]]
        pool = candidate_pool(self.space, centres, observed, self.rng)
        picks = propose_at_full_resource(gp, predicted.max(), pool,
                                         n - int(n * RANDOM_FRACTION))
        proposed = self.space.from_unit(pool[picks])
        return proposed + self.space.sample(n - len(proposed), self.rng, distinct=True,
                                            exclude=proposed)

    def _model_data(self) -> tuple[np.ndarray, np.ndarray] | None:
        """:func:`~skhpo.bayes._multifidelity.multifidelity_training_data` of every
        result so far, or None with fewer than ``n_columns + 3`` finite scores (the
        GP has one column more than the encoding, for the resource)."""
        params = [p for results in self.results.values() for p, _ in results]
        scores = np.array([s for results in self.results.values() for _, s in results])
        if np.isfinite(scores).sum() < self.space.n_columns + 3:
            return None
        resources = np.repeat(list(self.results), [len(r) for r in self.results.values()])
        budgets = [r for rungs in self.schedule for _, r in rungs]
        return multifidelity_training_data(self.space.to_unit(params), resources, scores,
                                           min(budgets), max(budgets))


@dataclass
class _Rung:
    """One rung of an asynchronous bracket."""

    resource: int
    cap: int  # trials the rung may hold: n_i of the Hyperband schedule
    members: set = field(default_factory=set)  # trial ids started at this rung
    scores: dict = field(default_factory=dict)  # trial id -> score, once told
    promoted: set = field(default_factory=set)  # trial ids continued one rung up
    released: set = field(default_factory=set)  # trial ids whose models were dropped
    closed: bool = False  # no more promotions from here


def start_order(brackets: list[_Bracket], per_iteration: int) -> list[int]:
    """The order in which asynchronous Hyperband starts its brackets' candidates.

    Iteration by iteration: first the bracket that trains on the full budget from
    the start, whose tasks are the longest (started last, they would run alone at
    the end); then the others from the most aggressive one, which has the longest
    chain of rungs to climb once its first rung is complete. Scheduling a job
    with the longest tail first keeps workers busy to the end: on the engine
    benchmark this raised the median busy fraction at ``n_jobs=8`` from 0.79 to
    0.84 over taking the brackets in turn.

    Examples
    --------
    >>> brackets = [_Bracket(k, rungs) for k, rungs in enumerate(hyperband_schedule(27))]
    >>> start_order(brackets, 4)
    [3, 0, 1, 2]
    """
    def key(b: int) -> tuple:
        bracket = brackets[b]
        return (bracket.index // per_iteration, len(bracket.rungs) > 1, -len(bracket.rungs))
    return sorted(range(len(brackets)), key=key)


class AsyncHyperbandStrategy(HyperbandStrategy):
    """Asynchronous successive halving (ASHA, Li et al. 2020) in Hyperband's brackets.

    Each bracket is a successive-halving ladder with the rungs of
    :func:`hyperband_schedule`. Whenever a worker frees, the first of these is
    started: a promotion, where a trial told at rung ``i`` ranks in the top
    ``1 / factor`` of the scores rung ``i`` has so far (best finite first) and
    rung ``i + 1`` has fewer than its ``n_{i+1}`` trials (highest rungs first);
    else a new candidate at rung 0 of the first bracket in :func:`start_order`
    that has candidates left.
    No rung waits to be full. Once a rung is complete, exactly the top
    ``n_{i+1}`` of it can have been promoted, so the budget is that of
    synchronous Hyperband; promotions made early, on partial rungs, may differ
    from the synchronous ones. A bracket's candidates are drawn when it starts
    (with ``sampler="bayes"``, from the results known then).

    Parameters are those of :class:`HyperbandStrategy`.
    """

    def __init__(self, space, rng, *, factor=3, **kwargs) -> None:
        super().__init__(space, rng, factor=factor, **kwargs)
        self.factor = factor
        self._ladders = [
            [_Rung(resource=r, cap=n) for n, r in bracket.rungs] for bracket in self.brackets
        ]
        self._unstarted: list[list[dict] | None] = [None] * len(self.brackets)
        self._params: dict[int, dict] = {}  # trial id -> candidate params (no resource)
        self._where: dict[int, tuple[int, int]] = {}  # trial id -> (bracket, rung)
        self._start_order = start_order(self.brackets, len(self.schedule))

    def _ask(self, n: int | None) -> list[Trial]:
        trials: list[Trial] = []
        while len(trials) < (n or 1):
            trial = self._promotion(self.n_asked + len(trials)) or self._new_candidate(
                self.n_asked + len(trials))
            if trial is None:
                break
            trials.append(trial)
        return trials

    def _promotion(self, trial_id: int) -> Trial | None:
        for b, ladder in enumerate(self._ladders):
            for i in range(len(ladder) - 2, -1, -1):
                rung, above = ladder[i], ladder[i + 1]
                if rung.closed or len(above.members) >= above.cap:
                    continue
                for parent in self._top(rung):
                    if parent not in rung.promoted:
                        rung.promoted.add(parent)
                        return self._start(trial_id, b, i + 1, self._params[parent],
                                           parent if self.continue_promoted else None)
        return None

    def _top(self, rung: _Rung) -> list[int]:
        """Trial ids of the top ``1 / factor`` of the rung's scores so far."""
        finite = [(score, -t) for t, score in rung.scores.items() if np.isfinite(score)]
        ranked = [-t for _, t in sorted(finite, reverse=True)]  # ties: earlier trial first
        return ranked[: int(len(rung.scores) / self.factor + _TOL)]

    def _new_candidate(self, trial_id: int) -> Trial | None:
        for b in self._start_order:
            if self._unstarted[b] is None:
                self._unstarted[b] = self._sample(self.brackets[b].rungs[0][0])
            if self._unstarted[b]:
                return self._start(trial_id, b, 0, self._unstarted[b].pop(0), None)
        return None

    def _start(self, trial_id: int, b: int, i: int, params: dict, parent) -> Trial:
        rung = self._ladders[b][i]
        rung.members.add(trial_id)
        self._params[trial_id] = params
        self._where[trial_id] = (b, i)
        info = {"bracket": self.brackets[b].index, "iter": i, "n_resources": rung.resource}
        extra = {self.resource_param: rung.resource} if self.resource_param else {}
        return Trial({**params, **extra} if extra else params, resource=rung.resource,
                     parent=parent, info=info)

    def tell(self, trial_id: int, score: float) -> None:
        b, i = self._where.pop(trial_id)
        rung = self._ladders[b][i]
        rung.scores[trial_id] = float(score)
        self.results[rung.resource].append((self._params[trial_id], float(score)))
        self._close_rungs(b)

    def _close_rungs(self, b: int) -> None:
        """Close the rungs of bracket ``b`` that can promote no more; release their
        trials' models (except the promoted ones, which their children continue)."""
        ladder = self._ladders[b]
        for i, (rung, above) in enumerate(zip(ladder[:-1], ladder[1:])):
            if not rung.closed:
                no_newcomers = (self._unstarted[b] == [] if i == 0 else ladder[i - 1].closed)
                complete = no_newcomers and len(rung.scores) == len(rung.members)
                rung.closed = len(above.members) >= above.cap or (
                    complete and set(self._top(rung)) <= rung.promoted)
            if rung.closed and self.release is not None:
                dropped = [t for t in rung.scores if t not in rung.promoted | rung.released]
                rung.released.update(dropped)
                if dropped:
                    self.release(dropped)

    @property
    def max_trials(self) -> int:
        return sum(n for b in self.brackets for n, _ in b.rungs)


class SubsampleEvaluator(FromScratchEvaluator):
    """From-scratch fits on the first ``resource`` samples of a fixed permutation
    of each training fold (so the subsets are nested); test folds stay whole."""

    def set_random_state(self, seed: int) -> None:
        rng = np.random.RandomState(seed)
        self._orders = [rng.permutation(train) for train, _ in self.context.splits]

    def splits_of(self, trial: Trial) -> list[tuple[np.ndarray, np.ndarray]]:
        return [
            (np.sort(order[: trial.resource]), test)
            for order, (_, test) in zip(self._orders, self.context.splits)
        ]


class HyperbandSearchCV(BaseSearchCV):
    """Hyperband: brackets of successive halving, with training that continues.

    Candidates are evaluated on a small budget first (few epochs, few samples,
    few trees) and only the best ``1 / factor`` of each rung go on to a budget
    ``factor`` times larger. Hyperband runs several such brackets, from many
    candidates on a small budget to few candidates on the full budget, so that
    it stays robust when small budgets rank candidates badly. Everything else
    (``cv_results_``, ``best_*``, ``refit``, multi-metric scoring,
    ``error_score``, ``n_jobs``, delegation) behaves as in
    :class:`~sklearn.model_selection.GridSearchCV`.

    Parameters
    ----------
    estimator : estimator object
        The estimator to tune; cloned for every candidate and fold.
    search_spaces : dict or list of dict
        ``parameter name -> domain``: an skhpo :class:`~skhpo.space.Real`,
        :class:`~skhpo.space.Integer` or :class:`~skhpo.space.Categorical`, a
        list of values (categorical, as in GridSearchCV: every non-string
        sequence, tuples and ``range`` included; one value is fixed), a frozen
        scipy.stats distribution, or a fixed value. A list of dicts is a union
        of subspaces. A finite space (lists only) is sampled without
        replacement within a bracket, so a bracket starts at most as many
        candidates as the space has points.
    resource : str, default="auto"
        What the budget counts:

        - ``"partial_fit"``: passes of ``partial_fit`` over the training fold
          (epochs of a skorch net). One model per candidate and fold is kept
          between rungs and a promoted candidate continues from where it
          stopped. For a Pipeline, the steps before the last are fitted once
          per fold and the last step is trained with ``partial_fit``.
          Classifiers get ``classes=np.unique(y)`` on their first call.
        - ``"n_samples"``: a subsample of each training fold (nested across
          rungs, fixed per fold); test folds are never subsampled.
        - an estimator parameter (``"max_iter"``, ``"n_estimators"``,
          ``"max_epochs"``, ``"clf__max_iter"``...): set to the rung's
          budget, and each rung fits from scratch, unless the estimator has
          ``warm_start=True``: then its kept model is fitted again with the
          larger value and continues (right for ensembles, whose parameter is
          a total; SGD and MLP models would train ``max_iter`` *more*
          iterations, so use ``"partial_fit"`` for them).
        - ``"auto"``: ``"partial_fit"`` if the estimator (or a Pipeline's last
          step) has ``partial_fit``, else ``"n_samples"``.
    max_resources : int or "auto", default="auto"
        Budget of one candidate on the last rung (``R`` in units of
        ``min_resources``). ``"auto"``: the smallest training fold for
        ``"n_samples"``; the net's ``max_epochs`` for skorch nets and 81
        otherwise for ``"partial_fit"``; the estimator's value of the
        parameter for a parameter resource.
    min_resources : int or "auto", default="auto"
        Smallest budget of one candidate. ``"auto"``: 1, except for
        ``"n_samples"`` where it is ``2 * n_splits`` (times the number of
        classes for a classifier), as HalvingRandomSearchCV's ``"smallest"``.
    factor : float, default=3
        ``eta``: each rung keeps ``floor(n_i / factor)`` candidates and gives
        them ``factor`` times the budget.
    hyperband_iterations : int, default=1
        How many times all brackets are run.
    sampler : {"random", "bayes"}, default="random"
        How new candidates are drawn. ``"bayes"`` (BOHB-like): the brackets
        run one after the other, from the most exploratory, and after the
        first bracket two thirds of each new bracket's candidates maximize
        the expected improvement, at ``max_resources``, of a Gaussian process
        fitted on the results of every rung so far, with the log budget as an
        extra input (multi-fidelity, as in FABOLAS [3]_); one third are
        uniform. The cheap rungs hold most of the results, and the budget
        input lets the process tell how the scores change with the budget.
        The process needs ``n_columns + 3`` finite scores. With one iteration
        of ``max_resources=81`` and ``factor=3``, 43 of the 143 new candidates
        are model-based (15 of 49 for ``max_resources=27``).
        With ``asynchronous=True`` a bracket's candidates are drawn when it
        starts, from the results known then.
    scoring : str, callable, list, tuple or dict, default=None
        As in GridSearchCV. Promotion uses the ``refit`` metric (or the first).
    n_jobs : int, default=None
        Parallel jobs (joblib). All (candidate, fold) tasks of a batch run in
        parallel, and a batch holds the current rung of every running bracket
        (of the one running bracket with ``sampler="bayes"``).
    refit : bool, str or callable, default=True
        As in GridSearchCV. With ``"partial_fit"`` the best candidate is
        trained on all the data by ``partial_fit`` for its ``n_resources``
        passes; with a parameter resource, the parameter is part of
        ``best_params_``; with ``"n_samples"`` it is fitted on all samples.
    cv : int, cross-validation generator or iterable, default=None
        As in GridSearchCV. The folds are split once per ``fit``, so every
        rung and bracket compares candidates on the same data.
    verbose : int, default=0
        Verbosity.
    pre_dispatch : int or str, default="2*n_jobs"
        As in GridSearchCV.
    random_state : int, RandomState instance or None, default=None
        Seeds the candidates, the subsamples and the GP. With an int,
        ``cv_results_`` (times aside) does not depend on ``n_jobs``, provided
        the estimator is itself seeded.
    error_score : "raise" or float, default=np.nan
        Score of a failed fit or ``partial_fit``; the model is dropped and the
        candidate is not promoted.
    return_train_score : bool, default=False
        As in GridSearchCV.
    callbacks : callable or list of callables, default=None
        Called after each batch (see :mod:`skhpo.callbacks`); returning True
        stops the search.
    max_time : float, default=None
        Seconds after which no new batch is started.
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
        If False, trials run in batches and each batch is learned from once it
        is all done: results are the same for every ``n_jobs`` and backend. If
        True, a new trial starts as soon as a worker frees, chosen with every
        result known at that moment, and results depend on timing.
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

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        One row per (candidate, rung), as in HalvingRandomSearchCV, with the
        GridSearchCV keys plus ``bracket``, ``iter`` (the rung within the
        bracket), ``n_resources`` (the rung's budget) and ``iteration`` (the
        batch).
    best_estimator_, best_score_, best_params_, best_index_, scorer_, \
n_splits_, refit_time_, multimetric_, classes_, n_features_in_, \
feature_names_in_
        As in GridSearchCV, except that ``best_*`` are chosen among the rows
        evaluated at the largest budget (unless ``refit`` is a callable).
    resource_ : str
        The resource used (``"auto"`` resolved).
    max_resources_, min_resources_ : int
        The budgets used (``"auto"`` resolved).
    n_candidates_ : list of list of int
        ``n_candidates_[b][i]``: candidates evaluated at rung ``i`` of bracket
        ``b``.
    n_resources_ : list of list of int
        ``n_resources_[b][i]``: the budget of rung ``i`` of bracket ``b``.
    resources_used_ : int
        Resource units spent by the search, all folds together (refit
        excluded): passes or epochs for ``"partial_fit"``, samples for
        ``"n_samples"``, parameter units for a parameter resource.
    n_iterations_ : int
        Number of batches evaluated.
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
    sklearn.model_selection.HalvingRandomSearchCV : One bracket; every rung
        refits from scratch.
    skhpo.BayesSearchCV : Bayesian optimization at full budget.

    Notes
    -----
    Symbols of Li et al. [1]_: ``eta`` is ``factor``, ``R`` is
    ``max_resources_ / min_resources_``, bracket ``s`` (``s_max`` down to 0,
    ``s_max = floor(log_eta(R))``) starts ``n = ceil((s_max + 1) / (s + 1) *
    eta**s)`` candidates at ``r = max_resources_ * eta**-s``, and its rung ``i``
    evaluates ``n_i = floor(n * eta**-i)`` candidates with ``r_i = r * eta**i``
    (``n_resources``), keeping the top ``n_{i+1}`` (``floor(n_i / eta)`` for an
    integer ``eta``). For ``R = 81``,
    ``eta = 3``:

    ======  ==========  ==========  ==========  ==========  ==========
    rung i  s=4         s=3         s=2         s=1         s=0
    ======  ==========  ==========  ==========  ==========  ==========
    0       81 x 1      34 x 3      15 x 9      8 x 27      5 x 81
    1       27 x 3      11 x 9      5 x 27      2 x 81
    2       9 x 9       3 x 27      1 x 81
    3       3 x 27      1 x 81
    4       1 x 81
    ======  ==========  ==========  ==========  ==========  ==========

    Budget per fold and iteration: ``sum_s sum_i n_i * (r_i - r_{i-1})`` when
    promoted candidates continue (``"partial_fit"``, ``warm_start``), with
    ``r_{-1} = 0``; 1,581 epochs in the table above, against
    ``sum_s sum_i n_i * r_i`` = 2,025 when every rung restarts.

    Unlike dask-ml's HyperbandSearchCV, the folds are real cross-validation
    folds shared by all brackets, models are never copied between calls, and
    ``refit`` retrains the best candidate on all the data.

    skorch nets: one unit is one epoch whatever ``max_epochs`` (it is set to
    the rung's increment for one ``partial_fit`` call), and the history grows
    across rungs. A net's ``train_split`` holds out part of each training fold
    at every call, and ``EarlyStopping``'s patience restarts at every call:
    both are warned about (:class:`~skhpo.exceptions.SkhpoWarning`); pass
    ``train_split=None`` and leave early stopping to the rungs.

    References
    ----------
    .. [1] Li, Jamieson, DeSalvo, Rostamizadeh, Talwalkar, "Hyperband: A Novel
       Bandit-Based Approach to Hyperparameter Optimization", JMLR 18(185), 2018.
    .. [2] Falkner, Klein, Hutter, "BOHB: Robust and Efficient Hyperparameter
       Optimization at Scale", ICML 2018.
    .. [3] Klein, Falkner, Bartels, Hennig, Hutter, "Fast Bayesian Optimization
       of Machine Learning Hyperparameters on Large Datasets", AISTATS 2017.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import SGDClassifier
    >>> from skhpo import HyperbandSearchCV, Real
    >>> X, y = load_iris(return_X_y=True)
    >>> search = HyperbandSearchCV(
    ...     SGDClassifier(random_state=0),
    ...     {"alpha": Real(1e-5, 1e-1, prior="log-uniform")},
    ...     max_resources=9, random_state=0).fit(X, y)
    >>> search.resource_, search.n_candidates_
    ('partial_fit', [[9, 3, 1], [5, 1], [3]])
    >>> search.resources_used_  # (9 + 3*2 + 1*6 + 5*3 + 1*6 + 3*9) epochs x 5 folds
    345
    """

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "resource": [str],
        "max_resources": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "min_resources": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "factor": [Interval(Real, 1, None, closed="neither")],
        "hyperband_iterations": [Interval(Integral, 1, None, closed="left")],
        "sampler": [StrOptions({"random", "bayes"})],
    }

    def __init__(
        self,
        estimator,
        search_spaces,
        *,
        resource="auto",
        max_resources="auto",
        min_resources="auto",
        factor=3,
        hyperband_iterations=1,
        sampler="random",
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
        self.resource = resource
        self.max_resources = max_resources
        self.min_resources = min_resources
        self.factor = factor
        self.hyperband_iterations = hyperband_iterations
        self.sampler = sampler

    # -- validation -----------------------------------------------------------

    def _check_search_parameters(self, space) -> None:
        estimator, name = self.estimator, type(self.estimator).__name__
        resource = self.resource
        if resource == "auto":
            resource = "partial_fit" if has_partial_fit(estimator) else "n_samples"
        if resource == "partial_fit":
            if not has_partial_fit(estimator):
                raise TypeError(
                    f"resource='partial_fit' needs an estimator with partial_fit (or a "
                    f"Pipeline whose last step has it); {name} has none. Use "
                    "resource='n_samples' or an estimator parameter such as 'max_iter'."
                )
            if is_skorch_net(final_estimator(estimator)):
                warn_about_search_pitfalls(final_estimator(estimator), type(self).__name__)
        elif resource != "n_samples":
            params = estimator.get_params(deep=True)
            if resource not in params:
                raise ValueError(
                    f"resource={resource!r} is not 'auto', 'n_samples', 'partial_fit' "
                    f"or a parameter of {name}; its parameters are {sorted(params)}."
                )
            if any(resource in sub for sub in space.subspaces):
                raise ValueError(
                    f"resource={resource!r} is also in search_spaces; the resource "
                    "is set by the search, so remove it from search_spaces."
                )
        self.resource_ = resource

    def _check_input_parameters(self, X, y, split_params) -> None:
        if self.resource_ == "n_samples":
            min_resources, max_resources = self._sample_budgets(X, y, split_params)
        else:
            max_resources = self.max_resources
            if max_resources == "auto":
                max_resources = self._auto_max_resources()
            min_resources = 1 if self.min_resources == "auto" else self.min_resources
        if min_resources > max_resources:
            raise ValueError(
                f"min_resources_={min_resources} is greater than max_resources_="
                f"{max_resources}; lower min_resources or raise max_resources."
            )
        self.min_resources_, self.max_resources_ = int(min_resources), int(max_resources)

    def _sample_budgets(self, X, y, split_params) -> tuple[int, int]:
        cv = self._checked_cv_orig
        sizes = [len(as_indices(train)) for train, _ in cv.split(X, y, **split_params)]
        smallest = min(sizes)
        max_resources = smallest if self.max_resources == "auto" else self.max_resources
        if max_resources > smallest:
            raise ValueError(
                f"max_resources={max_resources} is greater than {smallest}, the size "
                f"of the smallest training fold ({len(sizes)} folds of {len(X)} "
                "samples); with resource='n_samples' lower max_resources or use "
                "max_resources='auto'."
            )
        min_resources = self.min_resources
        if min_resources == "auto":
            classes = classes_for(self.estimator, y)
            n_classes = 1 if classes is None else len(classes)
            min_resources = min(2 * len(sizes) * n_classes, max_resources)
        return min_resources, max_resources

    def _auto_max_resources(self) -> int:
        if self.resource_ == "partial_fit":
            max_epochs = getattr(final_estimator(self.estimator), "max_epochs", None)
            return max_epochs if isinstance(max_epochs, Integral) else DEFAULT_MAX_EPOCHS
        value = self.estimator.get_params(deep=True)[self.resource_]
        if not isinstance(value, Integral) or value < 1:
            raise ValueError(
                f"max_resources='auto' takes the estimator's {self.resource_}="
                f"{value!r}, which is not a positive integer; give max_resources."
            )
        return int(value)

    def _warm_start(self) -> bool:
        prefix = self.resource_.rpartition("__")[0]
        key = f"{prefix}__warm_start" if prefix else "warm_start"
        return self.estimator.get_params(deep=True).get(key) is True

    # -- search ---------------------------------------------------------------

    def _make_evaluator(self, context):
        if self.resource_ == "partial_fit":
            return IncrementalEvaluator(context, final_resource=self.max_resources_)
        if self.resource_ == "n_samples":
            return SubsampleEvaluator(context)
        if self._warm_start():
            return IncrementalEvaluator(context, WarmStartTrainer(),
                                        final_resource=self.max_resources_)
        return FromScratchEvaluator(context)

    def _make_strategy(self, space, rng):
        evaluator = self._evaluator
        if isinstance(evaluator, SubsampleEvaluator):
            evaluator.set_random_state(rng.randint(np.iinfo(np.int32).max))
        incremental = isinstance(evaluator, IncrementalEvaluator)
        strategy = AsyncHyperbandStrategy if self.asynchronous else HyperbandStrategy
        return strategy(
            space,
            rng,
            max_resources=self.max_resources_,
            min_resources=self.min_resources_,
            factor=self.factor,
            n_iterations=self.hyperband_iterations,
            sampler=self.sampler,
            resource_param=self.resource_ if self.resource_ not in (
                "partial_fit", "n_samples") else None,
            continue_promoted=incremental,
            release=evaluator.release if incremental else None,
        )

    def _run_search(self, space, evaluator, *, callback_ctx=None, refit_metric="score"):
        self._evaluator = evaluator  # read by _make_strategy
        try:
            history = super()._run_search(space, evaluator, callback_ctx=callback_ctx,
                                          refit_metric=refit_metric)
        finally:
            if isinstance(evaluator, IncrementalEvaluator):
                evaluator.release_all()  # a stopped search leaves live models
            del self._evaluator
        self.model_transfers_ = getattr(evaluator, "transfers", [])
        self._set_budget_attributes(history.trials)
        return history

    def _set_budget_attributes(self, trials: list[Trial]) -> None:
        by_id = {trial.id: trial for trial in trials}
        rungs: dict[int, dict[int, list[Trial]]] = defaultdict(lambda: defaultdict(list))
        for trial in trials:
            rungs[trial.info["bracket"]][trial.info["iter"]].append(trial)
        brackets = [rungs[b] for b in sorted(rungs)]
        self.n_candidates_ = [[len(r[i]) for i in sorted(r)] for r in brackets]
        self.n_resources_ = [[r[i][0].resource for i in sorted(r)] for r in brackets]
        spent = sum(
            t.resource - (0 if t.parent is None else by_id[t.parent].resource)
            for t in trials
        )
        self.resources_used_ = int(spent * self.n_splits_)
        self._row_resources = [t.resource for t in trials]

    _select_best_index = staticmethod(select_best_at_largest_resource)

    def _refit_best_estimator(self, estimator, X, y, fit_params) -> None:
        """With ``"partial_fit"``, the best row's ``n_resources`` passes on all data."""
        if self.resource_ != "partial_fit":
            super()._refit_best_estimator(estimator, X, y, fit_params)
            return
        train_partial_fit(estimator, X, y, self._row_resources[self.best_index_],
                          fresh=True, classes=classes_for(estimator, y),
                          fit_params=fit_params)
