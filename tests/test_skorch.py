"""skorch nets under HyperbandSearchCV: one resource unit is one epoch, history grows."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from skorch import NeuralNetClassifier  # noqa: E402
from skorch.callbacks import EarlyStopping  # noqa: E402
from torch import nn  # noqa: E402

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
