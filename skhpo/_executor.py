"""Dispatch: keep up to ``n_workers`` tasks in flight and hand results back as they finish.

joblib's ``Parallel`` runs a list of tasks and returns when the last one ends (or,
with ``return_as="generator_unordered"``, streams the results of a list fixed
before the call). An asynchronous search needs more: start a new task the moment a
worker frees, with a trial chosen after the results seen so far. So the executor
submits tasks one by one to the pool behind joblib's active backend and waits for
the first to finish:

===============  ===================================================================
joblib backend   pool
===============  ===================================================================
sequential       none: a task runs when it is submitted (``n_jobs=1``)
threading        ``concurrent.futures.ThreadPoolExecutor``
loky             joblib's own memmapping loky executor (large arrays of the data are
                 memory-mapped once, as under ``Parallel``), restarted when a worker dies
dask             the ``distributed.Client`` of ``parallel_config(backend="dask")``
ray              ``ray.remote`` tasks of the ``register_ray()`` backend
any other        ``joblib.Parallel`` over the tasks submitted so far, when a result is
                 awaited (lock-step)
===============  ===================================================================

Every submission returns a :class:`concurrent.futures.Future`. A worker process
that dies (a segfault, ``os._exit``, the out-of-memory killer) fails the futures
of every task that was running in it with :class:`WorkerLostError`; the search
loop decides what to do with them (see ``_loop.py``).
"""

from __future__ import annotations

import concurrent.futures as cf
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from joblib.parallel import get_active_backend
from sklearn import config_context, get_config

__all__ = ["Executor", "WorkerLostError", "make_executor"]


class WorkerLostError(RuntimeError):
    """The worker process running a task died before the task returned."""


class Executor:
    """Submit callables to a pool of ``n_workers``; wait for the first to finish.

    Subclasses implement :meth:`_submit`; the public methods are the same for
    every backend.
    """

    name = "base"

    def __init__(self, n_workers: int) -> None:
        self.n_workers = max(1, int(n_workers))

    @property
    def max_submitted(self) -> int:
        """Submissions the caller should keep in flight: one running and one
        queued per worker (joblib's default ``pre_dispatch``), so that a worker
        that frees starts its next task at once while later tasks can still
        be grouped or chosen with the results seen so far."""
        return 2 * self.n_workers

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> cf.Future:
        """Start ``fn(*args, **kwargs)`` on a worker; its future.

        The task runs under this thread's scikit-learn configuration
        (``sklearn.set_config``) and warning filters, as with scikit-learn's
        ``Parallel``: a warning the user silenced is silent in the workers.
        """
        return self._submit(_with_config, (get_config(), _warning_filters(), fn, *args),
                            kwargs)

    def share(self, data: Any) -> Any:
        """What tasks should carry in place of ``data`` (arrays X and y).

        The data itself where workers share this process's memory or the
        backend memory-maps large arrays (loky); a handle sent once to every
        worker on a cluster (dask, ray). Pass it as a positional argument of
        :meth:`submit`.
        """
        return data

    def _submit(self, fn, args, kwargs) -> cf.Future:
        raise NotImplementedError

    @staticmethod
    def wait_first(futures: Iterable[cf.Future], timeout: float | None = None) -> set:
        """Block until at least one of ``futures`` is done; the done ones."""
        done, _ = cf.wait(list(futures), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return done

    def restart(self) -> None:
        """Replace a pool broken by a dead worker (a no-op where nothing can break)."""

    def shutdown(self) -> None:
        """Release the pool (a reusable pool stays for the next search)."""


class SequentialExecutor(Executor):
    """Runs each task in this process, when it is submitted."""

    name = "sequential"

    def __init__(self) -> None:
        super().__init__(1)

    def _submit(self, fn, args, kwargs) -> cf.Future:
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # the loop reads it from the future, as for workers
            future.set_exception(exc)
        return future


class ThreadExecutor(Executor):
    name = "threading"

    def __init__(self, n_workers: int) -> None:
        super().__init__(n_workers)
        self._pool = cf.ThreadPoolExecutor(self.n_workers, thread_name_prefix="skhpo")

    def _submit(self, fn, args, kwargs) -> cf.Future:
        return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


class LokyExecutor(Executor):
    """The loky pool of ``joblib.Parallel`` itself, tasks submitted one by one.

    A managed ``Parallel`` (its context manager) configures joblib's loky
    backend exactly as a plain ``Parallel`` call would: the memory-mapping of
    large arrays and the caps on the workers' thread pools. loky keeps one
    reusable pool and replaces it when it is asked for with other settings, so
    using the very same request keeps searches and the user's own ``Parallel``
    calls on the same warm workers.
    """

    name = "loky"

    def __init__(self, n_workers: int) -> None:
        super().__init__(n_workers)
        self._open()

    def _open(self) -> None:
        from sklearn.utils.parallel import Parallel

        self._parallel = Parallel(n_jobs=self.n_workers)
        self._parallel.__enter__()
        self._pool = self._parallel._backend._workers

    def _submit(self, fn, args, kwargs) -> cf.Future:
        return _translate_lost_workers(self._pool.submit(fn, *args, **kwargs))

    def restart(self) -> None:
        # the broken pool is replaced by the next request for one
        self.shutdown()
        self._open()

    def shutdown(self) -> None:
        # the workers stay for the next search; the arrays memory-mapped for this
        # one are removed
        self._parallel.__exit__(None, None, None)


class DaskExecutor(Executor):
    name = "dask"

    def __init__(self, client, n_workers: int) -> None:
        super().__init__(n_workers)
        self.client = client

    def _submit(self, fn, args, kwargs) -> cf.Future:
        dask_future = self.client.submit(fn, *args, pure=False, **kwargs)
        future: cf.Future = cf.Future()

        def done(finished) -> None:
            try:
                future.set_result(finished.result())
            except Exception as exc:
                if type(exc).__name__ == "KilledWorker":
                    exc = WorkerLostError(f"the dask worker running this task died: {exc}")
                future.set_exception(exc)

        dask_future.add_done_callback(done)
        future.dask_future = dask_future  # kept alive while the task runs
        return future

    def share(self, data: Any) -> Any:
        if data is None:
            return None
        return self.client.scatter(data, broadcast=True, hash=False)


def _warning_filters() -> list:
    # Python >= 3.14 free-threaded keeps the filters of a catch_warnings block
    # in a context variable
    get_filters = getattr(warnings, "_get_filters", None)
    return list(get_filters() if get_filters is not None else warnings.filters)


def _with_config(config: dict, warning_filters: list, fn: Callable, *args: Any,
                 **kwargs: Any) -> Any:
    with config_context(**config):
        if warning_filters == _warning_filters():
            # the submitting process's own filters (threads): nothing to set,
            # and setting them would race with the other threads
            return fn(*args, **kwargs)
        with warnings.catch_warnings():
            warnings.filters = warning_filters  # as scikit-learn's Parallel does
            return fn(*args, **kwargs)


def _call_resolving(fn, kwargs, *args):
    """``fn(*args, **kwargs)`` with the ray ObjectRefs nested in the arguments
    fetched first (ray resolves only top-level arguments; a chunk of tasks
    carries the shared data inside its list of calls)."""
    import ray

    def resolve(value):
        if isinstance(value, ray.ObjectRef):
            return ray.get(value)
        if isinstance(value, (list, tuple)):
            return type(value)(resolve(v) for v in value)
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    return fn(*resolve(args), **resolve(kwargs))


class RayExecutor(Executor):
    name = "ray"

    def __init__(self, n_workers: int) -> None:
        import ray

        super().__init__(n_workers)
        self._remote = ray.remote(_call_resolving)

    def _submit(self, fn, args, kwargs) -> cf.Future:
        return _translate_lost_workers(self._remote.remote(fn, kwargs, *args).future())

    def share(self, data: Any) -> Any:
        import ray

        return ray.put(data)


def _translate_lost_workers(inner: cf.Future) -> cf.Future:
    """A future that fails with :class:`WorkerLostError` where the pool lost a worker."""
    future: cf.Future = cf.Future()

    def done(finished: cf.Future) -> None:
        exc = finished.exception()
        if exc is None:
            future.set_result(finished.result())
        elif _is_lost_worker(exc):
            future.set_exception(WorkerLostError(
                f"the worker process running this task died ({type(exc).__name__}: "
                f"{exc})".strip()))
        else:
            future.set_exception(exc)

    inner.add_done_callback(done)
    return future


def _is_lost_worker(exc: BaseException) -> bool:
    if isinstance(exc, cf.BrokenExecutor):  # loky's TerminatedWorkerError included
        return True
    return type(exc).__name__ in {"WorkerCrashedError", "NodeDiedError"}  # ray


class JoblibBatchExecutor(Executor):
    """Any other joblib backend: submitted tasks wait, then run as one
    ``Parallel`` call when results are awaited (lock-step, but it works)."""

    name = "joblib"

    def __init__(self, n_workers: int, pre_dispatch) -> None:
        super().__init__(n_workers)
        self.pre_dispatch = pre_dispatch
        self._waiting: list[tuple[cf.Future, Callable, tuple, dict]] = []

    @property
    def max_submitted(self) -> int:
        # every submission waits for the next lock-step ``Parallel`` call
        return 1 << 30

    def _submit(self, fn, args, kwargs) -> cf.Future:
        future: cf.Future = cf.Future()
        self._waiting.append((future, fn, args, kwargs))
        return future

    def wait_first(self, futures, timeout=None) -> set:
        waiting, self._waiting = self._waiting, []
        if waiting:
            from sklearn.utils.parallel import Parallel, delayed

            outputs = Parallel(n_jobs=self.n_workers, pre_dispatch=self.pre_dispatch)(
                delayed(_capture)(fn, *args, **kwargs) for _, fn, args, kwargs in waiting)
            for (future, *_), (ok, value) in zip(waiting, outputs):
                future.set_result(value) if ok else future.set_exception(value)
        return super().wait_first(futures, timeout)


def _capture(fn, *args, **kwargs):
    try:
        return True, fn(*args, **kwargs)
    except Exception as exc:
        return False, exc


def make_executor(n_jobs: int | None, pre_dispatch="2*n_jobs") -> Executor:
    """The executor for joblib's active backend (``parallel_config``) and ``n_jobs``."""
    backend, context_n_jobs = get_active_backend()
    if n_jobs is None:
        n_jobs = context_n_jobs
    n_workers = backend.effective_n_jobs(n_jobs if n_jobs is not None else 1)
    kind = type(backend).__name__
    if kind == "SequentialBackend" or n_workers == 1:
        return SequentialExecutor()
    if kind == "ThreadingBackend":
        return ThreadExecutor(n_workers)
    if kind == "LokyBackend":
        return LokyExecutor(n_workers)
    if kind == "DaskDistributedBackend":
        return DaskExecutor(backend.client, n_workers)
    if kind == "RayBackend":
        return RayExecutor(n_workers)
    return JoblibBatchExecutor(n_workers, pre_dispatch)
