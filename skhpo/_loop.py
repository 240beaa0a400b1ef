"""The search loop: it owns the state of one search and runs it to the end.

State (everything needed to continue a search): the :class:`SearchHistory`, the
strategy (with the one random state of the search), the evaluator's live models
and the iteration counter. The loop asks the strategy for trials, turns them into
(trial, fold) tasks with the evaluator, keeps the executor's workers busy, and
when every fold of a trial is back it adds the trial to the history, tells the
strategy, reports progress and writes the checkpoint.

Two modes:

* synchronous (``asynchronous=False``): the strategy is asked for a batch when
  nothing is running, and the batch is told in the order it was asked once all
  of it is back, so results are the same for every ``n_jobs`` and backend;
* asynchronous: whenever workers are free the strategy is asked for as many
  trials as they can take, and each trial is told the moment it finishes.

Short tasks travel in chunks: once the tasks seen so far are known to take less
than ``CHUNK_SECONDS``, several ready tasks go to a worker as one submission
(as ``joblib.Parallel``'s automatic batching does), so that dispatch costs stay
small against the work. Asynchronously, the loop then keeps a chunk per worker
in flight.

A worker process that dies takes down the tasks running with it. They are run
again one at a time; the one that kills its worker alone gets ``error_score``
with the cause in its fit error, and the search goes on.
"""

from __future__ import annotations

import os
import pickle
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cloudpickle

from ._devices import DeviceSlots, run_on_device
from ._evaluate import Evaluator, Task
from ._executor import Executor, WorkerLostError
from ._history import SearchHistory, mean_fit_time, trial_score
from ._strategy import Strategy, Trial

__all__ = ["CheckpointMismatchError", "SearchLoop", "load_checkpoint", "save_checkpoint"]

_CHECKPOINT_VERSION = 3

# a chunk of short tasks should keep its worker busy about this long: long
# enough that one submission's cost (a fraction of a millisecond with loky) is
# small against it, short enough that results still stream back
CHUNK_SECONDS = 0.05
MAX_CHUNK = 64


class CheckpointMismatchError(ValueError):
    """A checkpoint file belongs to another search."""


@dataclass
class _Running:
    """Dispatched tasks (one submission), and whether it runs alone (after a
    worker died)."""

    tasks: list[Task]
    alone: bool = False
    slot: int | None = None  # the device slot it holds


def run_tasks(calls: list[tuple[Callable, tuple, dict]]) -> tuple[list, float]:
    """Run ``fn(*args, **kwargs)`` for each call, in a worker.

    Returns each call's ``(ok, result or exception)`` and the seconds it took in
    all: one failing task does not lose the results of the others in its chunk.
    """
    start = time.perf_counter()
    results = []
    for fn, args, kwargs in calls:
        try:
            results.append((True, fn(*args, **kwargs)))
        except Exception as exc:
            results.append((False, exc))
    return results, time.perf_counter() - start


def chunk_size(task_seconds: float | None, n_workers: int, n_ready: int | None = None) -> int:
    """How many tasks to send as one submission.

    One until a task duration has been measured; then enough tasks to fill
    ``CHUNK_SECONDS``, but never so many of ``n_ready`` tasks (when given) that
    a worker is left without work.
    """
    if task_seconds is None or n_workers == 1:
        return 1
    size = min(int(CHUNK_SECONDS / max(task_seconds, 1e-6)), MAX_CHUNK)
    if n_ready is not None:
        size = min(size, -(-n_ready // n_workers))
    return max(1, size)


@dataclass
class SearchLoop:
    """One search: its state, and the loop that runs it.

    Parameters
    ----------
    strategy, evaluator, executor
        The algorithm, the evaluator of this ``fit`` and the worker pool.
    n_splits : int
        Folds per trial.
    refit_metric : str or None
        The metric that drives the search (a multi-metric search's ``refit``);
        None or a name absent from the scores: the first metric.
    asynchronous : bool
        See the module docstring.
    after_tell : callable
        ``after_tell(loop, trials) -> bool``, called after each told batch (or
        trial, when asynchronous); True stops the search.
    new_callback_context : callable
        ``new_callback_context(task_number)``: scikit-learn's callback context of
        one task.
    max_time : float or None
        Seconds after which no new trial starts (the first batch always runs).
    checkpoint : str or None
        Where to write the state after each told batch (or trial).
    fingerprint : dict
        What identifies this search in a checkpoint.
    devices : DeviceSlots or None
        Device slots: a task runs only while it holds one (see ``_devices.py``).
    """

    strategy: Strategy
    evaluator: Evaluator
    executor: Executor
    n_splits: int
    refit_metric: Any = None
    asynchronous: bool = False
    after_tell: Callable = lambda loop, trials: False
    new_callback_context: Callable = lambda number: None
    max_time: float | None = None
    checkpoint: str | None = None
    fingerprint: dict = field(default_factory=dict)
    error_score: Any = float("nan")
    devices: DeviceSlots | None = None

    history: SearchHistory = field(default_factory=SearchHistory)
    iteration: int = 0
    elapsed: float = 0.0  # seconds of earlier runs of a resumed search
    metric: str | None = None
    resumed_trials: int = 0

    # -- state -----------------------------------------------------------------

    def state_dict(self) -> dict:
        return {
            "version": _CHECKPOINT_VERSION,
            "fingerprint": self.fingerprint,
            "strategy": self.strategy,
            "history": self.history,
            "evaluator": self.evaluator.state_dict(),
            "iteration": self.iteration,
            "elapsed": self.elapsed + self._run_time(),
            "metric": self.metric,
            # asked but not told (asynchronous mode): started again on resume
            "pending": list(getattr(self, "_pending", {}).values()),
        }

    def load_state_dict(self, state: dict) -> None:
        state["strategy"].rebind(self.strategy)
        self.strategy = state["strategy"]
        self.history = state["history"]
        self.evaluator.load_state_dict(state["evaluator"])
        self.iteration = state["iteration"]
        self.elapsed = state["elapsed"]
        self.metric = state["metric"]
        self.resumed_trials = len(self.history)
        self._resume = state["pending"]

    def _run_time(self) -> float:
        start = getattr(self, "_start", None)
        return 0.0 if start is None else time.perf_counter() - start

    # -- the loop --------------------------------------------------------------

    def run(self) -> SearchHistory:
        """Run the search to its end; the history."""
        self._start = time.perf_counter()
        self._running: dict[Any, _Running] = {}
        self._outputs: dict[int, list] = {}
        self._finished: list[Trial] = []
        self._finish_times: dict[int, float] = {}
        self._suspects: deque[Task] = deque()
        # ready tasks not yet submitted: the executor holds at most
        # ``max_submitted`` submissions, and a task on a device needs a free slot
        self._waiting: deque[Task] = deque()
        self._pending: dict[int, Trial] = {}
        self._stop = False  # a callback asked to stop: nothing new starts
        self._task_seconds: float | None = None  # running mean of task durations
        self._n_tasks = len(self.history.out)
        if self.checkpoint is not None:
            self.evaluator.keep_blobs = True
            if self.asynchronous:
                self.evaluator.keep_starts = True  # pending trials can be started again
        try:
            resume, self._resume = getattr(self, "_resume", []), []
            if resume:
                self._start_trials(resume, again=True)
            while True:
                if not self._stop and not self._suspects:
                    self._stop = self._dispatch_new()
                self._start_waiting()
                if self._suspects and not self._running:
                    self._submit([self._suspects.popleft()], alone=True)
                if not self._running:
                    break
                for future in self.executor.wait_first(list(self._running)):
                    self._receive(future)
                self._start_waiting()
                if not self.asynchronous and not (self._running or self._suspects
                                                  or self._waiting):
                    if self._finished:
                        self._tell(sorted(self._finished, key=lambda t: t.id))
                        self._finished = []
        except KeyboardInterrupt as interrupt:
            raise KeyboardInterrupt(self._interrupted_message()) from interrupt
        finally:
            self.elapsed += self._run_time()
            self._start = None
        return self.history

    def _dispatch_new(self) -> bool:
        """Ask for and start new trials; True when the search must stop asking."""
        if self.iteration > 0 and self.max_time is not None:
            if self.elapsed + self._run_time() >= self.max_time:
                return True
        if self.asynchronous:
            # one trial's folds beyond the workers stay queued, so that a worker
            # that frees starts its next task without waiting for this loop; one
            # worker runs tasks in this process: no queue, one trial at a time
            workers = (self.executor.n_workers if self.devices is None
                       else self.devices.capacity)
            capacity = (self.n_splits if workers == 1
                        else workers * self._chunk() + self.n_splits)
            free = capacity - self._in_flight() - len(self._waiting)
            if free < self.n_splits:
                return False
            trials = self.strategy.ask(free // self.n_splits)
        elif self._running or self._finished or self._waiting:
            return False
        else:
            trials = self.strategy.ask(None)
        if trials:
            self._start_trials(trials)
        return False

    def _start_trials(self, trials: list[Trial], again: bool = False) -> None:
        contexts = []
        for _ in range(len(trials) * self.n_splits):
            contexts.append(self.new_callback_context(self._n_tasks))
            self._n_tasks += 1
        for trial in trials:
            self._outputs[trial.id] = [None] * self.n_splits
            self._pending[trial.id] = trial
        make_tasks = self.evaluator.tasks_again if again else self.evaluator.tasks
        self._waiting.extend(make_tasks(trials, contexts))
        self._start_waiting()

    def _in_flight(self) -> int:
        return sum(len(running.tasks) for running in self._running.values())

    def _chunk(self, n_ready: int | None = None) -> int:
        """Tasks per submission (always one with devices: a task holds a slot)."""
        if self.devices is not None:
            return 1
        return chunk_size(self._task_seconds, self.executor.n_workers, n_ready)

    def _submit(self, tasks: list[Task], alone: bool = False) -> None:
        calls = [(task.fn, task.args, task.kwargs) for task in tasks]
        if self.devices is None:
            future = self.executor.submit(run_tasks, calls)
            self._running[future] = _Running(tasks, alone)
            return
        slot = self.devices.acquire()
        (fn, args, kwargs), = calls
        future = self.executor.submit(run_tasks, [(run_on_device, (
            self.devices.placement(slot), fn, *args), kwargs)])
        self._running[future] = _Running(tasks, alone, slot)

    def _start_waiting(self) -> None:
        """Submit ready tasks while the executor (or a device slot) can take
        them; not while a dead worker's tasks run again alone."""
        while self._waiting and not self._suspects:
            if self.devices is not None:
                if not self.devices.has_free:
                    return
            elif len(self._running) >= self.executor.max_submitted:
                return
            size = min(self._chunk(len(self._waiting) + self._in_flight()),
                       len(self._waiting))
            self._submit([self._waiting.popleft() for _ in range(size)])

    def _receive(self, future) -> None:
        running = self._running.pop(future)
        if running.slot is not None:
            self.devices.release(running.slot)
        try:
            results, seconds = future.result()
        except WorkerLostError as exc:
            if not running.alone:
                # every task of a broken pool fails; which one broke it is found
                # by running each again alone
                if not self._suspects:  # the first task back from this pool
                    self.executor.restart()
                self._suspects.extend(running.tasks)
                return
            if self.error_score == "raise":
                raise
            self.executor.restart()
            task, = running.tasks
            results = [(True, self.evaluator.lost_output(task.trial, task.fold, (
                f"{exc}. The worker process died while it fitted this candidate "
                "on this fold (a crash in compiled code, os._exit, or the system "
                "running out of memory); the other tasks were run again.")))]
        else:
            per_task = seconds / len(running.tasks)
            self._task_seconds = (per_task if self._task_seconds is None
                                  else 0.7 * self._task_seconds + 0.3 * per_task)
        for task, (ok, output) in zip(running.tasks, results):
            if not ok:
                raise output
            self._finish_task(task, output)

    def _finish_task(self, task: Task, output) -> None:
        outputs = self._outputs[task.trial.id]
        outputs[task.fold] = output
        if all(out is not None for out in outputs):
            self._finish_times[task.trial.id] = self.elapsed + self._run_time()
            if self.asynchronous:
                self._tell([task.trial])
            else:
                self._finished.append(task.trial)

    def _tell(self, trials: list[Trial]) -> None:
        """Add finished trials to the history, tell the strategy, call the hooks
        (which may stop the search: trials already running still finish)."""
        fit_times = []
        for trial in trials:
            del self._pending[trial.id]
            outs = self.evaluator.collect(trial, self._outputs.pop(trial.id), self.iteration)
            if self.metric is None:
                self.metric = _driving_metric(outs[0]["test_scores"], self.refit_metric)
            self.history.add(trial, outs, self.iteration, trial_score(outs, self.metric),
                             finish_time=self._finish_times.pop(trial.id))
            fit_times.append(mean_fit_time(outs))
        for trial, score, fit_time in zip(trials, self.history.scores[-len(trials):],
                                          fit_times):
            self.strategy.tell_fit_time(trial.id, fit_time)
            self.strategy.tell(trial.id, score)
        try:
            if self.after_tell(self, trials):
                self._stop = True
        finally:  # a Ctrl-C inside a callback still keeps the told trials
            self.iteration += 1
            if self.checkpoint is not None:
                save_checkpoint(self.checkpoint, self.state_dict())

    def _interrupted_message(self) -> str:
        done = len(self.history)
        if self.checkpoint is None:
            return (f"Search interrupted after {done} finished trials, which are lost: "
                    "pass checkpoint='search.ckpt' to the searcher to keep finished "
                    "trials across interrupts and resume with fit.")
        return (f"Search interrupted after {done} finished trials; they are saved in "
                f"the checkpoint {self.checkpoint!r}. Call fit again with the same "
                "data and parameters to resume from there.")


def _driving_metric(test_scores: Any, refit_metric: Any) -> str | None:
    """The metric the strategy maximizes: the refit metric, else the first one."""
    if not isinstance(test_scores, dict):
        return None
    if isinstance(refit_metric, str) and refit_metric in test_scores:
        return refit_metric
    return next(iter(test_scores))


# -- checkpoints ---------------------------------------------------------------

def save_checkpoint(path: str | os.PathLike, state: dict) -> None:
    """Write ``state`` to ``path`` atomically: a temporary file, then a rename."""
    path = os.fspath(path)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "wb") as file:
        cloudpickle.dump(state, file, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temporary, path)


def load_checkpoint(path: str | os.PathLike, fingerprint: dict) -> dict | None:
    """The state saved at ``path`` if it exists; an error if it is another search's."""
    path = os.fspath(path)
    if not os.path.exists(path):
        return None
    with open(path, "rb") as file:
        state = pickle.load(file)
    if not isinstance(state, dict) or state.get("version") != _CHECKPOINT_VERSION:
        raise CheckpointMismatchError(
            f"checkpoint={path!r} is not an skhpo checkpoint of this version; remove "
            "it or choose another path.")
    saved = state["fingerprint"]
    differ = sorted(k for k in set(saved) | set(fingerprint) if saved.get(k) != fingerprint.get(k))
    if differ:
        raise CheckpointMismatchError(
            f"checkpoint={path!r} belongs to a different search: its {', '.join(differ)} "
            f"differ from this fit's. Resume with the same estimator, search space, "
            "cv, scoring and data, or remove the file (or choose another path) to "
            "start a new search.")
    return state
