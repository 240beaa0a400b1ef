"""Bayesian optimization: Gaussian-process surrogate and acquisition functions."""

from ._search import BayesSearchCV

__all__ = ["BayesSearchCV"]
