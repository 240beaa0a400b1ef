"""
Learning-rate schedules with population-based training
======================================================

:class:`~skhpo.PBTSearchCV` trains a population of models side by side. Every
``perturbation_interval`` epochs, the weakest quarter copy the fitted models of
members from the strongest quarter and perturb the copied hyperparameters. The
winner therefore has a *schedule*, not a single value. Here an
``SGDClassifier`` with a constant learning rate learns a schedule for ``eta0``
and ``alpha`` on the digits data. :class:`~skhpo.plot.ScheduleDisplay` draws
who copied whom and the schedules.
"""

from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier

from skhpo import PBTSearchCV, Real
from skhpo.plot import ScheduleDisplay

X, y = load_digits(return_X_y=True)
X = X / 16
sgd = SGDClassifier(loss="log_loss", learning_rate="constant", random_state=0)
space = {"eta0": Real(1e-4, 1, prior="log-uniform"), "alpha": Real(1e-6, 1e-1, prior="log-uniform")}
search = PBTSearchCV(sgd, space, population_size=8, max_resources=24, perturbation_interval=3,
                     cv=3, random_state=0)
search.fit(X, y)
print("best CV accuracy:", round(search.best_score_, 4))

# %%
# The winner's schedule as (first epoch, hyperparameters) pairs, inherited steps
# included. With ``refit=True`` this schedule is replayed on all the data.
for step, params in search.best_schedule_:
    print(step, {name: f"{value:.3g}" for name, value in params.items()})

# %%
# Left: the lineage. Each dot is a member at the end of an interval, and a dashed
# line is a copy. Right: the schedule of each mutable hyperparameter, the best
# member's in black.
ScheduleDisplay.from_search(search)
