"""Concurrent callers of one read share one request.

Ten subaccounts deciding on the same bar each ask the venue for every mid price; the answers
would be the same. A caller that arrives while the request is in flight waits for it instead of
sending its own, so its answer was asked for at most one round trip before it asked: for the
reference price of a slippage cap, that is as fresh as its own request would be.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight: Future[T] | None = None
        self.shared = 0
        """Calls answered by another's fetch so far (requests saved)."""

    def call(self, fetch: Callable[[], T]) -> T:
        """fetch()'s result, or that of the fetch already in flight; its failure is raised to every
        caller that waited for it. Once it has answered, the next caller fetches anew."""
        with self._lock:
            joined = self._in_flight
            if joined is not None:
                self.shared += 1
            else:
                own: Future[T] = Future()
                self._in_flight = own
        if joined is not None:
            return joined.result()
        try:
            value = fetch()
        except BaseException as exc:
            self._finish()
            own.set_exception(exc)
            raise
        self._finish()
        own.set_result(value)
        return value

    def _finish(self) -> None:
        with self._lock:
            self._in_flight = None
