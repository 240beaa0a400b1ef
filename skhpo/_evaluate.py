"""Evaluators: turn a batch of trials into ``_fit_and_score``-style result dicts.

The default :class:`FromScratchEvaluator` clones and fits one model per
(trial, fold), exactly as GridSearchCV does. Incremental evaluators (Hyperband on
``partial_fit``, PBT) subclass :class:`Evaluator` and keep fitted models between
batches; they must return the same dicts (``fit_error``, ``test_scores``,
``train_scores``, ``n_test_samples``, ``fit_time``, ``score_time``), candidate-major
(all folds of trial 0, then trial 1, ...), so that ``cv_results_``, refit,
multi-metric scoring and ``error_score`` behave as in GridSearchCV.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils.parallel import Parallel, delayed

from ._sklearn_compat import _fit_and_score, fit_and_score_callback_kwargs
from ._strategy import Trial

__all__ = ["EvaluationContext", "Evaluator", "FromScratchEvaluator"]


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
    parallel: Parallel
    # What scikit-learn's callback hooks get as the search in the joblib tasks;
    # never the search itself (see ``BaseSearchCV._caller_for_workers``).
    caller: Any = None

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


class Evaluator:
    """Evaluates batches of trials; subclasses implement :meth:`evaluate`."""

    def __init__(self, context: EvaluationContext) -> None:
        self.context = context

    def evaluate(self, trials: list[Trial], callback_contexts: list) -> list[dict]:
        """Return ``len(trials) * n_splits`` result dicts, candidate-major."""
        raise NotImplementedError


class FromScratchEvaluator(Evaluator):
    """Clone, fit and score one model per (trial, fold), in parallel."""

    def evaluate(self, trials: list[Trial], callback_contexts: list) -> list[dict]:
        ctx = self.context
        kwargs = ctx.score_kwargs()
        tasks = (
            delayed(_fit_and_score)(
                clone(ctx.estimator),
                ctx.X,
                ctx.y,
                train=train,
                test=test,
                parameters=self.parameters_of(trial),
                split_progress=(split_idx, ctx.n_splits),
                candidate_progress=(cand_idx, len(trials)),
                **kwargs,
                **fit_and_score_callback_kwargs(
                    ctx.caller, callback_contexts[cand_idx * ctx.n_splits + split_idx]
                ),
            )
            for cand_idx, trial in enumerate(trials)
            for split_idx, (train, test) in enumerate(self.splits_of(trial))
        )
        return list(ctx.parallel(tasks))

    def parameters_of(self, trial: Trial) -> dict:
        """Estimator parameters of a trial (subclasses may add the resource)."""
        return trial.params

    def splits_of(self, trial: Trial) -> list[tuple[np.ndarray, np.ndarray]]:
        """Folds of a trial (subclasses may subsample the training folds)."""
        return self.context.splits
