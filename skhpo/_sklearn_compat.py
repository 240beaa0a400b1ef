"""The only module that imports private scikit-learn names.

Keeping them in one place means a scikit-learn upgrade that moves one of them
breaks a single import here, not every searcher (imbalanced-learn does the same).
"""

from __future__ import annotations

from sklearn.base import _fit_context
from sklearn.metrics._scorer import _MultimetricScorer
from sklearn.model_selection._search import BaseSearchCV as SklearnBaseSearchCV
from sklearn.model_selection._validation import (
    _fit_and_score,
    _insert_error_scores,
    _score,
    _warn_or_raise_about_fit_failures,
)
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    StrOptions,
)
from sklearn.utils.metaestimators import _safe_split
from sklearn.utils.validation import _check_method_params

__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
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
]
