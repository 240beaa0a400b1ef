"""The incremental evaluator: fitted models kept between batches and trained further.

Used by HyperbandSearchCV (``resource="partial_fit"``, or an estimator parameter
with ``warm_start=True``) and meant for PBTSearchCV.

Vocabulary
----------
trial index
    Position of a trial in the search history, in the order the strategy asked
    for them (0, 1, ...). ``Trial.parent`` refers to it.
unit
    One resource unit: one ``partial_fit`` pass over the training fold (one
    epoch of a skorch net), or one step of a ``warm_start`` parameter.
progress
    Units a stored model has been trained for. A trial's ``resource`` is the
    progress its models must reach (cumulative), so a continued model trains
    ``resource - progress`` more units.

Life of the models (one per trial and fold)
-------------------------------------------
* A trial without parent starts from ``clone(estimator).set_params(**params)``.
* A trial with ``parent=j`` continues trial j's models. Parameters in which its
  ``params`` differ from trial j's are first set on the live models with
  ``set_params`` (PBT explore; note that skorch re-initializes the module on
  ``module__*`` changes). If several trials of one batch name the same parent, all
  but the last get deep copies (PBT exploit) and the last gets the models
  themselves (Hyperband promotion: a move, no copy); the parent then leaves the
  store. With ``copy_parents=True`` every child gets a copy and the parent stays.
* :meth:`IncrementalEvaluator.release` drops models at once (eliminated
  candidates), so memory stays bounded by the live trials.
* The joblib task returns the trained model with its scores: with ``n_jobs=1``
  it is the very object that was passed in, never copied.
"""

from __future__ import annotations

import copy
import pickle
import time
from collections import Counter
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from traceback import format_exc
from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils.multiclass import type_of_target

from ._evaluate import EvaluationContext, Evaluator, Task, failed_result
from ._sklearn_compat import _check_method_params, _MultimetricScorer, _safe_split, _score
from ._strategy import Trial
from ._transfer import ModelParcel, dumps_model, loads_model
from .integration._skorch import copy_net, is_skorch_net, partial_fit_epochs

__all__ = [
    "IncrementalEvaluator",
    "PartialFitTrainer",
    "WarmStartTrainer",
    "copy_model",
    "final_estimator",
    "has_partial_fit",
    "train_partial_fit",
]


def final_estimator(estimator: Any) -> Any:
    """The estimator trained incrementally: a Pipeline's last step, else itself."""
    while isinstance(estimator, Pipeline):
        estimator = estimator.steps[-1][1]
    return estimator


def has_partial_fit(estimator: Any) -> bool:
    """Whether ``estimator`` (or its Pipeline's last step) has ``partial_fit``."""
    return hasattr(final_estimator(estimator), "partial_fit")


def classes_for(estimator: Any, y: Any) -> np.ndarray | list | None:
    """``classes`` for the first ``partial_fit`` of a classifier, from all of ``y``.

    * one output: the labels of ``y``;
    * several outputs with a ``MultiOutputClassifier``: one array of labels per
      output, as its ``partial_fit`` takes them;
    * a multilabel indicator matrix otherwise (``MLPClassifier``): the label
      indices ``0 .. n_labels - 1``;
    * a regressor, or no ``y``: None.
    """
    if y is None or not is_classifier(estimator):
        return None
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:  # a column vector: the estimator warns, we don't
        y = y.ravel()
    if y.ndim == 1:
        return np.unique(y)
    if isinstance(final_estimator(estimator), MultiOutputClassifier):
        return [np.unique(column) for column in y.T]
    if type_of_target(y) == "multilabel-indicator":
        return np.arange(y.shape[1])
    return None


def train_partial_fit(model, X, y, n_units: int, *, fresh: bool, classes=None,
                      fit_params: dict | None = None) -> None:
    """Train ``model`` in place for ``n_units`` ``partial_fit`` passes over ``(X, y)``.

    The steps of a Pipeline before the last one are fitted when ``fresh`` and
    only transform afterwards; the last step gets the passes. A skorch net gets
    ``n_units`` epochs in one call. ``classes`` goes to the first pass of a
    ``fresh`` model. ``fit_params`` of a Pipeline use the ``step__param`` names.
    """
    fit_params = fit_params or {}
    if isinstance(model, Pipeline):
        last_name, last = model.steps[-1]
        prefix = f"{last_name}__"
        own = {k[len(prefix):]: v for k, v in fit_params.items() if k.startswith(prefix)}
        if len(model.steps) > 1:
            head = model[:-1]  # shares its step objects with ``model``
            if fresh:
                head_params = {k: v for k, v in fit_params.items() if not k.startswith(prefix)}
                head.fit(X, y, **head_params)
            X = head.transform(X)
        train_partial_fit(last, X, y, n_units, fresh=fresh, classes=classes, fit_params=own)
        return
    if is_skorch_net(model):
        partial_fit_epochs(model, X, y, n_units, **fit_params)
        return
    for unit in range(n_units):
        kwargs = dict(fit_params)
        if fresh and unit == 0 and classes is not None:
            kwargs["classes"] = classes
        if y is None:
            model.partial_fit(X, **kwargs)
        else:
            model.partial_fit(X, y, **kwargs)


def copy_model(model: Any) -> Any:
    """A deep copy of a fitted model (None stays None), for PBT's exploit.

    skorch nets whose module class cannot be pickled (defined in a function) are
    copied through their saved state instead, also inside a Pipeline.
    """
    if model is None:
        return None
    try:
        return copy.deepcopy(model)
    except (AttributeError, TypeError, pickle.PicklingError):
        if is_skorch_net(model):
            return copy_net(model)
        if isinstance(model, Pipeline):
            new = copy.copy(model)
            new.steps = [(name, copy_model(step)) for name, step in model.steps]
            return new
        raise


class PartialFitTrainer:
    """One unit is one ``partial_fit`` pass over the training fold (a skorch epoch)."""

    def __call__(self, model, X, y, n_units, *, fresh, classes, fit_params) -> None:
        train_partial_fit(model, X, y, n_units, fresh=fresh, classes=classes,
                          fit_params=fit_params)


class WarmStartTrainer:
    """``fit`` again on a ``warm_start=True`` estimator; it continues by itself.

    The evaluator has already set the resource parameter (``n_estimators``...) to
    the trial's value through the parameter difference with the parent.
    """

    def __call__(self, model, X, y, n_units, *, fresh, classes, fit_params) -> None:
        if y is None:
            model.fit(X, **fit_params)
        else:
            model.fit(X, y, **fit_params)


@contextmanager
def _fit_task(callback_ctx, model, caller, X, y, fit_params):
    """sklearn's callback hooks around one fit task, as ``_fit_and_score`` calls them."""
    if callback_ctx is None:
        yield
        return
    weight = fit_params.get("sample_weight")
    metadata = None if weight is None else {"sample_weight": weight}
    with callback_ctx.propagate_callback_context(model):
        callback_ctx.call_on_fit_task_begin(estimator=caller, X=X, y=y, metadata=metadata)
        try:
            yield
        finally:
            callback_ctx.call_on_fit_task_end(estimator=caller, X=X, y=y, metadata=metadata)


def _error_scores(scorer, error_score):
    if isinstance(scorer, _MultimetricScorer):
        return {name: error_score for name in scorer._scorers}
    return error_score


def train_and_score(parcel, X, y, train, test, *, trainer, n_units, fresh, set_params,
                    classes, scorer, fit_params, score_params, return_train_score,
                    error_score, caller=None, callback_ctx=None, broken=False,
                    return_model=True):
    """One (trial, fold) task: set params, train ``n_units`` more, score.

    ``parcel`` is a :class:`~skhpo._transfer.ModelParcel` holding the model, so
    that the model reaches a worker process with writable arrays and its
    ``__main__`` classes. Returns ``(result, parcel)``: ``result`` has the keys
    of ``_fit_and_score``'s dict; the returned parcel holds the trained model, or
    None when training failed or ``return_model=False`` (the model is dropped).
    ``broken=True`` means the fold's model failed earlier: the task fails.
    """
    model = parcel.model
    fit_params = _check_method_params(X, params=fit_params or {}, indices=train)
    score_params = score_params or {}
    X_train, y_train = _safe_split(model, X, y, train)
    X_test, y_test = _safe_split(model, X, y, test, train)
    result: dict[str, Any] = {"n_test_samples": len(test)}
    start = time.time()
    with _fit_task(callback_ctx, model, caller, X_train, y_train, fit_params):
        try:
            if broken:
                raise RuntimeError("the model of this fold failed in an earlier "
                                   "evaluation, so it cannot be continued.")
            if set_params:
                model.set_params(**clone(set_params, safe=False))
            trainer(model, X_train, y_train, n_units, fresh=fresh, classes=classes,
                    fit_params=fit_params)
        except Exception:
            if error_score == "raise":
                raise
            result.update(fit_error=format_exc(), fit_time=time.time() - start,
                          score_time=0.0, test_scores=_error_scores(scorer, error_score))
            if return_train_score:
                result["train_scores"] = _error_scores(scorer, error_score)
            return result, ModelParcel(None)
        fit_time = time.time() - start
        params_test = _check_method_params(X, params=score_params, indices=test)
        result["test_scores"] = _score(model, X_test, y_test, scorer, params_test, error_score)
        result["score_time"] = time.time() - start - fit_time
        if return_train_score:
            params_train = _check_method_params(X, params=score_params, indices=train)
            result["train_scores"] = _score(model, X_train, y_train, scorer, params_train,
                                            error_score)
    result.update(fit_error=None, fit_time=fit_time)
    return result, ModelParcel(model if return_model else None)


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ValueError):  # arrays and other ambiguous comparisons
        return False


def changed_params(old: dict, new: dict) -> dict:
    """Entries of ``new`` absent from ``old`` or different from it."""
    return {k: v for k, v in new.items() if k not in old or not _same(old[k], v)}


@dataclass
class _Entry:
    """The models of one trial: one per fold, None where training failed."""

    params: dict
    progress: int
    models: list
    # the dumps_model bytes of each model as it came back from a worker (None
    # where unknown), kept only while checkpoints are written
    blobs: list | None = None

    def frozen(self) -> tuple:
        """``(params, progress, blobs)``: the entry for a checkpoint."""
        blobs = self.blobs or [None] * len(self.models)
        return self.params, self.progress, [
            blob if blob is not None or model is None else dumps_model(model)
            for model, blob in zip(self.models, blobs)]

    @classmethod
    def thaw(cls, frozen: tuple) -> _Entry:
        params, progress, blobs = frozen
        return cls(params, progress, [None if b is None else loads_model(b) for b in blobs],
                   list(blobs))


class IncrementalEvaluator(Evaluator):
    """Keeps one model per (trial, fold) between batches and trains it further.

    Parameters
    ----------
    context : EvaluationContext
        Data, frozen folds, scorers and the joblib pool of this ``fit``.
    trainer : callable, default=PartialFitTrainer()
        ``trainer(model, X, y, n_units, *, fresh, classes, fit_params)`` trains a
        model in place; it runs in the joblib workers, so it must pickle.
    copy_parents : bool, default=False
        If False, a parent's models move to its last child of the batch (earlier
        children get deep copies) and the parent leaves the store. If True, every
        child gets a deep copy and the parent stays until released.
    final_resource : int, default=None
        The budget no trial is continued beyond (``max_resources``). Models
        trained to it are scored and dropped in the worker, never sent back or
        stored. None keeps every model.

    Attributes
    ----------
    resources_used : int
        Units trained so far, all folds together.
    transfers : list of dict
        One dict per evaluated batch: ``n_models`` (tasks, one model each),
        ``bytes_sent`` and ``bytes_received`` (pickled model bytes that crossed
        to and from worker processes; 0 when the tasks ran in this process).
    """

    def __init__(self, context: EvaluationContext, trainer=None, *,
                 copy_parents: bool = False, final_resource: int | None = None) -> None:
        super().__init__(context)
        self.final_resource = final_resource
        self.trainer = PartialFitTrainer() if trainer is None else trainer
        self.copy_parents = copy_parents
        self.resources_used = 0
        self.transfers: list[dict] = []
        self._sent: dict[int, list[ModelParcel]] = {}
        self._kept_starts: dict[int, bytes] = {}
        self._store: dict[int, _Entry] = {}
        self._classes = classes_for(context.estimator, context.y)

    # -- the models -------------------------------------------------------------

    def models_of(self, index: int) -> list:
        """The live models (one per fold, None where failed) of trial ``index``."""
        return list(self._entry(index).models)

    def release(self, indices: Iterable[int]) -> None:
        """Drop the models of these trials (unknown or already gone: ignored)."""
        for index in indices:
            self._store.pop(int(index), None)

    def release_all(self) -> None:
        """Drop every stored model."""
        self._store.clear()

    @property
    def live_trials(self) -> list[int]:
        """Indices of the trials whose models are stored."""
        return sorted(self._store)

    def _entry(self, index: int) -> _Entry:
        try:
            return self._store[index]
        except KeyError:
            raise ValueError(
                f"trial {index} has no stored models: it was released, already "
                "continued by a child, or never evaluated by this evaluator."
            ) from None

    def _starts(self, trials: list[Trial]) -> list[tuple[list | None, int, dict]]:
        """(models or None, progress, params to set) for each trial, in order."""
        remaining = Counter(t.parent for t in trials if t.parent is not None)
        starts = []
        for trial in trials:
            if trial.parent is None:
                starts.append((None, 0, trial.params))
                continue
            entry = self._entry(trial.parent)
            remaining[trial.parent] -= 1
            moved = remaining[trial.parent] == 0 and not self.copy_parents
            models = entry.models if moved else [copy_model(m) for m in entry.models]
            starts.append((models, entry.progress, changed_params(entry.params, trial.params)))
        if not self.copy_parents:
            self.release(remaining)
        return starts

    # -- evaluation -------------------------------------------------------------

    def tasks(self, trials: list[Trial], callback_contexts: list) -> list[Task]:
        """One task per (trial, fold): train the fold's model further, then score it.

        Parents' models are taken from the store now (moved or copied), so the
        trials of one call may share a parent.
        """
        starts = self._starts(trials)
        if self.keep_starts:  # a frozen copy, for :meth:`tasks_again`
            for trial, start in zip(trials, starts):
                self._kept_starts[trial.id] = dumps_model(start)
        return self._tasks(trials, starts, callback_contexts)

    def tasks_again(self, trials: list[Trial], callback_contexts: list) -> list[Task]:
        """Start trials again from the copies of their starting models kept by
        :meth:`tasks` (they were running when the checkpoint was written)."""
        starts = [loads_model(self._kept_starts[trial.id]) for trial in trials]
        self.resources_used -= sum(
            self._units(t, progress) for t, (_, progress, _) in zip(trials, starts)
        ) * self.context.n_splits  # counted when they first started
        return self._tasks(trials, starts, callback_contexts)

    def _tasks(self, trials, starts, callback_contexts) -> list[Task]:
        ctx = self.context
        tasks = []
        for k, (trial, start) in enumerate(zip(trials, starts)):
            models, progress, set_params = start
            n_units = self._units(trial, progress)
            self.resources_used += n_units * ctx.n_splits
            for fold, (train, test) in enumerate(ctx.splits):
                model = None if models is None else models[fold]
                parcel = ModelParcel(clone(ctx.estimator) if model is None else model)
                self._sent.setdefault(trial.id, []).append(parcel)
                tasks.append(Task(trial, fold, train_and_score, (parcel, ctx.X_task, ctx.y_task),
                                  dict(
                    train=train, test=test, trainer=self.trainer, n_units=n_units,
                    fresh=models is None, set_params=set_params, classes=self._classes,
                    scorer=ctx.scorers, fit_params=ctx.fit_params,
                    score_params=ctx.score_params,
                    return_train_score=ctx.return_train_score,
                    error_score=ctx.error_score, caller=ctx.caller,
                    callback_ctx=callback_contexts[k * ctx.n_splits + fold],
                    broken=models is not None and model is None,
                    return_model=self._continuable(trial),
                )))
        return tasks

    def collect(self, trial: Trial, outputs: list, iteration: int) -> list[dict]:
        """Store the trial's trained models (unless never continued); its results."""
        sent = [task_parcel.nbytes for task_parcel in self._sent.pop(trial.id, [])]
        while len(self.transfers) <= iteration:
            self.transfers.append({"n_models": 0, "bytes_sent": 0, "bytes_received": 0})
        moved = self.transfers[iteration]
        moved["n_models"] += len(outputs)
        moved["bytes_sent"] += sum(sent)
        moved["bytes_received"] += sum(parcel.nbytes for _, parcel in outputs)
        self._kept_starts.pop(trial.id, None)
        if self._continuable(trial):
            self._store[trial.id] = _Entry(
                dict(trial.params), trial.resource, [parcel.model for _, parcel in outputs],
                [parcel.blob for _, parcel in outputs] if self.keep_blobs else None)
        return [result for result, _ in outputs]

    def lost_output(self, trial: Trial, fold: int, message: str) -> Any:
        return failed_result(self.context, fold, message), ModelParcel(None)

    def state_dict(self) -> dict:
        # A stored entry never changes (a child moves or copies its models out), so
        # each is frozen once, not at every checkpoint: pickling live nets again
        # after every trial cost a fifth of a skorch search's wall time. Models
        # that came back from workers are written as the bytes they came in.
        frozen = getattr(self, "_frozen", {})
        self._frozen = {
            index: frozen[index] if index in frozen and frozen[index][0] is entry
            else (entry, entry.frozen())
            for index, entry in self._store.items()
        }
        return {"store": {index: state for index, (_, state) in self._frozen.items()},
                "resources_used": self.resources_used,
                "transfers": self.transfers, "kept_starts": self._kept_starts}

    def load_state_dict(self, state: dict) -> None:
        self._store = {index: _Entry.thaw(frozen) for index, frozen in state["store"].items()}
        self.resources_used = state["resources_used"]
        self.transfers = state["transfers"]
        self._kept_starts = state["kept_starts"]

    def _continuable(self, trial: Trial) -> bool:
        return self.final_resource is None or trial.resource < self.final_resource

    @staticmethod
    def _units(trial: Trial, progress: int) -> int:
        if trial.resource is None:
            raise ValueError(f"IncrementalEvaluator needs Trial.resource; got {trial!r}.")
        if trial.resource < progress:
            raise ValueError(
                f"Trial.resource={trial.resource} is below the {progress} units "
                f"trial {trial.parent} was already trained for."
            )
        return int(trial.resource - progress)
