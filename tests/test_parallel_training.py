"""Continued training in worker processes: models of several MiB, every joblib backend,
classes defined in a script's ``__main__``.

A promoted (Hyperband) or exploited (PBT) model goes to a worker, trains further
there and comes back. These tests check that it is trained exactly as in the
search process: ``cv_results_`` at ``n_jobs=2`` equal those at ``n_jobs=1`` for
deterministic estimators, with weights large enough (> 1 MiB) for loky to
memory-map them if they were passed as plain arguments.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.neural_network import MLPClassifier

import skhpo
from skhpo import HyperbandSearchCV, PBTSearchCV, Real
from skhpo._transfer import ModelParcel, dumps_model, loads_model

MiB = 2**20


def wide_sgd_task():
    """SGD on 5,000 features x 50 classes: ``coef_`` alone is 1.9 MiB."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 5000))
    y = np.arange(300) % 50
    X[np.arange(300), y] += 3.0  # learnable
    space = {"alpha": Real(1e-5, 1e-1, prior="log-uniform"),
             "eta0": Real(1e-3, 1e-1, prior="log-uniform")}
    # eta0 given: its default is 0.0 (invalid with "constant") before scikit-learn 1.8
    sgd = SGDClassifier(loss="log_loss", learning_rate="constant", eta0=0.01, random_state=0)
    return sgd, space, X, y


def wide_mlp_task():
    """MLP (512, 512) on digits: 2.3 MiB of weights, 6.9 MiB with Adam's moments."""
    X, y = load_digits(return_X_y=True)
    X, y = X[:400] / 16, y[:400]
    space = {"alpha": Real(1e-5, 1e-1, prior="log-uniform"),
             "learning_rate_init": Real(1e-4, 1e-2, prior="log-uniform")}
    return MLPClassifier(hidden_layer_sizes=(512, 512), random_state=0), space, X, y


TASKS = {"sgd": wide_sgd_task, "mlp": wide_mlp_task}
SEARCHERS = {
    "hyperband": lambda est, space, **kw: HyperbandSearchCV(
        est, space, resource="partial_fit", max_resources=3, factor=3, cv=2,
        random_state=0, **kw),
    "pbt": lambda est, space, **kw: PBTSearchCV(
        est, space, population_size=4, max_resources=4, perturbation_interval=2, cv=2,
        random_state=0, **kw),
}


def assert_same_results(expected: dict, actual: dict) -> None:
    """Every ``cv_results_`` column equal, timings aside."""
    assert expected.keys() == actual.keys()
    for key in expected:
        if key.endswith("_time"):
            continue
        if key == "params":
            assert expected[key] == actual[key]
        elif np.asarray(expected[key]).dtype == object:
            assert list(expected[key]) == list(actual[key]), key
        else:
            np.testing.assert_array_equal(expected[key], actual[key], err_msg=key)


def continued_rows(search) -> np.ndarray:
    """Rows whose models came from an earlier evaluation (promoted or exploited)."""
    results = search.cv_results_
    if isinstance(search, HyperbandSearchCV):
        return np.asarray(results["iter"]) > 0
    return np.asarray(results["iteration"]) > 0


@pytest.mark.parametrize("searcher", sorted(SEARCHERS))
@pytest.mark.parametrize("task", sorted(TASKS))
def test_continued_models_of_several_mib_train_as_in_one_process(task, searcher):
    estimator, space, X, y = TASKS[task]()
    serial = SEARCHERS[searcher](estimator, space, n_jobs=1).fit(X, y)
    parallel = SEARCHERS[searcher](estimator, space, n_jobs=2).fit(X, y)

    assert np.isfinite(parallel.cv_results_["mean_test_score"]).all()
    assert continued_rows(parallel).any()
    assert_same_results(serial.cv_results_, parallel.cv_results_)
    assert parallel.best_score_ == serial.best_score_
    # the models really crossed process boundaries, in both directions
    assert all(t["bytes_sent"] == t["bytes_received"] == 0 for t in serial.model_transfers_)
    assert sum(t["bytes_received"] for t in parallel.model_transfers_) > MiB


def test_bytes_moved_are_the_live_models_once():
    estimator, space, X, y = wide_sgd_task()
    search = SEARCHERS["hyperband"](estimator, space, n_jobs=2).fit(X, y)
    model_bytes = len(dumps_model(search.best_estimator_))
    assert model_bytes > MiB
    iterations = np.asarray(search.cv_results_["iteration"])
    continued = continued_rows(search)
    assert len(search.model_transfers_) == iterations.max() + 1
    final = np.asarray(search.cv_results_["n_resources"]) == search.max_resources_
    assert final.any() and (~final).any()
    for batch, moved in enumerate(search.model_transfers_):
        rows = iterations == batch
        n_continued = int(continued[rows].sum()) * search.n_splits_
        n_returned = int((rows & ~final).sum()) * search.n_splits_
        assert moved["n_models"] == rows.sum() * search.n_splits_
        # every trained model below the largest budget comes back once; a model
        # at the largest budget is never continued, so it stays in the worker ...
        assert moved["bytes_received"] == pytest.approx(n_returned * model_bytes, rel=0.02)
        # ... and only continued models go out with their weights (fresh ones are
        # unfitted clones of a few kB)
        assert moved["bytes_sent"] <= n_continued * model_bytes * 1.02 + moved["n_models"] * 10_000
        assert moved["bytes_sent"] >= n_continued * model_bytes * 0.98


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


@pytest.fixture(scope="module")
def ray_backend():
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    register_ray()
    yield
    ray.shutdown()


@pytest.mark.parametrize("searcher", sorted(SEARCHERS))
@pytest.mark.parametrize("backend", ["threading", "dask", "ray"])
def test_every_joblib_backend_trains_continued_models_as_in_one_process(backend, searcher,
                                                                         request):
    if backend != "threading":
        request.getfixturevalue({"dask": "dask_client", "ray": "ray_backend"}[backend])
    estimator, space, X, y = wide_sgd_task()
    serial = SEARCHERS[searcher](estimator, space, n_jobs=1).fit(X, y)
    with joblib.parallel_backend(backend, n_jobs=2):
        parallel = SEARCHERS[searcher](estimator, space, n_jobs=2).fit(X, y)
    assert np.isfinite(parallel.cv_results_["mean_test_score"]).all()
    assert_same_results(serial.cv_results_, parallel.cv_results_)
    moved = sum(t["bytes_received"] for t in parallel.model_transfers_)
    assert moved == 0 if backend == "threading" else moved > MiB


def test_a_parcel_moves_nothing_in_process_and_gives_writable_arrays_across():
    estimator, _, X, y = wide_sgd_task()
    model = estimator.partial_fit(X, y, classes=np.unique(y))
    parcel = ModelParcel(model)
    assert parcel.model is model and parcel.nbytes == 0

    read_only = pickle.loads(pickle.dumps(model))
    read_only.coef_.setflags(write=False)  # as loky's memory maps and ray's store give them
    arrived = pickle.loads(pickle.dumps(ModelParcel(read_only)))
    assert arrived.nbytes > MiB
    assert arrived.model.coef_.flags.writeable
    np.testing.assert_array_equal(arrived.model.coef_, model.coef_)
    arrived.model.partial_fit(X, y)  # raises "output array is read-only" on a view
    assert loads_model(dumps_model(None)) is None


MAIN_SCRIPT = textwrap.dedent('''
    import sys

    import numpy as np
    import torch
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier
    from skorch import NeuralNetClassifier
    from torch import nn

    from skhpo import HyperbandSearchCV, PBTSearchCV, Real


    class Net(nn.Module):
        def __init__(self, hidden=32):
            super().__init__()
            self.layers = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))

        def forward(self, X):
            return self.layers(X)


    class ScriptSGD(SGDClassifier):
        """An estimator class that exists only in this script."""


    def n_epochs(net, X, y):
        return float(len(net.history))


    def searches(estimator, space, **kwargs):
        yield HyperbandSearchCV(estimator, space, resource="partial_fit", max_resources=3,
                                factor=3, cv=2, random_state=0, **kwargs)
        yield PBTSearchCV(estimator, space, population_size=4, max_resources=4,
                          perturbation_interval=2, cv=2, random_state=0, **kwargs)


    if __name__ == "__main__":
        X, y = load_digits(return_X_y=True)
        X, y = (X[:300] / 16).astype(np.float32), y[:300].astype(np.int64)
        device = sys.argv[1]
        net = NeuralNetClassifier(Net, criterion=nn.CrossEntropyLoss, max_epochs=2, lr=0.1,
                                  train_split=None, verbose=0, device=device)
        for search in searches(net, {"lr": Real(1e-3, 0.5, prior="log-uniform")},
                               scoring=n_epochs, n_jobs=2):
            search.fit(X, y)
            results = search.cv_results_
            # each continued net has exactly its budget of epochs in its history
            np.testing.assert_array_equal(results["mean_test_score"], results["n_resources"])
            assert type(search.best_estimator_.module_) is Net
            assert next(search.best_estimator_.module_.parameters()).device.type == device
            print(type(search).__name__, "skorch ok", len(results["params"]))
        sgd = ScriptSGD(loss="log_loss", random_state=0)
        space = {"alpha": Real(1e-5, 1e-1, prior="log-uniform")}
        for serial, parallel in zip(searches(sgd, space, n_jobs=1),
                                    searches(sgd, space, n_jobs=2)):
            serial.fit(X, y)
            parallel.fit(X, y)
            np.testing.assert_array_equal(serial.cv_results_["mean_test_score"],
                                          parallel.cv_results_["mean_test_score"])
            assert np.isfinite(parallel.cv_results_["mean_test_score"]).all()
            assert type(parallel.best_estimator_) is ScriptSGD
            print(type(parallel).__name__, "script class ok")
''')


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_classes_defined_in_the_users_script_work_at_n_jobs_2(tmp_path, device):
    torch = pytest.importorskip("torch")
    pytest.importorskip("skorch")
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    script = tmp_path / "user_script.py"
    script.write_text(MAIN_SCRIPT)
    # the skhpo under test, not another installed copy
    repo = str(Path(skhpo.__file__).resolve().parents[1])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore",
           "PYTHONPATH": os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(script), device], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for line in ["HyperbandSearchCV skorch ok", "PBTSearchCV skorch ok",
                 "HyperbandSearchCV script class ok", "PBTSearchCV script class ok"]:
        assert line in done.stdout
