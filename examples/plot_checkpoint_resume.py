"""
Resuming an interrupted search from a checkpoint
================================================

With ``checkpoint="file"``, the search state is written to the file after every
batch, or after every finished trial with ``asynchronous=True``. It is written
to a temporary file first and then renamed, so a kill never leaves half a
checkpoint. After Ctrl-C, a killed process or a lost machine, the same ``fit``
with the same file resumes: finished trials are not fitted again. A
synchronous search then ends with the same ``cv_results_`` as an uninterrupted
run.

Here a callback stands in for Ctrl-C: it raises ``KeyboardInterrupt`` after the
second batch.
"""

import os
import tempfile

from sklearn.datasets import load_digits
from sklearn.svm import SVC

from skhpo import BayesSearchCV, Real
from skhpo.callbacks import SearchCallback

X, y = load_digits(return_X_y=True)
space = {"C": Real(1e-2, 1e3, prior="log-uniform"), "gamma": Real(1e-5, 1e-1, prior="log-uniform")}
checkpoint = os.path.join(tempfile.mkdtemp(), "svc-search.ckpt")


class CtrlCAfter(SearchCallback):
    """Raise KeyboardInterrupt at the end of batch ``iteration``."""

    def __init__(self, iteration):
        self.iteration = iteration

    def on_iteration_end(self, search, *, iteration, **kwargs):
        if iteration == self.iteration:
            raise KeyboardInterrupt


def make_search(**kwargs):
    return BayesSearchCV(SVC(), space, n_iter=16, n_points=4, cv=3, random_state=0, **kwargs)


# %%
# The interrupted run: the error message says where the finished trials are.
try:
    make_search(checkpoint=checkpoint, callbacks=CtrlCAfter(1)).fit(X, y)
except KeyboardInterrupt as interrupt:
    print(interrupt)

# %%
# The same ``fit`` with the same file resumes.
resumed = make_search(checkpoint=checkpoint).fit(X, y)
print("trials read from the checkpoint:", resumed.n_resumed_trials_)
print("trials in cv_results_:", len(resumed.cv_results_["params"]))

# %%
# The results equal those of a run that was never interrupted.
uninterrupted = make_search().fit(X, y)
print("same scores:", list(resumed.cv_results_["mean_test_score"])
      == list(uninterrupted.cv_results_["mean_test_score"]))
print("best:", resumed.best_params_, round(resumed.best_score_, 4))
