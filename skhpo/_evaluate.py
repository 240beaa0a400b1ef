"""Evaluators: turn trials into worker tasks, and task outputs into result dicts.

The default :class:`FromScratchEvaluator` clones and fits one model per
(trial, fold), exactly as GridSearchCV does. Incremental evaluators (Hyperband on
``partial_fit``, PBT) subclass :class:`Evaluator` and keep fitted models between
trials; they must return the same dicts (``fit_error``, ``test_scores``,
``train_scores``, ``n_test_samples``, ``fit_time``, ``score_time``), one per fold,
so that ``cv_results_``, refit, multi-metric scoring and ``error_score`` behave as
in GridSearchCV. The search loop (``_loop.py``) owns the workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone

from ._sklearn_compat import (
    NULL_CALLBACK_CONTEXT,
    _fit_and_score,
    _MultimetricScorer,
    fit_and_score_callback_kwargs,
)
from ._strategy import Trial

__all__ = ["EvaluationContext", "Evaluator", "FromScratchEvaluator", "Task", "failed_result"]


@dataclass
class EvaluationContext:
    """Everything an evaluator needs from one call of ``fit``.

    The folds are split once per ``fit`` and frozen here, so that every batch (and
    every rung or generation) compares candidates on the same data.
    """

    estimator: Any
    X: Any
    y: Any
    splits: list[tuple[np.ndarray, np.ndarray]]
    scorers: Any
    fit_params: dict
    score_params: dict
    return_train_score: bool
    error_score: Any
    verbose: int
    # What scikit-learn's callback hooks get as the search in the joblib tasks;
    # never the search itself (see ``BaseSearchCV._caller_for_workers``).
    caller: Any = None
    # what tasks carry as X and y: the data, or the executor's shared handle
    X_task: Any = None
    y_task: Any = None

    def __post_init__(self) -> None:
        if self.X_task is None:
            self.X_task = self.X
        if self.y_task is None:
            self.y_task = self.y

    @property
    def n_splits(self) -> int:
        return len(self.splits)

    def score_kwargs(self) -> dict:
        """Keyword arguments of ``_fit_and_score`` shared by every task."""
        return dict(
            scorer=self.scorers,
            fit_params=self.fit_params,
            score_params=self.score_params,
            return_train_score=self.return_train_score,
            return_n_test_samples=True,
            return_times=True,
            return_parameters=False,
            error_score=self.error_score,
            verbose=self.verbose,
        )


@dataclass
class Task:
    """One (trial, fold) evaluation, to run as ``fn(*args, **kwargs)`` in a worker."""

    trial: Trial
    fold: int
    fn: Callable
    args: tuple
    kwargs: dict


class Evaluator:
    """Turns trials into worker tasks and their outputs into result dicts.

    The search loop calls :meth:`tasks` for the trials it starts (a whole batch,
    or what free workers can take), runs every task on the executor, and calls
    :meth:`collect` once all the folds of a trial are back.
    """

    #: Whether :meth:`tasks_again` must be able to start running trials again
    #: (set by the asynchronous loop when it writes checkpoints).
    keep_starts = False
    #: Whether models that come back from workers keep the bytes they travelled
    #: as, so that checkpoints write them without pickling them again (set by the
    #: loop when it writes checkpoints).
    keep_blobs = False

    def __init__(self, context: EvaluationContext) -> None:
        self.context = context
        self._n_evaluated = 0

    def evaluate(self, trials: list[Trial], callback_contexts: list | None = None,
                 iteration: int = 0) -> list[dict]:
        """Evaluate ``trials`` here, task after task; result dicts, trial-major.

        For tests and debugging (the search loop runs the tasks on its executor).
        Trials without an id (-1) are numbered in the order they are evaluated.
        """
        for trial in trials:
            if trial.id < 0:
                object.__setattr__(trial, "id", self._n_evaluated)
            self._n_evaluated = max(self._n_evaluated, trial.id + 1)
        if callback_contexts is None:
            callback_contexts = [NULL_CALLBACK_CONTEXT] * (len(trials) * self.context.n_splits)
        outputs: dict[int, list] = {trial.id: [] for trial in trials}
        for task in self.tasks(trials, callback_contexts):
            outputs[task.trial.id].append(task.fn(*task.args, **task.kwargs))
        return [out for trial in trials
                for out in self.collect(trial, outputs[trial.id], iteration)]

    def tasks(self, trials: list[Trial], callback_contexts: list) -> list[Task]:
        """``len(trials) * n_splits`` tasks, trial-major."""
        raise NotImplementedError

    def tasks_again(self, trials: list[Trial], callback_contexts: list) -> list[Task]:
        """The tasks of trials that were running when a checkpoint was written."""
        return self.tasks(trials, callback_contexts)

    def collect(self, trial: Trial, outputs: list, iteration: int) -> list[dict]:
        """The result dicts of a trial's folds from its tasks' outputs."""
        return list(outputs)

    def lost_output(self, trial: Trial, fold: int, message: str) -> Any:
        """A task's output when its worker died: the fold failed with ``message``."""
        return failed_result(self.context, fold, message)

    def state_dict(self) -> dict:
        """What a checkpoint must keep of this evaluator (fitted models)."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""


def failed_result(ctx: EvaluationContext, fold: int, message: str) -> dict:
    """A ``_fit_and_score``-style result for a fold whose fit failed with ``message``."""
    scorers = ctx.scorers
    error = ({name: ctx.error_score for name in scorers._scorers}
             if isinstance(scorers, _MultimetricScorer) else ctx.error_score)
    result = {"fit_error": message, "test_scores": error, "fit_time": 0.0,
              "score_time": 0.0, "n_test_samples": len(ctx.splits[fold][1])}
    if ctx.return_train_score:
        result["train_scores"] = error
    return result


class FromScratchEvaluator(Evaluator):
    """Clone, fit and score one model per (trial, fold), as GridSearchCV does."""

    def tasks(self, trials: list[Trial], callback_contexts: list) -> list[Task]:
        ctx = self.context
        kwargs = ctx.score_kwargs()
        tasks = []
        for cand_idx, trial in enumerate(trials):
            for split_idx, (train, test) in enumerate(self.splits_of(trial)):
                callback_kwargs = fit_and_score_callback_kwargs(
                    ctx.caller, callback_contexts[cand_idx * ctx.n_splits + split_idx])
                tasks.append(Task(trial, split_idx, _fit_and_score,
                                  (clone(ctx.estimator), ctx.X_task, ctx.y_task),
                                  dict(train=train, test=test,
                                       parameters=self.parameters_of(trial),
                                       split_progress=(split_idx, ctx.n_splits),
                                       candidate_progress=(cand_idx, len(trials)),
                                       **kwargs, **callback_kwargs)))
        return tasks

    def parameters_of(self, trial: Trial) -> dict:
        """Estimator parameters of a trial (subclasses may add the resource)."""
        return trial.params

    def splits_of(self, trial: Trial) -> list[tuple[np.ndarray, np.ndarray]]:
        """Folds of a trial (subclasses may subsample the training folds)."""
        return self.context.splits
