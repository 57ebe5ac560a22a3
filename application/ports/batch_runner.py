"""Batch runner port: run one function over many independent tasks, wherever the cores are.

The research pipeline backtests thousands of (strategy, symbol) pairs that share one large input
(the candle frames). Spreading them over cores, or later over a Dask cluster, must not change the
use case, so it only sees this port: it hands over a picklable function, the tasks and the shared
input, and reads outcomes back as they finish. The difference from `ports.jobs.TaskRunner`: that
one fires API jobs and forgets them; this one returns every task's result to the caller.

Contract, for every adapter:
- `fn` is a module-level function (so it can be pickled by reference) called as `fn(shared, task)`.
- `shared` reaches each worker once (per worker process), never once per task; `fn` must treat it
  as read-only, since whether workers see one object or copies of it depends on the adapter.
- Outcomes come back as tasks finish, in any order; one per task key.
- An exception raised by `fn` becomes an outcome with `error`; the batch goes on.
- A worker that dies (os._exit, segfault, OOM kill) costs the batch nothing but time: its tasks are
  retried on a fresh worker, and a task that keeps killing workers ends as the error "worker died".
- Closing the iterator early (break, `.close()`, garbage collection) cancels the remaining tasks:
  none starts after that, and the workers are stopped. KeyboardInterrupt propagates and leaves no
  worker process behind. (Workers the runner does not own, a Dask cluster's, are not stopped:
  there a task already running finishes unobserved, and nothing else starts.)
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")

WORKER_DIED = "worker died"
"""The error of a task that killed its worker every time it was tried."""

_ERROR_CHARS = 500


class RunnerUnavailable(RuntimeError):
    """The runner cannot reach its workers at all (e.g. no Dask scheduler at the configured
    address): the batch cannot start, which is not a task's failure."""


@dataclass(frozen=True)
class TaskOutcome(Generic[T, R]):
    """What became of one task. Exactly one of `result` and `error` tells: `error` is None when
    the task returned (its result may itself be None), else one line "ExcType: message"."""

    key: str
    result: R | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class BatchRunner(Protocol):
    def run(self, fn: Callable[[Any, T], R], tasks: Sequence[tuple[str, T]], *,
            shared: Any = None) -> Generator[TaskOutcome[T, R], None, None]:
        """Start `fn(shared, task)` for every `(key, task)` and yield one outcome per key as each
        finishes. Keys must be unique (ValueError otherwise, before anything runs). A generator
        rather than a plain iterator because `close()` is how a caller cancels what has not run
        yet (`with contextlib.closing(runner.run(...)) as outcomes:`). One run at a time per
        runner."""
        ...

    def close(self) -> None:
        """Stop every worker and free what the runner holds; a later run() starts afresh."""
        ...


def error_line(exc: BaseException) -> str:
    """One line "ExcType: message" for an outcome: results are logged and stored as one-liners,
    and a traceback from another process would be noise there."""
    message = " ".join(str(exc).split())
    line = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return line if len(line) <= _ERROR_CHARS else line[: _ERROR_CHARS - 3] + "..."


def checked_tasks(tasks: Sequence[tuple[str, T]]) -> list[tuple[str, T]]:
    """The tasks as a list, refusing duplicate keys: outcomes are matched to tasks by key, so a
    duplicate would silently lose a result."""
    seen: set[str] = set()
    duplicates: list[str] = []
    for key, _ in tasks:
        if key in seen:
            duplicates.append(key)
        seen.add(key)
    if duplicates:
        raise ValueError(f"duplicate task keys: {sorted(set(duplicates))[:5]}")
    return list(tasks)
