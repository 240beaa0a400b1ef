"""The search loop: trial ids and lineage, workers that die, checkpoints and resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from contextlib import nullcontext
from pathlib import Path

import joblib

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier

import skhpo
from conftest import SMALL_SEARCHES
from skhpo import GeneticSearchCV, HyperbandSearchCV, Real
from skhpo._executor import Executor
from skhpo._loop import CHUNK_SECONDS, MAX_CHUNK, CheckpointMismatchError, chunk_size
from skhpo.callbacks import SearchCallback
from skhpo.testing import assert_same_results

X, y = make_classification(n_samples=120, n_features=6, random_state=0)


# -- trial ids and lineage ----------------------------------------------------

@pytest.mark.parametrize("name", sorted(SMALL_SEARCHES))
def test_every_row_has_a_trial_id_and_its_parents_id(name):
    results = SMALL_SEARCHES[name]().fit(X, y).cv_results_
    ids = np.asarray(results["trial_id"])
    parents = np.asarray(results["parent_id"])
    np.testing.assert_array_equal(np.sort(ids), np.arange(len(ids)))
    row_of = {trial_id: row for row, trial_id in enumerate(ids)}
    for row, parent in enumerate(parents):
        if parent == -1:
            continue
        assert parent < ids[row]  # a parent finished before its child started
        assert results["n_resources"][row_of[parent]] < results["n_resources"][row]
    continued = (parents != -1).any()
    assert continued == (name in {"hyperband-partial_fit", "pbt"})


def test_hyperband_children_continue_their_parents_params():
    results = SMALL_SEARCHES["hyperband-partial_fit"]().fit(X, y).cv_results_
    row_of = {t: r for r, t in enumerate(results["trial_id"])}
    for row, parent in enumerate(results["parent_id"]):
        if parent != -1:
            assert results["params"][row] == results["params"][row_of[parent]]
            assert results["bracket"][row] == results["bracket"][row_of[parent]]


# -- a worker that dies --------------------------------------------------------

class Crashing(SGDClassifier):
    """Kills the process that fits it when ``alpha == crash_at``."""

    def __init__(self, alpha=1e-4, crash_at=-1.0, loss="log_loss", max_iter=20, tol=None,
                 random_state=0):
        super().__init__(alpha=alpha, loss=loss, max_iter=max_iter, tol=tol,
                         random_state=random_state)
        self.crash_at = crash_at

    def _maybe_crash(self):
        if self.alpha == self.crash_at:
            os._exit(3)

    def fit(self, X, y, **kwargs):
        self._maybe_crash()
        return super().fit(X, y, **kwargs)

    def partial_fit(self, X, y, classes=None, **kwargs):
        self._maybe_crash()
        return super().partial_fit(X, y, classes=classes, **kwargs)


GRID = {"alpha": [1e-4, 1e-3, 1e-2, 1e-1]}
CRASHERS = {
    "genetic": lambda est, **kw: GeneticSearchCV(est, GRID, population_size=4,
                                                 n_generations=1, cv=3, random_state=0, **kw),
    "hyperband": lambda est, **kw: HyperbandSearchCV(
        est, GRID, resource="partial_fit", max_resources=3, factor=3, cv=3,
        random_state=0, **kw),
}


@pytest.mark.parametrize("name", sorted(CRASHERS))
def test_a_worker_that_dies_fails_its_trial_and_the_search_goes_on(name):
    make = CRASHERS[name]
    crash_at = 1e-2
    with pytest.warns(Warning, match="fits failed"):
        search = make(Crashing(crash_at=crash_at), n_jobs=2).fit(X, y)
    reference = make(Crashing(), n_jobs=1).fit(X, y)
    results = search.cv_results_
    crashed = np.array([p["alpha"] == crash_at for p in results["params"]])
    assert crashed.any() and (~crashed).any()
    assert np.isnan(np.asarray(results["mean_test_score"])[crashed]).all()
    # everything else is exactly what a run without the crash gives
    def rows(results):
        resources = results.get("n_resources", [None] * len(results["params"]))
        return {(p["alpha"], r): s for p, r, s in zip(
            results["params"], resources, results["mean_test_score"])}

    expected, actual = rows(reference.cv_results_), rows(results)
    compared = [key for key in actual if key[0] != crash_at and key in expected]
    assert len(compared) >= 2
    for key in compared:
        assert actual[key] == expected[key], key
    assert search.best_params_["alpha"] != crash_at


@pytest.fixture
def submissions(monkeypatch):
    """Counts the executor submissions of the searches run in the test."""
    count = [0]
    submit = Executor.submit

    def counted(self, fn, /, *args, **kwargs):
        count[0] += 1
        return submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(Executor, "submit", counted)
    return count


def test_a_worker_that_dies_inside_a_chunk_fails_only_its_own_trial(submissions):
    alphas = np.logspace(-5, 0, 40).tolist()
    crash_at = alphas[30]

    def make(estimator, n_jobs):
        return GeneticSearchCV(estimator, {"alpha": alphas}, population_size=40,
                               n_generations=1, cv=3, random_state=0, n_jobs=n_jobs)

    with pytest.warns(Warning, match="fits failed"):
        search = make(Crashing(crash_at=crash_at), n_jobs=2).fit(X, y)
    # the short fits went in chunks, so the crash took other tasks down with it
    assert submissions[0] < 40 * 3
    reference = make(Crashing(), n_jobs=1).fit(X, y)
    results, expected = search.cv_results_, reference.cv_results_
    crashed = np.array([p["alpha"] == crash_at for p in results["params"]])
    assert crashed.sum() == 1
    scores = np.asarray(results["mean_test_score"])
    assert np.isnan(scores[crashed]).all()
    assert [p["alpha"] for p in results["params"]] == [p["alpha"] for p in expected["params"]]
    np.testing.assert_array_equal(scores[~crashed],
                                  np.asarray(expected["mean_test_score"])[~crashed])


@pytest.mark.parametrize("task_seconds, n_workers, n_ready, expected", [
    (None, 2, 1000, 1),  # nothing measured yet
    (1e-4, 1, 1000, 1),  # one worker: nothing to save
    (1e-4, 2, 1000, MAX_CHUNK),
    (CHUNK_SECONDS / 10, 2, 1000, 10),
    (CHUNK_SECONDS / 10, 2, 7, 4),  # every worker gets some of the last tasks
    (CHUNK_SECONDS * 2, 8, 1000, 1),  # long tasks go one by one
    (1e-4, 4, None, MAX_CHUNK),
])
def test_chunk_size(task_seconds, n_workers, n_ready, expected):
    assert chunk_size(task_seconds, n_workers, n_ready) == expected


@pytest.mark.parametrize("asynchronous", [False, True])
@pytest.mark.parametrize("duration, chunked", [(0.0, True), (0.12, False)])
def test_short_tasks_share_submissions_long_ones_do_not(duration, chunked, asynchronous,
                                                        submissions):
    from conftest import FitRecorder

    n_candidates = 60 if chunked else 12
    search = skhpo.BayesSearchCV(
        FitRecorder(duration=duration), {"C": Real(1e-3, 1e3, prior="log-uniform")},
        n_iter=n_candidates, n_initial_points=n_candidates, cv=3, random_state=0,
        n_jobs=2, asynchronous=asynchronous).fit(X, y)
    n_tasks = 3 * len(search.cv_results_["params"])
    assert len(search.cv_results_["params"]) == n_candidates
    if chunked:
        assert submissions[0] < n_tasks / 3
    else:
        assert submissions[0] == n_tasks
    if not asynchronous:  # the same results as one worker gives
        reference = skhpo.BayesSearchCV(
            FitRecorder(duration=duration), {"C": Real(1e-3, 1e3, prior="log-uniform")},
            n_iter=n_candidates, n_initial_points=n_candidates, cv=3, random_state=0,
            n_jobs=1).fit(X, y)
        assert_same_results(search.cv_results_, reference.cv_results_)


@pytest.mark.parametrize("n_jobs, backend", [(1, None), (2, "threading")])
def test_finish_time_is_the_wall_clock_second_each_trial_finished(n_jobs, backend):
    from conftest import FitRecorder

    duration, n_splits, n_candidates = 0.1, 2, 6
    search = skhpo.BayesSearchCV(
        FitRecorder(duration=duration), {"C": Real(1e-3, 1e3, prior="log-uniform")},
        n_iter=n_candidates, n_initial_points=n_candidates, cv=n_splits, random_state=0,
        n_jobs=n_jobs, refit=False)
    start = time.perf_counter()
    with joblib.parallel_backend(backend) if backend else nullcontext():
        search.fit(X, y)
    wall = time.perf_counter() - start
    assert "finish_time" not in search.cv_results_  # equal cv_results_ for equal fits
    assert len(search.finish_times_) == n_candidates
    finish = np.sort(search.finish_times_)
    # the k-th trial to finish waited for k trials' fits on n_jobs workers
    least = np.arange(1, n_candidates + 1) * n_splits * duration / n_jobs
    assert np.all(finish >= 0.95 * least)
    assert finish[-1] <= wall
    if n_jobs > 1:  # wall clock, not the fit time summed over workers
        summed = n_candidates * n_splits * duration
        assert finish[-1] < 0.8 * summed


class WarnsWhenFitted(SGDClassifier):
    """An SGDClassifier whose fit always warns ``ConvergenceWarning``."""

    def fit(self, X, y, **kwargs):
        warnings.warn("this fit warns", ConvergenceWarning)
        return super().fit(X, y, **kwargs)


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_workers_follow_the_warning_filters_of_the_fitting_process(backend):
    # as with scikit-learn's Parallel: a filter set around fit reaches the
    # workers (here "error", which makes every fit fail where it is honoured)
    search = skhpo.BayesSearchCV(
        WarnsWhenFitted(max_iter=5, tol=None), {"alpha": Real(1e-4, 1e-1, prior="log-uniform")},
        n_iter=2, n_initial_points=2, cv=2, n_jobs=2, random_state=0, refit=False)
    with warnings.catch_warnings(), joblib.parallel_backend(backend):
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ValueError, match=r"All the 4 fits failed(.|\n)*this fit warns"):
            search.fit(X, y)


def test_a_dead_worker_is_reported_in_the_fit_failed_warning():
    with pytest.warns(Warning, match="worker process died while it fitted") as caught:
        CRASHERS["genetic"](Crashing(crash_at=1e-3), n_jobs=2).fit(X, y)
    assert any("fits failed" in str(w.message) for w in caught)


# -- checkpoints ---------------------------------------------------------------

class InterruptAt(SearchCallback):
    """Raises KeyboardInterrupt (as Ctrl-C does) after batch ``iteration``."""

    def __init__(self, iteration):
        self.iteration = iteration

    def on_iteration_end(self, search, *, iteration, **kwargs):
        if iteration == self.iteration:
            raise KeyboardInterrupt


@pytest.mark.parametrize("name", sorted(SMALL_SEARCHES))
def test_an_interrupted_search_resumes_to_the_uninterrupted_results(name, tmp_path):
    checkpoint = tmp_path / "search.ckpt"
    uninterrupted = SMALL_SEARCHES[name]().fit(X, y)
    if uninterrupted.n_iterations_ < 2:
        pytest.skip("a single batch: nothing to interrupt")
    search = SMALL_SEARCHES[name](checkpoint=str(checkpoint), callbacks=InterruptAt(1))
    with pytest.raises(KeyboardInterrupt, match="saved in the checkpoint"):
        search.fit(X, y)
    assert checkpoint.exists()
    resumed = SMALL_SEARCHES[name](checkpoint=str(checkpoint)).fit(X, y)
    # the interrupt came inside batch 1's callback: batches 0 and 1 are kept
    told = np.sum(np.asarray(uninterrupted.cv_results_["iteration"]) <= 1)
    assert resumed.n_resumed_trials_ == told
    assert_same_results(uninterrupted.cv_results_, resumed.cv_results_)
    # the clock of the resumed run goes on from the interrupted one's
    finish = resumed.finish_times_
    assert np.all(finish[told:] >= finish[:told].max())
    assert resumed.best_params_ == uninterrupted.best_params_


@pytest.mark.parametrize("name", ["hyperband-partial_fit", "pbt"])
def test_checkpoints_write_models_as_the_bytes_they_came_back_in(name, tmp_path, monkeypatch):
    # at n_jobs=2 every continued model arrives pickled: a checkpoint must not
    # pickle it a second time in the main process (that cost a fifth of a
    # skorch search's wall time), and the stored bytes must resume exactly
    import skhpo._incremental as incremental
    dumps, original = [], incremental.dumps_model

    def counting_dumps(model):
        dumps.append(model)
        return original(model)

    monkeypatch.setattr(incremental, "dumps_model", counting_dumps)
    checkpoint = tmp_path / "search.ckpt"
    uninterrupted = SMALL_SEARCHES[name](n_jobs=2).fit(X, y)
    search = SMALL_SEARCHES[name](checkpoint=str(checkpoint), callbacks=InterruptAt(1), n_jobs=2)
    with pytest.raises(KeyboardInterrupt, match="saved in the checkpoint"):
        search.fit(X, y)
    assert dumps == []
    resumed = SMALL_SEARCHES[name](checkpoint=str(checkpoint), n_jobs=2).fit(X, y)
    assert resumed.n_resumed_trials_ > 0
    assert_same_results(uninterrupted.cv_results_, resumed.cv_results_)


def test_an_interrupt_without_checkpoint_says_how_to_keep_results():
    search = SMALL_SEARCHES["bayes"](callbacks=InterruptAt(0))
    with pytest.raises(KeyboardInterrupt, match="pass checkpoint="):
        search.fit(X, y)


def test_a_checkpoint_of_another_search_is_an_error_naming_what_differs(tmp_path):
    checkpoint = str(tmp_path / "search.ckpt")
    SMALL_SEARCHES["bayes"](checkpoint=checkpoint).fit(X, y)
    with pytest.raises(CheckpointMismatchError, match="data X differ"):
        SMALL_SEARCHES["bayes"](checkpoint=checkpoint).fit(X + 1, y)
    with pytest.raises(CheckpointMismatchError, match="scoring differ"):
        SMALL_SEARCHES["bayes"](checkpoint=checkpoint, scoring="balanced_accuracy").fit(X, y)
    # n_jobs, verbose, callbacks and max_time may change between runs
    SMALL_SEARCHES["bayes"](checkpoint=checkpoint, n_jobs=2, verbose=0).fit(X, y)


@pytest.mark.parametrize("name", sorted(SMALL_SEARCHES))
@pytest.mark.parametrize("checkpoint, match", [
    ("", r"checkpoint='' is not a file path"),
    ("no/such/folder/search.ckpt", r"checkpoint='no/such/folder/search.ckpt': the folder .* "
                                   "does not exist"),
])
def test_a_checkpoint_path_that_cannot_be_written_is_an_error_before_any_fit(
        name, checkpoint, match, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    search = SMALL_SEARCHES[name](checkpoint=checkpoint)

    def fitted(*args, **kwargs):
        raise AssertionError("a model was fitted before the checkpoint was checked")

    for method in ("fit", "partial_fit"):
        monkeypatch.setattr(type(search.estimator), method, fitted, raising=False)
    with pytest.raises(ValueError, match=match):
        search.fit(X, y)


def test_a_finished_checkpoint_refits_nothing_but_the_best(tmp_path):
    checkpoint = str(tmp_path / "search.ckpt")
    first = SMALL_SEARCHES["pbt"](checkpoint=checkpoint).fit(X, y)
    again = SMALL_SEARCHES["pbt"](checkpoint=checkpoint).fit(X, y)
    assert again.n_resumed_trials_ == len(first.cv_results_["params"])
    assert_same_results(first.cv_results_, again.cv_results_)


KILLED_SCRIPT = textwrap.dedent('''
    import os, signal, sys

    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    from skhpo import GeneticSearchCV, Real
    from skhpo.callbacks import SearchCallback


    class CountedLogistic(LogisticRegression):
        """Appends one line per fit to the file named by $FIT_LOG."""

        def fit(self, X, y, **kwargs):
            with open(os.environ["FIT_LOG"], "a") as log:
                log.write(f"{self.C!r}\\n")
            return super().fit(X, y, **kwargs)


    class KillAt(SearchCallback):
        def __init__(self, iteration):
            self.iteration = iteration

        def on_iteration_end(self, search, *, iteration, **kwargs):
            if iteration == self.iteration:
                os.kill(os.getpid(), signal.SIGKILL)


    if __name__ == "__main__":
        checkpoint, kill_at, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        X, y = make_classification(n_samples=120, n_features=6, random_state=0)
        search = GeneticSearchCV(
            CountedLogistic(), {"C": Real(1e-3, 1e3, prior="log-uniform")},
            population_size=6, n_generations=5, cv=3, random_state=0, n_jobs=2,
            checkpoint=checkpoint or None,
            callbacks=KillAt(kill_at) if kill_at >= 0 else None)
        search.fit(X, y)
        np.save(out, np.asarray(search.cv_results_["mean_test_score"]))
        np.save(out + ".params.npy", np.asarray([p["C"] for p in search.cv_results_["params"]]))
        np.save(out + ".iteration.npy", np.asarray(search.cv_results_["iteration"]))
''')


def test_a_killed_search_resumes_without_fitting_finished_trials_again(tmp_path):
    script = tmp_path / "search_script.py"
    script.write_text(KILLED_SCRIPT)
    repo = str(Path(skhpo.__file__).resolve().parents[1])
    logs = {name: tmp_path / f"{name}.log" for name in ("full", "killed", "resumed")}

    def run(log, checkpoint, kill_at, out):
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore",
               "FIT_LOG": str(log),
               "PYTHONPATH": os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")])}
        # output goes to a file, not a pipe: the workers of a killed run outlive it
        # for a while, holding whatever they inherited open
        with open(f"{log}.out", "w") as output:
            done = subprocess.run([sys.executable, str(script), checkpoint, str(kill_at), out],
                                  env=env, stdout=output, stderr=subprocess.STDOUT,
                                  timeout=600)
        done.output = Path(f"{log}.out").read_text()
        return done

    checkpoint = str(tmp_path / "search.ckpt")
    full = run(logs["full"], "", -1, str(tmp_path / "full.npy"))
    assert full.returncode == 0, full.output[-2000:]
    killed = run(logs["killed"], checkpoint, 2, str(tmp_path / "never.npy"))
    assert killed.returncode == -signal.SIGKILL
    assert os.path.exists(checkpoint) and not (tmp_path / "never.npy").exists()
    resumed = run(logs["resumed"], checkpoint, -1, str(tmp_path / "resumed.npy"))
    assert resumed.returncode == 0, resumed.output[-2000:]

    np.testing.assert_array_equal(np.load(tmp_path / "full.npy"),
                                  np.load(tmp_path / "resumed.npy"))
    np.testing.assert_array_equal(np.load(tmp_path / "full.npy.params.npy"),
                                  np.load(tmp_path / "resumed.npy.params.npy"))
    fits = {name: [float(c) for c in log.read_text().split()] for name, log in logs.items()}
    C = np.load(tmp_path / "full.npy.params.npy")
    iteration = np.load(tmp_path / "full.npy.iteration.npy")
    n_splits = 3
    # the checkpoint was written after batches 0 and 1 (the kill came in batch 2's
    # callback): the resumed run fits batch 2 again, then the rest and the refit,
    # and never a candidate of batches 0 and 1
    assert len(fits["killed"]) == n_splits * np.sum(iteration <= 2)
    assert len(fits["resumed"]) == n_splits * np.sum(iteration >= 2) + 1
    assert not set(C[iteration <= 1]) & set(fits["resumed"])
    assert set(C[iteration == 2]) <= set(fits["resumed"]) & set(fits["killed"])
    assert len(fits["full"]) == n_splits * len(C) + 1


class Passes(SGDClassifier):
    """SGD that counts its ``partial_fit`` passes."""

    def partial_fit(self, X, y, classes=None, **kwargs):
        self.passes_ = getattr(self, "passes_", 0) + 1
        return super().partial_fit(X, y, classes=classes, **kwargs)


def passes(model, X, y):
    return float(model.passes_)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_an_interrupted_asynchronous_search_resumes_its_running_trials(n_jobs, tmp_path):
    checkpoint = str(tmp_path / "search.ckpt")

    def make(**kwargs):
        return HyperbandSearchCV(Passes(random_state=0), {"alpha": Real(1e-5, 1e-1, "log-uniform")},
                                 resource="partial_fit", max_resources=9, factor=3, cv=3,
                                 scoring=passes, asynchronous=True, n_jobs=n_jobs,
                                 checkpoint=checkpoint, random_state=0, **kwargs)

    with pytest.raises(KeyboardInterrupt, match="saved in the checkpoint"):
        make(callbacks=InterruptAt(6)).fit(X, y)
    resumed = make().fit(X, y)
    results = resumed.cv_results_
    assert resumed.n_resumed_trials_ == 7  # told trials 0-6: the interrupt came in 6's callback
    n_trials = resumed.n_candidates_
    ids = np.sort(results["trial_id"])
    np.testing.assert_array_equal(ids, np.arange(len(ids)))
    assert len(ids) == sum(map(sum, n_trials))
    # trials that were running at the interrupt started again from their parents'
    # saved models: every model has exactly its budget of passes
    np.testing.assert_array_equal(results["mean_test_score"], results["n_resources"])
