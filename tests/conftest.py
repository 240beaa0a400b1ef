"""Helpers shared by the test modules."""

from __future__ import annotations

from sklearn.linear_model import LogisticRegression, SGDClassifier

from skhpo import BayesSearchCV, GeneticSearchCV, HyperbandSearchCV, PBTSearchCV, Real

C_SPACE = {"C": Real(1e-2, 1e2, prior="log-uniform")}
ALPHA_SPACE = {"alpha": Real(1e-5, 1e-1, prior="log-uniform")}


def _sgd():
    return SGDClassifier(loss="log_loss", random_state=0)


#: One small search of every searcher and every way of training (Hyperband on
#: subsamples and on ``partial_fit`` epochs); ``make(**kwargs)`` builds it.
SMALL_SEARCHES = {
    "bayes": lambda **kw: BayesSearchCV(
        LogisticRegression(), C_SPACE, n_iter=4, n_points=2, n_initial_points=2,
        cv=3, random_state=0, **kw),
    "genetic": lambda **kw: GeneticSearchCV(
        LogisticRegression(), C_SPACE, population_size=4, n_generations=2,
        tournament_size=2, cv=3, random_state=0, **kw),
    "hyperband-samples": lambda **kw: HyperbandSearchCV(
        LogisticRegression(), C_SPACE, factor=3, cv=3, random_state=0, **kw),
    "hyperband-partial_fit": lambda **kw: HyperbandSearchCV(
        _sgd(), ALPHA_SPACE, resource="partial_fit", max_resources=9, factor=3, cv=3,
        random_state=0, **kw),
    "pbt": lambda **kw: PBTSearchCV(
        _sgd(), ALPHA_SPACE, population_size=4, max_resources=6,
        perturbation_interval=2, cv=3, random_state=0, **kw),
}
