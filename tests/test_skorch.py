"""skorch nets under HyperbandSearchCV: one resource unit is one epoch, history grows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from skorch import NeuralNetClassifier  # noqa: E402
from skorch.callbacks import EarlyStopping  # noqa: E402
from torch import nn  # noqa: E402

import skhpo  # noqa: E402
from skhpo import Categorical, HyperbandSearchCV, Integer, Real  # noqa: E402
from skhpo.exceptions import SkhpoWarning  # noqa: E402
from skhpo.integration._skorch import is_skorch_net, partial_fit_epochs  # noqa: E402

rng = np.random.RandomState(0)
X = rng.normal(size=(60, 4)).astype(np.float32)
y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)


class MLP(nn.Module):
    def __init__(self, hidden_units=8):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(4, hidden_units), nn.ReLU(),
                                    nn.Linear(hidden_units, 2))

    def forward(self, X):
        return self.layers(X)


def make_net(**kwargs):
    params = dict(module=MLP, max_epochs=5, lr=0.1, optimizer=torch.optim.SGD,
                  criterion=nn.CrossEntropyLoss, train_split=None, verbose=0,
                  batch_size=32, device="cpu")
    torch.manual_seed(0)
    return NeuralNetClassifier(**{**params, **kwargs})


def n_epochs(net, X, y):
    """A scorer: the length of the net's history."""
    return float(len(net.history))


def test_partial_fit_epochs_trains_exactly_k_epochs_and_restores_max_epochs():
    net = make_net()
    assert is_skorch_net(net) and not is_skorch_net(MLP())
    partial_fit_epochs(net, X, y, 2)
    optimizer = net.optimizer_
    partial_fit_epochs(net, X, y, 1)
    assert len(net.history) == 3 and net.max_epochs == 5
    assert net.optimizer_ is optimizer  # continued, not re-initialized


def test_history_continues_across_rungs():
    space = {"lr": Real(1e-3, 0.3, prior="log-uniform"),
             "optimizer__weight_decay": Real(1e-6, 1e-2, prior="log-uniform"),
             "module__hidden_units": Integer(4, 16),
             "batch_size": Categorical([16, 32])}
    search = HyperbandSearchCV(make_net(), space, max_resources=3, cv=2, random_state=0,
                               scoring={"epochs": n_epochs, "accuracy": "accuracy"},
                               refit="epochs").fit(X, y)
    results = search.cv_results_
    assert search.resource_ == "partial_fit" and search.max_resources_ == 3
    # whatever max_epochs (5), each model has exactly n_resources epochs in its history
    np.testing.assert_array_equal(results["mean_test_epochs"], results["n_resources"])
    assert np.isfinite(results["mean_test_accuracy"]).all()
    best = search.best_estimator_
    assert len(best.history) == 3 and best.max_epochs == 5
    assert best.module_.layers[0].out_features == search.best_params_["module__hidden_units"]
    assert search.predict(X).shape == (60,)


def test_max_epochs_as_a_param_resource_restarts():
    search = HyperbandSearchCV(make_net(), {"lr": Real(1e-3, 0.3, prior="log-uniform")},
                               resource="max_epochs", max_resources=3, cv=2,
                               scoring=n_epochs, random_state=0).fit(X, y)
    results = search.cv_results_
    np.testing.assert_array_equal(results["mean_test_score"], results["n_resources"])
    assert search.best_params_["max_epochs"] == 3 and len(search.best_estimator_.history) == 3


def test_net_pitfalls_are_warned_about():
    space = {"lr": Real(1e-3, 0.3, prior="log-uniform")}
    net = make_net(train_split=skorch.dataset.ValidSplit(2),
                   callbacks=[("stop", EarlyStopping(patience=3))])
    with pytest.warns(SkhpoWarning) as caught:
        HyperbandSearchCV(net, space, max_resources=1, cv=2, random_state=0).fit(X, y)
    messages = [str(w.message) for w in caught]
    assert any("train_split=" in m and "Pass train_split=None" in m for m in messages)
    assert any("EarlyStopping" in m and "patience never spans two rungs" in m for m in messages)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkhpoWarning)
        HyperbandSearchCV(make_net(), space, max_resources=1, cv=2, random_state=0).fit(X, y)


def test_importing_skhpo_does_not_import_torch():
    code = "import sys, skhpo; assert 'torch' not in sys.modules and 'skorch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_net_with_joblib_processes():
    search = HyperbandSearchCV(make_net(device="cuda"),
                               {"lr": Real(1e-3, 0.3, prior="log-uniform")},
                               max_resources=3, cv=2, n_jobs=2, scoring=n_epochs,
                               random_state=0).fit(X, y)
    results = search.cv_results_
    np.testing.assert_array_equal(results["mean_test_score"], results["n_resources"])
    assert next(search.best_estimator_.module_.parameters()).is_cuda


KILLED_NET_SCRIPT = textwrap.dedent('''
    import os, signal, sys

    import numpy as np
    import torch
    from skorch import NeuralNetClassifier
    from skorch.callbacks import Callback
    from torch import nn

    from skhpo import HyperbandSearchCV, PBTSearchCV, Real
    from skhpo.callbacks import SearchCallback


    class Net(nn.Module):
        def __init__(self, hidden_units=16):
            super().__init__()
            torch.manual_seed(0)  # the same initial weights in every process and run
            self.layers = nn.Sequential(nn.Linear(8, hidden_units), nn.ReLU(),
                                        nn.Linear(hidden_units, 2))

        def forward(self, X):
            return self.layers(X)


    class CountEpochs(Callback):
        """Appends one line per trained epoch to the file named by $EPOCH_LOG."""

        def on_epoch_end(self, net, **kwargs):
            with open(os.environ["EPOCH_LOG"], "a") as log:
                log.write("1\\n")


    class KillAt(SearchCallback):
        def __init__(self, iteration):
            self.iteration = iteration

        def on_iteration_end(self, search, *, iteration, **kwargs):
            if iteration == self.iteration:
                os.kill(os.getpid(), signal.SIGKILL)


    if __name__ == "__main__":
        name, checkpoint, kill_at, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
        rng = np.random.RandomState(0)
        X = rng.normal(size=(150, 8)).astype(np.float32)
        y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
        net = NeuralNetClassifier(Net, max_epochs=9, lr=0.05, optimizer=torch.optim.SGD,
                                  train_split=None, verbose=0, batch_size=50,
                                  iterator_train__shuffle=False, callbacks=[CountEpochs()])
        space = {"lr": Real(1e-3, 0.3, prior="log-uniform")}
        common = dict(cv=3, random_state=0, n_jobs=2, refit=False, checkpoint=checkpoint or None,
                      callbacks=KillAt(kill_at) if kill_at >= 0 else None)
        if name == "hyperband":
            search = HyperbandSearchCV(net, space, resource="partial_fit", max_resources=9,
                                       factor=3, **common)
        else:
            search = PBTSearchCV(net, space, population_size=4, max_resources=6,
                                 perturbation_interval=2, **common)
        search.fit(X, y)
        results = search.cv_results_
        np.savez(out, **{key: np.asarray(results[key], dtype=float) for key in (
            "mean_test_score", "iteration", "trial_id", "parent_id", "n_resources")})
''')


@pytest.mark.parametrize("name", ["hyperband", "pbt"])
def test_a_killed_search_of_script_nets_resumes_without_training_again(name, tmp_path):
    """A search of skorch nets whose module class is in the user's script, at n_jobs=2,
    killed with SIGKILL after its second batch, resumes from the checkpoint: its
    results equal an uninterrupted run's, and only the killed batch trains again."""
    script = tmp_path / "search_script.py"
    script.write_text(KILLED_NET_SCRIPT)
    repo = str(Path(skhpo.__file__).resolve().parents[1])

    def run(run_name, kill_at, checkpoint=None):
        log, out = tmp_path / f"{run_name}.epochs", tmp_path / f"{run_name}.npz"
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore",
               "EPOCH_LOG": str(log),
               "PYTHONPATH": os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")])}
        # output to a file, not a pipe: a killed run's workers outlive it for a while
        with open(f"{log}.out", "w") as output:
            done = subprocess.run(
                [sys.executable, str(script), name, checkpoint or "", str(kill_at), str(out)],
                env=env, stdout=output, stderr=subprocess.STDOUT, timeout=600)
        epochs = len(log.read_text().split()) if log.exists() else 0
        return done, epochs, out, Path(f"{log}.out").read_text()

    checkpoint = str(tmp_path / "search.ckpt")
    full, full_epochs, full_out, text = run("full", -1)
    assert full.returncode == 0, text[-3000:]
    killed, killed_epochs, killed_out, text = run("killed", 1, checkpoint)
    assert killed.returncode == -signal.SIGKILL, text[-3000:]
    assert os.path.exists(checkpoint) and not killed_out.exists()
    resumed, resumed_epochs, resumed_out, text = run("resumed", -1, checkpoint)
    assert resumed.returncode == 0, text[-3000:]

    expected, got = np.load(full_out), np.load(resumed_out)
    for key in expected.files:
        np.testing.assert_array_equal(expected[key], got[key], err_msg=key)
    # epochs each row trained: its budget beyond its parent's, on each of 3 folds
    resources = dict(zip(expected["trial_id"], expected["n_resources"]))
    trained = 3 * np.array([r - resources.get(p, 0) for r, p in
                            zip(expected["n_resources"], expected["parent_id"])])
    iteration = expected["iteration"]
    assert full_epochs == trained.sum()
    # the kill came in batch 1's callback, before its checkpoint: batch 1 trains again
    assert killed_epochs == trained[iteration <= 1].sum()
    assert resumed_epochs == trained[iteration >= 1].sum()
