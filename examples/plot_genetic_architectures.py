"""
Searching network architectures with GeneticSearchCV
====================================================

:class:`~skhpo.GeneticSearchCV` searches mixed spaces. Here the space mixes
scikit-learn ``MLPClassifier`` architectures (a categorical of layer tuples,
written as a plain list, as in a GridSearchCV grid) with two log-scaled reals.
The numeric genes follow a covariance-adapted search distribution. The
architecture gene is crossed and mutated. :class:`~skhpo.plot.GenerationDisplay`
draws the best, mean and spread of the fitness per generation.
"""

import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from skhpo import GeneticSearchCV, Real
from skhpo.plot import GenerationDisplay

warnings.filterwarnings("ignore", category=ConvergenceWarning)  # max_iter is short on purpose
X, y = load_digits(return_X_y=True)
X = X / 16

space = {
    "hidden_layer_sizes": [(16,), (64,), (32, 16), (64, 32)],
    "alpha": Real(1e-6, 1e-1, prior="log-uniform"),
    "learning_rate_init": Real(1e-4, 1e-1, prior="log-uniform"),
}
search = GeneticSearchCV(MLPClassifier(max_iter=30, random_state=0), space,
                         population_size=6, n_generations=4, cv=3, n_jobs=2, random_state=0)
search.fit(X, y)
print("best CV accuracy:", round(search.best_score_, 4))
print("best parameters:", search.best_params_)

# %%
# The mean CV accuracy of each architecture among the evaluated candidates.
results = search.cv_results_
for layers in space["hidden_layer_sizes"]:
    scores = [score for params, score in zip(results["params"], results["mean_test_score"])
              if params["hidden_layer_sizes"] == layers]
    if scores:
        print(f"{str(layers):10s} {len(scores):2d} candidates, best {max(scores):.4f}")

# %%
GenerationDisplay.from_search(search)
