"""The BatchRunner port on a local process pool (concurrent.futures.ProcessPoolExecutor).

Backtests are CPU-bound numba/numpy code, so threads would share one core's worth of GIL; worker
processes use every core. Choices, and why:
- `spawn` by default: forking a parent that already runs threads (the pool's own manager thread,
  numba's, the API's) can copy a held lock into the child and deadlock it. `forkserver` is the
  faster alternative with the same safety.
- `shared` is pickled once in the parent and handed to each worker by the pool initializer, so a
  worker unpickles it once for its whole life, not once per task.
- The pool stays alive across run() calls while `shared` is the same object (compared by
  identity, so the runner holds a reference to it): workers keep their copy and their warm
  imports/numba caches. A different object means a new pool. Mutating the object between runs is
  not noticed; treat it as immutable.
- At most `workers` tasks are submitted at a time; the rest wait in this process. So when the
  caller stops reading, there is no backlog inside the pool to drain, and killing the workers is
  all it takes for no further task to start.
- A dying worker breaks the whole ProcessPoolExecutor (every pending future fails with
  BrokenProcessPool), so it cannot say which task killed it. The tasks that were in flight are
  rerun one at a time on a fresh pool; a task that kills a worker while running alone is
  certainly to blame, and one blamed that has died more than `max_retries` times ends as
  "worker died". A break with a single task in flight blames it right away, so such a task is
  tried exactly 1 + max_retries times (max_retries=0: once more alone, if it first died in company).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import signal
from collections import deque
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any, Literal, TypeVar

from application.ports.batch_runner import WORKER_DIED, TaskOutcome, checked_tasks, error_line

T = TypeVar("T")
R = TypeVar("R")

logger = logging.getLogger(__name__)

# --- worker side: these globals live in each worker process, set once by the initializer ---

_shared: Any = None
_shared_error: str | None = None


def _init_worker(blob: bytes) -> None:
    """Runs once per worker process. Ctrl-C reaches the whole process group; only the parent
    should react (it stops the pool), else every worker prints its own KeyboardInterrupt.
    Unpickling errors are kept rather than raised: a failing initializer kills the worker, and a
    dead worker would be retried as if a task had crashed it."""
    global _shared, _shared_error
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _shared = pickle.loads(blob)  # noqa: S301  (our own bytes, pickled by the parent)
    except Exception as exc:  # noqa: BLE001 - reported on every task instead, see _call
        _shared, _shared_error = None, error_line(exc)


def _call(fn: Callable[[Any, T], R], task: T) -> tuple[R | None, str | None]:
    """(result, error) for one task. The exception is turned into a line here, in the worker,
    because not every exception survives pickling on its way back."""
    if _shared_error is not None:
        return None, f"SharedUnavailable: {_shared_error}"
    try:
        return fn(_shared, task), None
    except Exception as exc:  # noqa: BLE001 - the contract: a failing task is an outcome, not a crash
        return None, error_line(exc)


# --- parent side ---

def _available_cpus() -> int:
    """The cores this process may run on (a container's or taskset's limit), else all of them."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class ProcessPoolRunner:
    """`workers` processes (default: every available core); see the module docstring."""

    def __init__(self, workers: int | None = None, *, max_retries: int = 2,
                 mp_context: Literal["spawn", "forkserver"] = "spawn") -> None:
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
        self.workers = workers if workers is not None else _available_cpus()
        self.max_retries = max_retries
        self._context = multiprocessing.get_context(mp_context)
        self._executor: ProcessPoolExecutor | None = None
        self._shared: Any = None        # what the live pool's workers hold; compared by identity
        self._generation = 0            # bumped by close(), so an open run knows it was stopped
        self._running = False

    def run(self, fn: Callable[[Any, T], R], tasks: Sequence[tuple[str, T]], *,
            shared: Any = None) -> Generator[TaskOutcome[T, R], None, None]:
        checked = checked_tasks(tasks)
        try:
            pickle.dumps(fn)
        except Exception as exc:  # noqa: BLE001 - PicklingError, AttributeError, TypeError ...
            raise TypeError(f"fn must be a module-level function, so workers can import it: "
                            f"{error_line(exc)}") from None
        return self._outcomes(fn, checked, shared)

    def close(self) -> None:
        self._generation += 1
        self._running = False
        self._stop_pool(kill=True)

    def __enter__(self) -> ProcessPoolRunner:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _outcomes(self, fn: Callable[[Any, T], R], tasks: list[tuple[str, T]],
                  shared: Any) -> Generator[TaskOutcome[T, R], None, None]:
        if self._running:
            raise RuntimeError("one run at a time per runner: finish or close the previous iterator")
        if not tasks:
            return
        self._running = True
        generation = self._generation
        finished = False
        try:
            yield from self._schedule(fn, tasks, shared, generation)
            finished = True
        finally:
            if self._generation == generation:  # else close() has already stopped everything
                self._running = False
                if not finished:  # closed early, KeyboardInterrupt, or any other exception
                    self._stop_pool(kill=True)

    def _schedule(self, fn: Callable[[Any, T], R], tasks: list[tuple[str, T]], shared: Any,
                  generation: int) -> Generator[TaskOutcome[T, R], None, None]:
        pending = deque(tasks)
        suspects: deque[tuple[str, T]] = deque()   # in flight when a worker died: rerun alone
        deaths: dict[str, int] = {}
        blamed: set[str] = set()                   # died while running alone: certainly the cause
        running: dict[Future[tuple[R | None, str | None]], tuple[str, T]] = {}
        while pending or suspects or running:
            if self._generation != generation:
                return
            executor = self._pool_for(shared)
            broken = False
            capacity = 1 if suspects else self.workers
            while len(running) < capacity and (suspects or pending):
                queue = suspects if suspects else pending
                key, task = queue.popleft()
                try:
                    future = executor.submit(_call, fn, task)
                except BrokenProcessPool:
                    queue.appendleft((key, task))
                    broken = True
                    break
                running[future] = (key, task)
            if not broken:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                broken = any(isinstance(f.exception(), BrokenProcessPool) for f in done)
            if broken:
                wait(running)  # a broken pool fails all its pending futures at once
                done = set(running)
            victims: list[tuple[str, T]] = []
            for future in done:
                key, task = running.pop(future)
                exc = future.exception()
                if isinstance(exc, BrokenProcessPool):
                    victims.append((key, task))
                elif exc is not None:  # e.g. the task or its result could not be pickled
                    yield TaskOutcome(key, None, error_line(exc))
                else:
                    result, error = future.result()
                    yield TaskOutcome(key, result, error)
            if not broken:
                continue
            self._discard_broken_pool()
            if self._generation != generation:
                return
            logger.warning("a worker process died with %d task(s) in flight; restarting the pool",
                           len(victims))
            for key, task in victims:
                deaths[key] = deaths.get(key, 0) + 1
                if len(victims) == 1:
                    blamed.add(key)
                if key in blamed and deaths[key] > self.max_retries:
                    logger.error("task %s killed its worker %d time(s); giving up", key, deaths[key])
                    yield TaskOutcome(key, None, WORKER_DIED)
                else:
                    suspects.append((key, task))

    def _pool_for(self, shared: Any) -> ProcessPoolExecutor:
        if self._executor is not None and self._shared is shared:
            return self._executor
        self._stop_pool(kill=False)
        blob = pickle.dumps(shared, protocol=pickle.HIGHEST_PROTOCOL)
        self._executor = ProcessPoolExecutor(max_workers=self.workers, mp_context=self._context,
                                             initializer=_init_worker, initargs=(blob,))
        self._shared = shared
        return self._executor

    def _discard_broken_pool(self) -> None:
        """The pool has already killed its workers; join its thread. `shared` stays, so the next
        pool is started for the same object."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _stop_pool(self, *, kill: bool) -> None:
        """Graceful when idle (between runs); killing when tasks may still be running or queued,
        since waiting for a long backtest nobody wants is the opposite of cancelling it."""
        executor, self._executor = self._executor, None
        self._shared = None
        if executor is None:
            return
        processes: list[Any] = []
        if kill:
            kill_workers = getattr(executor, "kill_workers", None)  # Python 3.14+
            if callable(kill_workers):
                kill_workers()
            else:
                processes = list((getattr(executor, "_processes", None) or {}).values())
                for process in processes:
                    process.kill()
        executor.shutdown(wait=True, cancel_futures=True)
        for process in processes:
            process.join()
