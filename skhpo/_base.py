"""The shared search core: parameters, validation, the ask/tell loop and refit.

Every skhpo searcher subclasses :class:`BaseSearchCV` and writes only its
constructor, its parameter constraints and ``_make_strategy``. Scoring, ranking,
``best_*``, refit, multi-metric, ``error_score`` and method delegation come from
scikit-learn's ``BaseSearchCV``; this module replaces its ``fit`` so that

* the folds are split once per ``fit`` and shared by every batch;
* a pluggable evaluator may keep fitted models between batches (Hyperband on
  ``partial_fit``, PBT), which scikit-learn's ``evaluate_candidates`` cannot;
* one random state, callbacks and ``max_time`` are handled in one place.
"""

from __future__ import annotations

import copy
import itertools
import math
import numbers
import os
import time
import warnings
from abc import abstractmethod
from typing import Any

import joblib
import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.validation import indexable

from ._devices import DeviceSlots, check_devices, move_to_device, resolve_devices
from ._evaluate import EvaluationContext, Evaluator, FromScratchEvaluator
from ._executor import make_executor
from ._history import SearchHistory
from ._loop import SearchLoop, load_checkpoint
from ._sklearn_compat import (
    NULL_CALLBACK_CONTEXT,
    Interval,
    SklearnBaseSearchCV,
    StrOptions,
    _check_method_params,
    _fit_context,
    _insert_error_scores,
    _MultimetricScorer,
    _warn_or_raise_about_fit_failures,
    init_callback_context,
    sklearn_callbacks_of,
)
from ._strategy import Strategy, Trial
from .callbacks import SearchCallback
from .exceptions import SearchSpaceError, SkhpoWarning
from .space import Space

__all__ = [
    "BaseSearchCV",
    "as_indices",
    "check_parameter_names",
    "select_best_at_largest_resource",
]


class BaseSearchCV(SklearnBaseSearchCV):
    """Base class of skhpo searchers (not for direct use).

    Subclasses implement :meth:`_make_strategy` and may override
    :meth:`_make_evaluator`, :meth:`_check_search_parameters` and
    :meth:`_refit_best_estimator`.
    """

    _parameter_constraints: dict = {
        **SklearnBaseSearchCV._parameter_constraints,
        "search_spaces": [dict, list],
        "random_state": ["random_state"],
        "callbacks": [callable, list, None],
        "max_time": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "checkpoint": [str, os.PathLike, None],
        "asynchronous": ["boolean"],
        "devices": [StrOptions({"auto"}), list, None],
    }

    @abstractmethod
    def __init__(
        self,
        estimator,
        search_spaces,
        *,
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
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )
        self.search_spaces = search_spaces
        self.random_state = random_state
        self.callbacks = callbacks
        self.max_time = max_time
        self.checkpoint = checkpoint
        self.asynchronous = asynchronous
        self.devices = devices

    # Set during fit only; never pickled (an evaluator holds the joblib pool).
    _TRANSIENT_ATTRIBUTES = ("_evaluator", "_strategy", "_executor", "_fingerprint",
                             "_device_slots")

    def __getstate__(self):
        state = super().__getstate__()
        return {k: v for k, v in state.items() if k not in self._TRANSIENT_ATTRIBUTES}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # The search fits the estimator on y as given, so it supports multi-output
        # targets exactly when the estimator does (Ridge takes a column-vector y
        # silently, SGDClassifier warns); scikit-learn's BaseSearchCV leaves False.
        tags.target_tags.multi_output = get_tags(self.estimator).target_tags.multi_output
        return tags

    # -- hooks for subclasses -------------------------------------------------

    @abstractmethod
    def _make_strategy(self, space: Space, rng: np.random.RandomState) -> Strategy:
        """The ask/tell algorithm for one ``fit``."""

    def _make_evaluator(self, context: EvaluationContext) -> Evaluator:
        """The evaluator for one ``fit``; default: clone and fit from scratch."""
        return FromScratchEvaluator(context)

    def _adopt_strategy(self, strategy: Strategy) -> None:
        """A resumed search continues ``strategy`` (loaded from the checkpoint)
        instead of the one :meth:`_make_strategy` made; keep references to it."""
        self._strategy = strategy

    def _check_search_parameters(self, space: Space) -> None:
        """Checks of several parameters together, before any model is fitted."""

    def _check_input_parameters(self, X, y, split_params) -> None:
        """Checks that need the data, before any model is fitted.

        Defined here because scikit-learn's ``BaseSearchCV`` has it only from 1.9.
        """

    def _refit_best_estimator(self, estimator, X, y, fit_params) -> None:
        """Fit ``estimator`` (already set to ``best_params_``) on all the data."""
        if y is not None:
            estimator.fit(X, y, **fit_params)
        else:
            estimator.fit(X, **fit_params)

    # -- validation -----------------------------------------------------------

    def _check_space(self) -> Space:
        space = Space(self.search_spaces)
        check_parameter_names(self.estimator, space)
        callbacks = self._callback_list()
        for cb in callbacks:
            if not callable(cb):
                raise TypeError(
                    f"callbacks must be callables or SearchCallback objects; got "
                    f"{cb!r}."
                )
        return space

    def _callback_list(self) -> list:
        if self.callbacks is None:
            return []
        return list(self.callbacks) if isinstance(self.callbacks, list) else [self.callbacks]

    def _check_checkpoint(self) -> None:
        """A checkpoint path must be writable before the first trial runs."""
        if self.checkpoint is None:
            return
        path = os.fspath(self.checkpoint)
        if not path:
            raise ValueError(
                "checkpoint='' is not a file path. Pass a path such as "
                "checkpoint='search.ckpt' to save the search and resume it, or "
                "checkpoint=None (the default) to keep no checkpoint.")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise ValueError(
                f"checkpoint={path!r}: the folder {folder!r} does not exist. Create it "
                "first, or choose a path in an existing folder.")

    # -- fit ------------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, **params):
        """Run the search, then refit the best candidate on all the data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Target; None for unsupervised learning.
        **params : dict
            Parameters for the estimator's ``fit``, the scorer and the CV splitter
            (``groups``), routed as in :class:`~sklearn.model_selection.GridSearchCV`.

        Returns
        -------
        self : object
            The fitted search.
        """
        space = self._check_space()
        device_param = check_devices(self.devices, self.estimator,
                                     {name for sub in space.subspaces for name in sub})
        self._check_search_parameters(space)
        self._check_checkpoint()
        scorers, refit_metric = self._get_scorers()
        X, y = indexable(X, y)
        params = _check_method_params(X, params=params)
        routed_params = self._get_routed_params_for_fit(params)
        sample_weight = params.get("sample_weight")
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        root_ctx = init_callback_context(
            self, max_subtasks=1 + (self.refit is not False)
        ).call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)

        self._checked_cv_orig = check_cv(
            self.cv, y, classifier=is_classifier(self.estimator)
        )
        split_params = routed_params.splitter.split
        splits = [
            (as_indices(train), as_indices(test))
            for train, test in self._checked_cv_orig.split(X, y, **split_params)
        ]
        _check_splits(splits, self._checked_cv_orig.get_n_splits(X, y, **split_params))
        self._check_input_parameters(X=X, y=y, split_params=split_params)
        self.n_splits_ = len(splits)
        base_estimator = clone(self.estimator)

        executor = make_executor(self.n_jobs, self.pre_dispatch)
        self.devices_ = resolve_devices(self.devices, executor.n_workers)
        try:
            context = EvaluationContext(
                estimator=base_estimator,
                X=X,
                y=y,
                splits=splits,
                scorers=scorers,
                fit_params=routed_params.estimator.fit,
                score_params=routed_params.scorer.score,
                return_train_score=self.return_train_score,
                error_score=self.error_score,
                verbose=self.verbose,
                caller=self._caller_for_workers(),
                X_task=executor.share(X),
                y_task=executor.share(y),
            )
            self._executor = executor
            self._device_slots = (None if self.devices_ is None else
                                  DeviceSlots(self.devices_, device_param, executor.n_workers))
            self._fingerprint = self._search_fingerprint(X, y, splits, params)
            history = self._run_search(
                space, self._make_evaluator(context), callback_ctx=root_ctx,
                refit_metric=refit_metric,
            )
        finally:
            executor.shutdown()
            for name in ("_executor", "_fingerprint", "_device_slots"):
                self.__dict__.pop(name, None)

        if not history.out:
            raise ValueError(
                "No fits were performed: the search proposed no candidate (was "
                "max_time too small?)."
            )
        _warn_or_raise_about_fit_failures(history.out, self.error_score)
        results = self._format_history(history)
        first_test_score = history.out[0]["test_scores"]
        self.multimetric_ = isinstance(first_test_score, dict)
        if callable(self.scoring) and self.multimetric_:
            self._check_refit_for_multimetric(first_test_score)
            refit_metric = self.refit

        if self.refit or not self.multimetric_:
            self.best_index_ = self._select_best_index(self.refit, refit_metric, results)
            if not callable(self.refit):
                self.best_score_ = results[f"mean_test_{refit_metric}"][self.best_index_]
            self.best_params_ = results["params"][self.best_index_]

        # set before the refit, so that a failing refit loses no result
        self.scorer_ = scorers._scorers if isinstance(scorers, _MultimetricScorer) else scorers
        self.cv_results_ = results
        if self.refit:
            if self.devices_ is not None:  # in this process, on the first device
                move_to_device(base_estimator, device_param, self.devices_[0])
            self._refit(base_estimator, X, y, routed_params, root_ctx, metadata)

        root_ctx.call_on_fit_task_end(estimator=self, X=X, y=y, metadata=metadata)
        return self

    def _caller_for_workers(self):
        """The search as scikit-learn's callback hooks see it in the joblib tasks.

        None when no scikit-learn callback is set (the hooks do not run); the search
        itself when it has no skhpo callbacks (as GridSearchCV passes itself).
        Otherwise a shallow copy without the skhpo ``callbacks`` and without fitted
        attributes: skhpo callbacks run in the main process only and may hold what
        cannot be pickled (an open file, a lock), so nothing of them travels.
        """
        if not sklearn_callbacks_of(self):
            return None
        if self.callbacks is None:
            return self
        caller = copy.copy(self)
        caller.callbacks = None
        for name in list(vars(caller)):
            if name.endswith("_") and not name.startswith("_"):
                delattr(caller, name)
        return caller

    def _refit(self, base_estimator, X, y, routed_params, root_ctx, metadata) -> None:
        self.best_estimator_ = clone(base_estimator).set_params(
            **clone(self.best_params_, safe=False)
        )
        refit_ctx = root_ctx.subcontext(task_name="refit-with-best-params")
        with refit_ctx.propagate_callback_context(self.best_estimator_):
            refit_ctx.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)
            start = time.time()
            try:
                self._refit_best_estimator(
                    self.best_estimator_, X, y, routed_params.estimator.fit
                )
            except Exception as exc:
                if hasattr(exc, "add_note"):  # Python >= 3.11
                    exc.add_note(
                        f"Raised while refitting the best candidate {self.best_params_!r} "
                        "on all the data. cv_results_ and best_params_ of the search are "
                        "kept; refit=False skips the refit."
                    )
                raise
            self.refit_time_ = time.time() - start
        if hasattr(self.best_estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.best_estimator_.feature_names_in_
        refit_ctx.call_on_fit_task_end(estimator=self, X=X, y=y, metadata=metadata)

    def _format_history(self, history: SearchHistory) -> dict:
        if callable(self.scoring):
            _insert_error_scores(history.out, self.error_score)
        return self._format_results(
            [t.params for t in history.trials],
            self.n_splits_,
            history.out,
            history.more_results,
        )

    def _run_search(self, space, evaluator, *, callback_ctx=None, refit_metric="score"):
        """The search shared by every searcher: :class:`~skhpo._loop.SearchLoop`.

        Asks the strategy for trials, evaluates them (every trial x fold a task on
        the executor), tells the strategy the score of the metric that drives the
        search, and calls the callbacks; stops when the strategy has nothing more
        to ask, a callback returns True, or ``max_time`` seconds have passed.
        With ``checkpoint`` set, a saved state of the same search is resumed.
        """
        rng = check_random_state(self.random_state)
        strategy = self._make_strategy(space, rng)
        callbacks = self._callback_list()
        max_trials = strategy.max_trials
        callback_ctx = NULL_CALLBACK_CONTEXT if callback_ctx is None else callback_ctx
        search_ctx = callback_ctx.subcontext(
            task_name="search",
            max_subtasks=None if max_trials is None else max_trials * self.n_splits_,
            sequential_subtasks=False,
        ).call_on_fit_task_begin(estimator=self)
        for cb in callbacks:
            if isinstance(cb, SearchCallback):
                cb.on_search_begin(self)

        progress = _ProgressReport(self, max_trials)

        def after_tell(loop: SearchLoop, trials: list[Trial]) -> bool:
            scores = np.asarray(loop.history.scores, dtype=float)
            progress.batch_done(loop.iteration, trials, scores, loop.metric or "score")
            if not callbacks:
                return False
            return self._stop_requested(callbacks, self._format_history(loop.history),
                                        loop.iteration, scores)

        loop = SearchLoop(
            strategy=strategy,
            evaluator=evaluator,
            executor=self._executor,
            n_splits=self.n_splits_,
            refit_metric=refit_metric,
            asynchronous=self.asynchronous,
            after_tell=after_tell,
            # scikit-learn's context tree travels with every task and grows with
            # the number of tasks: send it only when a scikit-learn callback listens
            new_callback_context=(
                (lambda number: search_ctx.subcontext(
                    task_name="candidate-split-evaluation", task_id=number))
                if sklearn_callbacks_of(self) else (lambda number: NULL_CALLBACK_CONTEXT)),
            max_time=self.max_time,
            checkpoint=self.checkpoint,
            fingerprint=self._fingerprint,
            error_score=self.error_score,
            devices=self._device_slots,
        )
        if self.checkpoint is not None:
            state = load_checkpoint(self.checkpoint, self._fingerprint)
            if state is not None:
                loop.load_state_dict(state)
                self._adopt_strategy(loop.strategy)
        history = loop.run()

        for cb in callbacks:
            if isinstance(cb, SearchCallback):
                cb.on_search_end(self, results=self._format_history(history))
        search_ctx.call_on_fit_task_end(estimator=self)
        self.n_iterations_ = history.n_iterations
        self.finish_times_ = np.asarray(history.finish_times, dtype=float)
        self.n_resumed_trials_ = loop.resumed_trials
        return history

    def _search_fingerprint(self, X, y, splits, params) -> dict:
        """What a checkpoint must match to be resumed by this ``fit``."""
        ignored = {"n_jobs", "pre_dispatch", "verbose", "callbacks", "max_time",
                   "checkpoint", "error_score", "devices"}
        settings = {k: v for k, v in self.get_params(deep=False).items() if k not in ignored}
        return {
            "searcher": type(self).__name__,
            **{name: _hash(value) for name, value in settings.items()},
            "cv splits": _hash(splits),
            "data X": _hash(X),
            "data y": _hash(y),
            "fit params": _hash(params),
        }

    def _stop_requested(self, callbacks, results, iteration, scores) -> bool:
        stop = False
        for cb in callbacks:
            if isinstance(cb, SearchCallback):
                answer = cb.on_iteration_end(
                    self, results=results, iteration=iteration, scores=scores
                )
            else:
                answer = cb(results)
            stop = stop or bool(answer)
        return stop


# At most this many combinations of a nested name's ancestors are tried.
_MAX_STRUCTURES = 32


def check_parameter_names(estimator, space: Space) -> None:
    """Raise, naming the ``search_spaces`` key, for a name ``estimator`` lacks.

    A nested name (``clf__C``) is looked up on the estimator as each candidate of
    its ancestors in the same subspace makes it (``"clf": [SVC(), Ridge()]``), and
    is accepted when one of them has it, since GridSearchCV would fit that
    combination. Everything set is cloned first, so the user's objects are never
    changed. A name that ``get_params(deep=True)`` lists is accepted without
    setting it; any other one (skorch's ``optimizer__*``) is tried with
    ``set_params`` on a clone.
    """
    rng = np.random.RandomState(0)
    estimator_name = type(estimator).__name__
    for index, sub in enumerate(space.subspaces):
        # ancestors first: "clf" is checked before "clf__C"
        for name in sorted(sub, key=lambda n: n.count("__")):
            ancestors = [a for a in sub if name.startswith(f"{a}__")]
            error = _name_error(estimator, name, sub, ancestors, rng)
            if error is None:
                continue
            context = f" with any value of {ancestors}" if ancestors else ""
            raise SearchSpaceError(
                f"{space.location(index, name)}: search_spaces names a parameter "
                f"that {estimator_name} does not have{context}; check the name "
                f"against {estimator_name}.get_params(deep=True). scikit-learn "
                f"says: {error}"
            ) from error


def _name_error(estimator, name, sub, ancestors, rng) -> ValueError | None:
    """None if some combination of ``ancestors`` gives ``estimator`` the name."""
    choices = []
    for ancestor in ancestors:
        dim = sub[ancestor]
        finite = math.isfinite(dim.size) and dim.size <= _MAX_STRUCTURES
        choices.append(dim.grid() if finite else dim.sample(1, rng))
    error = ValueError(f"no combination of {ancestors} could be set.")
    for values in itertools.islice(itertools.product(*choices), _MAX_STRUCTURES):
        if not ancestors:
            # no set_params(): some estimators' set_params requires arguments
            probe = clone(estimator)
        else:
            try:
                probe = clone(estimator).set_params(
                    **clone(dict(zip(ancestors, values)), safe=False)
                )
            except ValueError:
                continue  # that combination of ancestors is checked on its own
        if name in probe.get_params(deep=True):
            return None
        try:
            probe.set_params(**{name: clone(sub[name].sample(1, rng)[0], safe=False)})
        except ValueError as exc:
            error = exc
        else:
            return None
    return error


class _ProgressReport:
    """What ``verbose > 0`` prints: GridSearchCV's first line, then one line per batch.

    A batch line names the batch the way ``cv_results_`` does (``iteration``, or
    ``generation``, PBT's ``round``, Hyperband's rung ``iter`` and ``n_resources``;
    all 0-based), the trials done out of the strategy's ``max_trials`` when it is
    known, the best score of the driving metric so far and the elapsed time.
    """

    def __init__(self, search: BaseSearchCV, max_trials: int | None) -> None:
        self.verbose = search.verbose
        self.name = type(search).__name__
        self.max_trials = max_trials
        self.start = time.perf_counter()
        if self.verbose > 0:
            n_splits = search.n_splits_
            print(
                f"Fitting {n_splits} folds for each of {max_trials} candidates,"
                f" totalling {max_trials * n_splits} fits"
                if max_trials is not None
                else f"Fitting {n_splits} folds for each candidate"
            )

    def batch_done(self, iteration: int, trials: list[Trial], scores: np.ndarray,
                   metric: str) -> None:
        if self.verbose <= 0:
            return
        planned = "" if self.max_trials is None else f"/{self.max_trials}"
        best = np.nanmax(scores) if np.isfinite(scores).any() else np.nan
        metric_name = "score" if metric == "score" else f"{metric} score"
        print(
            f"[{self.name}] {_batch_label(iteration, trials)}: {len(scores)}{planned}"
            f" trials done, best {metric_name} {best:.4g},"
            f" {time.perf_counter() - self.start:.1f}s elapsed"
        )


def _batch_label(iteration: int, trials: list[Trial]) -> str:
    """``generation 2``, ``round 3 (n_resources=20)``, ``rung 1 (n_resources=3..9)``."""
    info = trials[0].info
    resources = sorted({t.info.get("n_resources", -1) for t in trials})
    if resources[0] == -1:
        budget = ""
    elif len(resources) == 1:
        budget = f" (n_resources={resources[0]})"
    else:
        budget = f" (n_resources={resources[0]}..{resources[-1]})"
    if "generation" in info:
        return f"generation {info['generation']}"
    if "round" in info:
        return f"round {info['round']}{budget}"
    if "iter" in info:
        rungs = sorted({t.info["iter"] for t in trials})
        label = f"rung {rungs[0]}" if len(rungs) == 1 else f"rungs {rungs[0]}..{rungs[-1]}"
        return label + budget
    return f"batch {iteration}"


def as_indices(fold) -> np.ndarray:
    """A fold as sample indices (a splitter may yield boolean masks)."""
    fold = np.asarray(fold)
    return np.flatnonzero(fold) if fold.dtype == bool else fold


def _check_splits(splits: list, n_splits: int) -> None:
    """The errors of GridSearchCV's ``evaluate_candidates``, raised before any fit."""
    if not splits:
        raise ValueError(
            "No fits were performed. Was the CV iterator empty? Were there no "
            "candidates?"
        )
    if len(splits) != n_splits:
        raise ValueError(
            "cv.split and cv.get_n_splits return inconsistent results. Expected "
            f"{n_splits} splits, got {len(splits)}"
        )


def select_best_at_largest_resource(refit, refit_metric, results) -> int:
    """``_select_best_index`` for budgeted searches (a callable ``refit`` decides alone).

    The best row among those evaluated at the largest ``n_resources`` that has a
    finite score: when every evaluation at the largest budget failed, the best
    comes from the largest budget that succeeded, with a warning, rather than a
    NaN ``best_score_``.
    """
    if callable(refit):
        return SklearnBaseSearchCV._select_best_index(refit, refit_metric, results)
    n_resources = np.asarray(results["n_resources"])
    finite = np.isfinite(np.asarray(results[f"mean_test_{refit_metric}"], dtype=float))
    eligible = finite if finite.any() else np.ones_like(finite)
    largest = n_resources[eligible].max()
    if largest < n_resources.max():
        warnings.warn(
            f"Every evaluation at the largest budget (n_resources={n_resources.max()}) "
            f"failed or scored NaN, so best_* come from the best row at "
            f"n_resources={largest}, the largest budget with a finite score. The "
            "FitFailedWarning lists the errors; error_score='raise' raises the first.",
            SkhpoWarning,
            stacklevel=3,
        )
    rows = np.flatnonzero(eligible & (n_resources == largest))
    return int(rows[np.argmin(results[f"rank_test_{refit_metric}"][rows])])


def _hash(value: Any) -> str:
    """A content hash (joblib's), or the repr where the value does not pickle."""
    try:
        return joblib.hash(value)
    except Exception:  # lambdas, open files...: compared by their repr
        return repr(value)
