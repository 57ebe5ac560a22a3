"""Task runners for jobs: a thread pool for the API, inline for tests and one-shot commands."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


class ThreadTaskRunner:
    """Backtests spend most of their time in numba code that holds the GIL, so few threads suffice."""

    def __init__(self, max_workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="sixbtc-job")

    def submit(self, task: Callable[[], None]) -> None:
        self._pool.submit(task)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class InlineTaskRunner:
    """Runs the task before `submit` returns: deterministic, for tests."""

    def submit(self, task: Callable[[], None]) -> None:
        task()
