"""
Running a search on a dask cluster
==================================

Every searcher sends its fits through joblib, so a dask cluster runs them
inside ``joblib.parallel_backend("dask")``. ``Client("scheduler:8786")``
connects to a running cluster. This example starts a local one with two worker
processes, so it runs anywhere. Results stream back as they finish:
``asynchronous=True`` starts a new trial as soon as a worker frees.
"""

from dask.distributed import Client, LocalCluster
from joblib import parallel_backend
from sklearn.datasets import load_digits
from sklearn.svm import SVC

from skhpo import BayesSearchCV, Real

X, y = load_digits(return_X_y=True)
space = {"C": Real(1e-2, 1e3, prior="log-uniform"), "gamma": Real(1e-5, 1e-1, prior="log-uniform")}

if __name__ == "__main__":
    with LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        search = BayesSearchCV(SVC(), space, n_iter=16, cv=3, n_jobs=-1, asynchronous=True,
                               random_state=0)
        with parallel_backend("dask"):
            search.fit(X, y)
        print("workers:", len(client.scheduler_info()["workers"]))
        print("best CV accuracy:", round(search.best_score_, 4), search.best_params_)
