"""Render the pictures of the user guide's "Plots" section into docs/images/.

Run from the repository root (about a minute on two cores)::

    OMP_NUM_THREADS=1 python docs/render_images.py
"""
import time
import warnings

import joblib
import matplotlib

matplotlib.use("Agg")
warnings.simplefilter("ignore")
from scipy.stats import loguniform
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import RandomizedSearchCV
from sklearn.svm import SVC
from skhpo import BayesSearchCV, Categorical, GeneticSearchCV, HyperbandSearchCV, PBTSearchCV, Real
from skhpo.plot import (ConvergenceDisplay, GenerationDisplay, ParameterDisplay, RungDisplay,
                        ScheduleDisplay)

X, y = load_digits(return_X_y=True)
X = X / 16.0
OUT = "docs/images/"
svc_space = {"C": Real(1e-2, 1e3, prior="log-uniform"), "gamma": Real(1e-4, 1e0, prior="log-uniform"),
             "kernel": Categorical(["rbf", "sigmoid"])}
t = time.time()
bayes = BayesSearchCV(SVC(), svc_space, n_iter=30, n_initial_points=8, n_points=2, cv=3, random_state=0).fit(X, y)
print("bayes", time.time() - t, flush=True)
genetic = GeneticSearchCV(SVC(), svc_space, population_size=6, n_generations=5, cv=3, random_state=0).fit(X, y)
print("genetic", time.time() - t, flush=True)
random = RandomizedSearchCV(SVC(), {"C": loguniform(1e-2, 1e3), "gamma": loguniform(1e-4, 1e0),
                                    "kernel": ["rbf", "sigmoid"]}, n_iter=30, cv=3, random_state=0).fit(X, y)
print("random", time.time() - t, flush=True)
sgd_space = {"alpha": Real(1e-6, 1e-1, prior="log-uniform"), "eta0": Real(1e-4, 1e0, prior="log-uniform")}
sgd = SGDClassifier(loss="log_loss", learning_rate="constant", random_state=0)
hyperband = HyperbandSearchCV(sgd, sgd_space, resource="partial_fit", max_resources=27, factor=3,
                              cv=3, random_state=0).fit(X, y)
print("hyperband", time.time() - t, flush=True)
pbt = PBTSearchCV(sgd, sgd_space, population_size=8, max_resources=27, perturbation_interval=3,
                  cv=3, random_state=0).fit(X, y)
print("pbt", time.time() - t, flush=True)

d = ConvergenceDisplay.from_searches({"BayesSearchCV": bayes, "GeneticSearchCV": genetic,
                                      "RandomizedSearchCV": random})
d.ax_.set_title("SVC on digits: best score so far")
d.figure_.savefig(OUT + "convergence.png", dpi=100)
d = ConvergenceDisplay.from_searches({"BayesSearchCV": bayes, "GeneticSearchCV": genetic,
                                      "RandomizedSearchCV": random}, x="fit_time")
d.figure_.savefig(OUT + "convergence_time.png", dpi=100)
lognormal = {"C": Real(1e-2, 1e3, prior="log-uniform"), "gamma": Real(1e-4, 1e0, prior="log-uniform")}
# start the two loky workers first: neither search should pay their start-up
joblib.Parallel(n_jobs=2)(joblib.delayed(abs)(i) for i in range(4))
batches = BayesSearchCV(SVC(), lognormal, n_iter=24, n_points=2, cv=3, n_jobs=2,
                        random_state=0).fit(X, y)
streaming = BayesSearchCV(SVC(), lognormal, n_iter=24, cv=3, n_jobs=2, asynchronous=True,
                          random_state=0).fit(X, y)
print("bayes n_jobs=2", time.time() - t, flush=True)
d = ConvergenceDisplay.from_searches({"batches of 2": batches, "asynchronous=True": streaming},
                                     x="time")
d.ax_.set_title("BayesSearchCV, n_jobs=2: wall clock")
d.figure_.savefig(OUT + "convergence_wall.png", dpi=100)
d = ConvergenceDisplay.from_searches({"HyperbandSearchCV": hyperband, "PBTSearchCV": pbt}, x="resources")
d.ax_.set_title("SGDClassifier on digits: epochs spent")
d.figure_.savefig(OUT + "convergence_resources.png", dpi=100)
d = ParameterDisplay.from_search(bayes)
d.figure_.savefig(OUT + "parameters_bayes.png", dpi=100)
d = ParameterDisplay.from_search(bayes, dependence="best")
d.figure_.savefig(OUT + "parameters_bayes_best.png", dpi=100)
d = ParameterDisplay.from_search(random)
d.figure_.savefig(OUT + "parameters_random.png", dpi=100)
d = RungDisplay.from_search(hyperband)
d.figure_.savefig(OUT + "rungs.png", dpi=100)
d = ScheduleDisplay.from_search(pbt)
d.figure_.savefig(OUT + "schedule.png", dpi=100)
d = GenerationDisplay.from_search(genetic)
d.figure_.savefig(OUT + "generations.png", dpi=100)
print("done", time.time() - t, flush=True)
