"""
GridSearchCV and BayesSearchCV side by side
===========================================

Tune an SVC on digits with GridSearchCV and with BayesSearchCV, side by side.
The grid search tries 35 points; the Bayesian search 20.

Prints one row per search: best cross-validated accuracy, held-out test
accuracy, number of model fits and wall time.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.svm import SVC

from skhpo import BayesSearchCV, Real


def main() -> None:
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    grid = {"C": np.logspace(-3, 3, 7).tolist(), "gamma": np.logspace(-5, -1, 5).tolist()}
    space = {
        "C": Real(1e-3, 1e3, prior="log-uniform"),
        "gamma": Real(1e-5, 1e-1, prior="log-uniform"),
    }
    searches = {
        "GridSearchCV (35 points)": GridSearchCV(SVC(), grid, cv=3, n_jobs=2),
        "BayesSearchCV (n_iter=20)": BayesSearchCV(
            SVC(), space, n_iter=20, cv=3, n_jobs=2, random_state=0
        ),
    }
    print(f"{'search':28s} {'best CV':>8s} {'test':>8s} {'fits':>6s} {'wall s':>7s}")
    for name, search in searches.items():
        start = time.perf_counter()
        search.fit(X_train, y_train)
        wall = time.perf_counter() - start
        n_fits = len(search.cv_results_["params"]) * search.n_splits_ + 1
        test = search.score(X_test, y_test)
        print(f"{name:28s} {search.best_score_:8.4f} {test:8.4f} {n_fits:6d} {wall:7.2f}")


if __name__ == "__main__":
    main()
