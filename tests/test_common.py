"""scikit-learn's estimator checks on every searcher around several estimators.

Each searcher wraps a regressor, a classifier and a Pipeline (estimators with
``partial_fit`` for PBT, and for Hyperband's ``partial_fit`` resource), with a
small budget, so that the checks see the search behave as the estimator it wraps.

The wrapped estimators are seeded: around an unseeded ``SGDClassifier()``,
``check_fit_idempotent``, ``check_supervised_y_2d`` and
``check_classifier_data_not_an_array`` fail for GridSearchCV exactly as for the
skhpo searchers, since ``check_estimator`` seeds only the outer ``random_state``.
"""

from __future__ import annotations

from sklearn.linear_model import LogisticRegression, Ridge, SGDClassifier, SGDRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skhpo import BayesSearchCV, GeneticSearchCV, HyperbandSearchCV, PBTSearchCV, Real

LOG_C = Real(1e-2, 1e2, prior="log-uniform")
LOG_ALPHA = Real(1e-5, 1e-1, prior="log-uniform")


def _pipeline(final_step):
    return Pipeline([("scale", StandardScaler()), ("final", final_step)])


# (estimator, search_spaces): fitted from scratch
WRAPPED = {
    "regressor": (Ridge(), {"alpha": Real(1e-3, 1e1, prior="log-uniform")}),
    "classifier": (LogisticRegression(), {"C": LOG_C}),
    "pipeline": (_pipeline(LogisticRegression()), {"final__C": LOG_C}),
}
# (estimator, search_spaces): trained with partial_fit
INCREMENTAL = {
    "regressor": (SGDRegressor(random_state=0), {"alpha": LOG_ALPHA}),
    "classifier": (SGDClassifier(random_state=0), {"alpha": LOG_ALPHA}),
    "pipeline": (_pipeline(SGDClassifier(random_state=0)), {"final__alpha": LOG_ALPHA}),
}


def _instances():
    for estimator, space in WRAPPED.values():
        yield BayesSearchCV(estimator, space, n_iter=2, n_initial_points=1, cv=2,
                            random_state=0)
        yield GeneticSearchCV(estimator, space, population_size=2, n_generations=1,
                              tournament_size=2, cv=2, random_state=0)
    # Hyperband: subsamples (Ridge), an iteration parameter, partial_fit epochs
    ridge, ridge_space = WRAPPED["regressor"]
    yield HyperbandSearchCV(ridge, ridge_space, cv=2, random_state=0)
    yield HyperbandSearchCV(LogisticRegression(max_iter=27), {"C": LOG_C},
                            resource="max_iter", min_resources=3, cv=2, random_state=0)
    pipeline, pipeline_space = INCREMENTAL["pipeline"]
    yield HyperbandSearchCV(pipeline, pipeline_space, max_resources=3, cv=2,
                            random_state=0)
    for estimator, space in INCREMENTAL.values():
        yield PBTSearchCV(estimator, space, population_size=2, max_resources=2,
                          perturbation_interval=1, cv=2, random_state=0)


INSTANCES = list(_instances())

# check name -> reason, for every instance
EXPECTED_FAILURES: dict[str, str] = {}


def expected_failed_checks(estimator):
    return EXPECTED_FAILURES


@parametrize_with_checks(INSTANCES, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
