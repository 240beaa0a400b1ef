"""The only module that imports private scikit-learn names.

Keeping them in one place means a scikit-learn upgrade that moves one of them
breaks a single import here, not every searcher (imbalanced-learn does the same).

Supported: scikit-learn 1.6 and later. What differs between versions, and how it
is handled here:

* scikit-learn 1.9 adds the callback API (``set_callbacks``,
  ``_init_callback_context``, ``CallbackContext``) and the ``caller`` and
  ``callback_ctx`` keywords of ``_fit_and_score``. On older versions
  :func:`init_callback_context` returns :data:`NULL_CALLBACK_CONTEXT`, an object
  with the same methods that does nothing, and :func:`fit_and_score_callback_kwargs`
  leaves out the keywords that ``_fit_and_score`` does not take.
* scikit-learn 1.9 adds ``BaseSearchCV._check_input_parameters``; skhpo's own
  ``BaseSearchCV`` defines it, so nothing depends on it here.

Every other private name below exists with the same signature in 1.6.1, 1.7.2,
1.8.0 and 1.9.1.
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from typing import Any

# ``_fit_context`` validates the constructor parameters once per fit (and, from
# scikit-learn 1.9, tears the sklearn callbacks down after it).
from sklearn.base import _fit_context

# ``isinstance`` checks and its ``_scorers`` dict: ``scorer_`` and error scores per
# metric, as BaseSearchCV and ``_fit_and_score`` build them.
from sklearn.metrics._scorer import _MultimetricScorer

# Not exported by ``sklearn.model_selection``; subclassed for scoring, ranking,
# ``_format_results``, ``_select_best_index``, routing and method delegation.
from sklearn.model_selection._search import BaseSearchCV as SklearnBaseSearchCV
from sklearn.model_selection._validation import (
    _fit_and_score,
    _insert_error_scores,
    _score,
    _warn_or_raise_about_fit_failures,
)

# scikit-learn exports no public module for its parameter constraints.
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    StrOptions,
)
from sklearn.utils.metaestimators import _safe_split
from sklearn.utils.validation import _check_method_params

__all__ = [
    "HAS_CALLBACK_API",
    "HasMethods",
    "Hidden",
    "Interval",
    "NULL_CALLBACK_CONTEXT",
    "SklearnBaseSearchCV",
    "StrOptions",
    "_MultimetricScorer",
    "_check_method_params",
    "_fit_and_score",
    "_fit_context",
    "_insert_error_scores",
    "_safe_split",
    "_score",
    "_warn_or_raise_about_fit_failures",
    "fit_and_score_callback_kwargs",
    "init_callback_context",
    "sklearn_callbacks_of",
]

#: Whether this scikit-learn has the estimator callback API (1.9 and later).
HAS_CALLBACK_API = hasattr(SklearnBaseSearchCV, "_init_callback_context")

_FIT_AND_SCORE_TAKES_CALLBACKS = {"caller", "callback_ctx"} <= set(
    inspect.signature(_fit_and_score).parameters
)


class _NullCallbackContext:
    """A callback context that does nothing, for scikit-learn without callbacks.

    It has the methods of scikit-learn's ``CallbackContext`` that skhpo calls, so
    the search loop is written once for every version.
    """

    def subcontext(self, task_name: str = "", task_id: int | None = None,
                   max_subtasks: int | None = 0,
                   sequential_subtasks: bool = True) -> _NullCallbackContext:
        return self

    def call_on_fit_task_begin(self, **kwargs: Any) -> _NullCallbackContext:
        return self

    def call_on_fit_task_end(self, **kwargs: Any) -> bool:
        return False

    @contextmanager
    def propagate_callback_context(self, sub_estimator: Any):
        yield

    def __reduce__(self):
        return (_null_callback_context, ())

    def __repr__(self) -> str:
        return "NULL_CALLBACK_CONTEXT"


def _null_callback_context() -> _NullCallbackContext:
    return NULL_CALLBACK_CONTEXT


NULL_CALLBACK_CONTEXT = _NullCallbackContext()


def init_callback_context(estimator: Any, **kwargs: Any) -> Any:
    """``estimator._init_callback_context(**kwargs)``, or the null context before 1.9."""
    if HAS_CALLBACK_API:
        return estimator._init_callback_context(**kwargs)
    return NULL_CALLBACK_CONTEXT


def sklearn_callbacks_of(estimator: Any) -> list:
    """The scikit-learn callbacks set on ``estimator`` (always empty before 1.9)."""
    return list(getattr(estimator, "_skl_callbacks", None) or [])


def fit_and_score_callback_kwargs(caller: Any, callback_ctx: Any) -> dict:
    """``caller`` and ``callback_ctx`` for ``_fit_and_score``, where it takes them."""
    if not _FIT_AND_SCORE_TAKES_CALLBACKS or callback_ctx is NULL_CALLBACK_CONTEXT:
        return {}
    return {"caller": caller, "callback_ctx": callback_ctx}
