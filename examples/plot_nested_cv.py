"""
Nested cross-validation
=======================

A search is an estimator, so ``cross_val_score`` can score the whole tuning
procedure: the inner search picks hyperparameters on each outer training split,
and the outer split scores the refitted winner on data it never saw. Here
GridSearchCV and :class:`~skhpo.BayesSearchCV` are nested the same way.
"""

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skhpo import BayesSearchCV, Real

X, y = load_breast_cancer(return_X_y=True)
model = make_pipeline(StandardScaler(), SVC())
outer = StratifiedKFold(5, shuffle=True, random_state=0)

grid = GridSearchCV(model, {"svc__C": [0.1, 1, 10, 100], "svc__gamma": [1e-3, 1e-2, 1e-1]},
                    cv=3)
bayes = BayesSearchCV(model, {"svc__C": Real(1e-2, 1e3, prior="log-uniform"),
                              "svc__gamma": Real(1e-4, 1, prior="log-uniform")},
                      n_iter=12, cv=3, random_state=0)
for name, search in {"GridSearchCV (12 points)": grid, "BayesSearchCV (n_iter=12)": bayes}.items():
    scores = cross_val_score(search, X, y, cv=outer, n_jobs=2)
    print(f"{name:26s} outer accuracy {np.mean(scores):.4f} +- {np.std(scores):.4f}")
