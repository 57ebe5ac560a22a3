"""The BatchRunner port in this process, one task after another.

For tests (deterministic, no process start-up) and for `workers=1`, where a pool would only add
pickling. Same outcome semantics as the process pool: exceptions become error outcomes, and
closing the iterator means no further task starts. `shared` is handed over as is, not copied, so
`fn` must not mutate it (in a pool each worker would mutate its own copy instead).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any, TypeVar

from application.ports.batch_runner import TaskOutcome, checked_tasks, error_line

T = TypeVar("T")
R = TypeVar("R")


class InlineBatchRunner:
    """Runs each task when the caller asks for the next outcome, so a `break` cancels the rest."""

    def run(self, fn: Callable[[Any, T], R], tasks: Sequence[tuple[str, T]], *,
            shared: Any = None) -> Generator[TaskOutcome[T, R], None, None]:
        return self._outcomes(fn, checked_tasks(tasks), shared)

    def close(self) -> None:
        """Nothing to stop: tasks run in the caller's own thread."""

    @staticmethod
    def _outcomes(fn: Callable[[Any, T], R], tasks: list[tuple[str, T]],
                  shared: Any) -> Generator[TaskOutcome[T, R], None, None]:
        for key, task in tasks:
            try:
                result = fn(shared, task)
            except Exception as exc:  # noqa: BLE001 - the contract: a failing task is an outcome, not a crash
                yield TaskOutcome(key, None, error_line(exc))
            else:
                yield TaskOutcome(key, result, None)
