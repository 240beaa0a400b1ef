"""skhpo: scikit-learn compatible hyperparameter search estimators."""

from ._genetic import GeneticSearchCV
from ._hyperband import HyperbandSearchCV
from ._pbt import PBTSearchCV
from .bayes import BayesSearchCV
from .space import Categorical, Integer, Real, Space

__version__ = "0.1.0.dev0"

__all__ = [
    "BayesSearchCV",
    "Categorical",
    "GeneticSearchCV",
    "HyperbandSearchCV",
    "Integer",
    "PBTSearchCV",
    "Real",
    "Space",
]
