"""scikit-learn's estimator checks on one small instance of every searcher."""

from __future__ import annotations

from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from skhpo import BayesSearchCV, GeneticSearchCV, HyperbandSearchCV, PBTSearchCV, Real

SPACE = {"C": Real(1e-2, 1e2, prior="log-uniform")}

INSTANCES = [
    BayesSearchCV(LogisticRegression(), SPACE, n_iter=2, n_points=1, n_initial_points=1,
                  cv=2, random_state=0),
    GeneticSearchCV(LogisticRegression(), SPACE, population_size=2, n_generations=1,
                    tournament_size=2, cv=2, random_state=0),
    HyperbandSearchCV(LogisticRegression(), SPACE, cv=2, random_state=0),
    PBTSearchCV(SGDClassifier(random_state=0), {"alpha": Real(1e-5, 1e-1, prior="log-uniform")},
                population_size=2, max_resources=2, perturbation_interval=1, cv=2,
                random_state=0),
]

# check name -> reason, for every instance
EXPECTED_FAILURES: dict[str, str] = {}


def expected_failed_checks(estimator):
    return EXPECTED_FAILURES


@parametrize_with_checks(INSTANCES, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
