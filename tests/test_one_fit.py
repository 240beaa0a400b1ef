"""One small fit of every searcher, as a GridSearchCV user would check it.

The oldest supported scikit-learn runs this module in CI, so it uses public
scikit-learn names only and needs neither torch nor skorch.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SMALL_SEARCHES
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

X, y = make_classification(n_samples=150, n_features=6, n_informative=4, n_classes=3,
                           random_state=0)


def grid_search_keys() -> set[str]:
    """The ``cv_results_`` keys of GridSearchCV on the same kind of search."""
    grid = GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=3).fit(X, y)
    return {key.replace("param_C", "param_{name}") for key in grid.cv_results_}


@pytest.mark.parametrize("name", sorted(SMALL_SEARCHES))
def test_one_fit(name):
    search = SMALL_SEARCHES[name]().fit(X, y)
    results = search.cv_results_
    (param_name,) = search.best_params_
    expected = {key.format(name=param_name) for key in grid_search_keys()}
    assert expected <= set(results), expected - set(results)

    n_candidates = len(results["params"])
    assert n_candidates > 1
    for key in expected:
        assert len(results[key]) == n_candidates, key
    assert [p[param_name] for p in results["params"]] == list(results[f"param_{param_name}"])
    assert np.isfinite(results["mean_test_score"]).all()
    ranks = results["rank_test_score"]
    assert ranks.min() == 1 and ranks.max() <= n_candidates

    assert search.best_params_ == results["params"][search.best_index_]
    assert search.best_score_ == results["mean_test_score"][search.best_index_]
    assert search.n_splits_ == 3
    assert search.refit_time_ >= 0
    assert search.best_estimator_.get_params()[param_name] == search.best_params_[param_name]
    predictions = search.predict(X)
    assert predictions.shape == y.shape
    np.testing.assert_array_equal(predictions, search.best_estimator_.predict(X))
    assert set(predictions) <= set(search.classes_)
    assert search.score(X, y) > 0.5  # three balanced classes: chance is 1/3
