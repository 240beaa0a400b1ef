"""
Comparing searchers with ConvergenceDisplay
===========================================

Three searches of the same SVC space on the digits data, 24 evaluations each:
scikit-learn's RandomizedSearchCV, :class:`~skhpo.BayesSearchCV` and
:class:`~skhpo.GeneticSearchCV`. :class:`~skhpo.plot.ConvergenceDisplay` draws
the best cross-validated score found after each evaluation, for all three on one
axes.
"""

from scipy.stats import loguniform
from sklearn.datasets import load_digits
from sklearn.model_selection import RandomizedSearchCV
from sklearn.svm import SVC

from skhpo import BayesSearchCV, GeneticSearchCV, Real
from skhpo.plot import ConvergenceDisplay

X, y = load_digits(return_X_y=True)
space = {"C": Real(1e-2, 1e3, prior="log-uniform"),
         "gamma": Real(1e-5, 1e-1, prior="log-uniform")}

# %%
# The same budget for every searcher. GeneticSearchCV spends it as a population
# of 6 over 5 generations (6 + 5 x 4 = 26 candidates at most, one elite kept).
searches = {
    "RandomizedSearchCV": RandomizedSearchCV(
        SVC(), {"C": loguniform(1e-2, 1e3), "gamma": loguniform(1e-5, 1e-1)},
        n_iter=24, cv=3, n_jobs=2, random_state=0),
    "BayesSearchCV": BayesSearchCV(SVC(), space, n_iter=24, cv=3, n_jobs=2, random_state=0),
    "GeneticSearchCV": GeneticSearchCV(SVC(), space, population_size=6, n_generations=5,
                                       cv=3, n_jobs=2, random_state=0),
}
for name, search in searches.items():
    search.fit(X, y)
    print(f"{name:20s} {len(search.cv_results_['params'])} candidates, "
          f"best CV accuracy {search.best_score_:.4f}")

# %%
# The best score so far against the number of evaluations.
display = ConvergenceDisplay.from_searches(searches)
display.ax_.set_title("SVC on digits")

# %%
# The same against the fit and score time spent (summed over folds and workers).
# scikit-learn's searches record no wall-clock time per candidate, so this is
# the axis on which all three compare; ``x="time"`` draws the wall clock of
# skhpo searchers (their ``finish_times_``).
ConvergenceDisplay.from_searches(searches, x="fit_time")
