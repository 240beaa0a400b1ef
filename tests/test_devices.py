"""``devices``: one device slot per running (trial, fold) task, models parked on the
CPU between rungs and rounds, CUDA out-of-memory as a failed fit.

Without a GPU the same code path runs with CPU device names: a net trained on
``"cpu:0"`` (torch's CPU, under another name than the ``"cpu"`` models are parked
on) shows where each task ran and where each held model was parked.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from conftest import SMALL_BUDGETS, DeviceRecorder, FitRecorder, read_fit_log
from sklearn.exceptions import FitFailedWarning
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from skorch import NeuralNetClassifier
from torch import nn

from skhpo import BayesSearchCV, HyperbandSearchCV, PBTSearchCV, Real
from skhpo._devices import DeviceSlots, move_net, resolve_devices
from skhpo.callbacks import SearchCallback

rng = np.random.RandomState(0)
X = rng.normal(size=(60, 4)).astype(np.float32)
y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
SPACE = {"C": Real(1e-2, 1e2, prior="log-uniform")}


def overlapping(records) -> list[tuple]:
    """Pairs of fit records that ran at the same time."""
    records = sorted(records, key=lambda r: r[2])
    return [(a, b) for i, a in enumerate(records) for b in records[i + 1:] if b[2] < a[3]]


# -- device slots ------------------------------------------------------------------

@pytest.mark.parametrize("devices", [["cpu:0", "cpu:1"], ["cpu:0"]])
def test_each_task_holds_one_slot_and_a_device_runs_one_task_per_slot(make_search, tmp_path,
                                                                      devices):
    log = tmp_path / "fits.log"
    search = make_search(DeviceRecorder(log=str(log)), SPACE, n_jobs=2, devices=devices)
    search.fit(X, y)
    records = read_fit_log(log)
    assert {device for device, *_ in records} == set(devices)
    assert search.devices_ == devices
    for device in devices:  # never two tasks at once on a one-slot device
        assert not overlapping([r for r in records if r[0] == device])
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_slots_go_to_the_least_busy_device_and_never_beyond_the_workers():
    slots = DeviceSlots(["cuda:0", "cuda:0", "cuda:1", "cuda:1"], "device", n_workers=3)
    taken = [slots.acquire() for _ in range(4)]
    assert [slots.devices[s] for s in taken[:3]] == ["cuda:0", "cuda:1", "cuda:0"]
    assert taken[3] is None and not slots.has_free  # three workers: three tasks
    slots.release(taken[1])
    assert slots.devices[slots.acquire()] == "cuda:1"


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_auto_without_a_gpu_is_one_cpu_slot_per_worker(tmp_path, n_jobs, monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    log = tmp_path / "fits.log"
    search = BayesSearchCV(DeviceRecorder(log=str(log), device="cuda"), SPACE,
                           n_jobs=n_jobs, devices="auto",
                           **{"cv": 3, "random_state": 0, **SMALL_BUDGETS[BayesSearchCV]})
    search.fit(X, y)
    assert search.devices_ == ["cpu"] * n_jobs
    assert {device for device, *_ in read_fit_log(log)} == {"cpu"}
    assert search.best_estimator_.device == "cpu"


def test_auto_with_gpus_is_one_slot_per_visible_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_devices("auto", n_workers=8) == ["cuda:0", "cuda:1"]
    assert resolve_devices(["cuda:1", "cuda:1"], n_workers=8) == ["cuda:1", "cuda:1"]
    assert resolve_devices(None, n_workers=8) is None


# -- validation ---------------------------------------------------------------------

def _two_device_steps(log):
    return Pipeline([("a", DeviceRecorder(log=log)), ("b", DeviceRecorder(log=log))])


INVALID = [
    ([], lambda log: DeviceRecorder(log=log), SPACE, r"devices=\[\] lists no device"),
    (["cpu", 1], lambda log: DeviceRecorder(log=log), SPACE,
     r"has 1, which is not a device name; give strings such as 'cuda:0'"),
    (["cuda:x"], lambda log: DeviceRecorder(log=log), SPACE,
     r"has 'cuda:x', which is not a CUDA device name; write 'cuda' or 'cuda:<index>'"),
    (["cpu", "cuda:64"], lambda log: DeviceRecorder(log=log), SPACE,
     r"has 'cuda:64', but torch.cuda.device_count\(\) is \d+ .*list only visible devices"),
    (["cpu"], lambda log: FitRecorder(log=log), SPACE,
     r"devices=\['cpu'\] sets the estimator's device parameter, but FitRecorder has none"),
    ("auto", lambda log: Pipeline([("scale", StandardScaler()), ("clf", FitRecorder(log=log))]),
     {"clf__C": SPACE["C"]}, r"devices='auto' sets the estimator's device parameter, but "
     r"Pipeline has none"),
    (["cpu"], _two_device_steps, {"a__C": SPACE["C"]},
     r"Pipeline has several: \['a__device', 'b__device'\]; use devices=None"),
    (["cpu"], lambda log: DeviceRecorder(log=log), {**SPACE, "device": ["cpu", "cuda"]},
     r"search_spaces names 'device', which devices=\['cpu'\] sets for every task"),
    ("cuda:0", lambda log: DeviceRecorder(log=log), SPACE,
     r"The 'devices' parameter of \w+ must be a str among \{'auto'\}"),
]


@pytest.mark.parametrize("devices, estimator, space, match", INVALID,
                         ids=[m[:30] for *_, m in INVALID])
def test_bad_devices_raise_before_any_fit(make_search, tmp_path, devices, estimator, space,
                                          match):
    log = tmp_path / "fits.log"
    search = make_search(estimator(str(log)), space, devices=devices)
    with pytest.raises(ValueError, match=match):
        search.fit(X, y)
    assert read_fit_log(log) == []


def test_a_pipeline_step_gets_the_device(tmp_path):
    log = tmp_path / "fits.log"
    pipe = Pipeline([("scale", StandardScaler()), ("clf", DeviceRecorder(log=str(log)))])
    search = HyperbandSearchCV(pipe, {"clf__C": SPACE["C"]}, max_resources=3, cv=3,
                               random_state=0, n_jobs=2, devices=["cpu:1"]).fit(X, y)
    assert {device for device, *_ in read_fit_log(log)} == {"cpu:1"}
    assert search.best_estimator_.get_params()["clf__device"] == "cpu:1"


# -- CUDA out of memory ---------------------------------------------------------------

def test_out_of_memory_fails_that_trial_only_and_empties_the_cache(make_search, monkeypatch):
    emptied = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(True))
    estimator = DeviceRecorder(duration=0.0, out_of_memory_at=2.0)
    search = make_search(estimator, {"C": [0.5, 1.0, 2.0]}, devices=["cpu:0"])
    with pytest.warns(FitFailedWarning, match=r"(?s)OutOfMemoryError: CUDA out of memory.*"
                      r"ran out of memory on device='cpu:0'; the other tasks went on"):
        search.fit(X, y)
    results = search.cv_results_
    failed = np.array([params["C"] == 2.0 for params in results["params"]])
    assert failed.any() and np.isnan(results["mean_test_score"][failed]).all()
    assert np.isfinite(results["mean_test_score"][~failed]).any()
    assert search.best_params_["C"] != 2.0
    # once per fold that ran out of memory (later rows of a PBT member whose
    # model failed fail for that reason, not for memory)
    assert len(emptied) >= 3


def test_out_of_memory_with_error_score_raise_raises_with_the_device(make_search):
    estimator = DeviceRecorder(duration=0.0, out_of_memory_at=2.0)
    search = make_search(estimator, {"C": [2.0]}, devices=["cpu:0"], error_score="raise")
    with pytest.raises(torch.cuda.OutOfMemoryError, match="CUDA out of memory") as raised:
        search.fit(X, y)
    assert any("ran out of memory on device='cpu:0'" in note
               for note in getattr(raised.value, "__notes__", []))


# -- skorch nets: placement and parking -------------------------------------------------


class SeededMLP(nn.Module):
    """Same initial weights in every process, so results do not depend on workers."""

    def __init__(self, hidden_units=8):
        super().__init__()
        torch.manual_seed(0)
        self.layers = nn.Sequential(nn.Linear(4, hidden_units), nn.ReLU(),
                                    nn.Linear(hidden_units, 2))

    def forward(self, X):
        return self.layers(X)


def make_net(**kwargs):
    return NeuralNetClassifier(SeededMLP, **{
        "max_epochs": 2, "lr": 0.05, "optimizer": torch.optim.Adam, "train_split": None,
        "verbose": 0, "batch_size": 16, "device": "cpu",
        "criterion__weight": torch.tensor([1.0, 2.0]), **kwargs})


def tensors_of(net) -> list:
    """Every tensor of a net's torch state that lives on its device: module,
    criterion and optimizer state (Adam's ``step`` stays on the CPU, as in torch)."""
    state = [t for s in net.optimizer_.state.values() for k, t in s.items()
             if torch.is_tensor(t) and k != "step"]
    return [*net.module_.parameters(), *net.criterion_.buffers(), *state]


class TrainedOn:
    """A scorer: 1.0 when the net was trained and is scored on one of ``devices``."""

    def __init__(self, devices):
        self.devices = devices

    def __call__(self, net, X, y):
        types = {torch.device(device).type for device in self.devices}
        weights_there = all(p.device.type in types for p in net.module_.parameters())
        return float(str(net.device) in self.devices and weights_there)


class ParkedModels(SearchCallback):
    """Records, after every batch, where each model held for a later rung is."""

    def __init__(self):
        self.held = []

    def on_iteration_end(self, search, **kwargs):
        evaluator = search._evaluator
        for trial in evaluator.live_trials:
            for net in evaluator.models_of(trial):
                self.held.append((net.device, {t.device.type for t in tensors_of(net)}))


INCREMENTAL = {
    "hyperband": lambda net, **kw: HyperbandSearchCV(
        net, {"lr": Real(1e-3, 0.3, prior="log-uniform")}, resource="partial_fit",
        max_resources=3, factor=3, cv=2, random_state=0, **kw),
    "pbt": lambda net, **kw: PBTSearchCV(
        net, {"lr": Real(1e-3, 0.3, prior="log-uniform")}, population_size=4,
        max_resources=4, perturbation_interval=2, cv=2, random_state=0, **kw),
}


def test_moving_a_fitted_net_moves_module_criterion_and_optimizer_state():
    net = make_net().fit(X, y)
    assert net.optimizer_.state  # Adam's moments exist
    # "meta" makes new parameter objects (CPU <-> CUDA keeps them): the
    # optimizer must follow them
    move_net(net, "meta")
    assert net.device == "meta"
    assert {t.device.type for t in tensors_of(net)} == {"meta"}
    optimized = [p for group in net.optimizer_.param_groups for p in group["params"]]
    assert all(a is b for a, b in zip(optimized, net.module_.parameters()))
    assert set(map(id, net.optimizer_.state)) == set(map(id, net.module_.parameters()))


@pytest.mark.parametrize("searcher", sorted(INCREMENTAL))
def test_held_nets_are_parked_on_the_cpu_and_results_do_not_change(searcher):
    parked = ParkedModels()
    scoring = {"accuracy": "accuracy", "on_slot": TrainedOn(["cpu:0"])}
    search = INCREMENTAL[searcher](make_net(), n_jobs=2, devices=["cpu:0"], scoring=scoring,
                                   refit="accuracy", callbacks=parked).fit(X, y)
    plain = INCREMENTAL[searcher](make_net(), n_jobs=2, scoring="accuracy").fit(X, y)

    assert (search.cv_results_["mean_test_on_slot"] == 1.0).all()  # trained on cpu:0
    assert parked.held and all(held == ("cpu", {"cpu"}) for held in parked.held)
    for key in ("params", "mean_test_score", "rank_test_score", "parent_id"):
        name = key.replace("score", "accuracy")
        np.testing.assert_array_equal(search.cv_results_[name], plain.cv_results_[key])
    assert search.best_estimator_.device == "cpu:0"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("searcher", sorted(INCREMENTAL))
def test_auto_trains_on_every_gpu_and_parks_on_the_cpu(searcher):
    gpus = [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    parked = ParkedModels()
    scoring = {"accuracy": "accuracy", "on_gpu": TrainedOn(gpus)}
    search = INCREMENTAL[searcher](make_net(), n_jobs=2, devices="auto", scoring=scoring,
                                   refit="accuracy", callbacks=parked).fit(X, y)
    assert search.devices_ == gpus
    assert (search.cv_results_["mean_test_on_gpu"] == 1.0).all()
    assert parked.held and all(held == ("cpu", {"cpu"}) for held in parked.held)
    assert next(search.best_estimator_.module_.parameters()).is_cuda

