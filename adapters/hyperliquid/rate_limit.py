"""Client-side pacing for one Hyperliquid signer: a shared request budget and unique nonces.

Hyperliquid limits requests per IP and per address and answers 429 beyond that; one token bucket
shared by every subaccount keeps the whole process under its budget instead of each subaccount
spending it alone. Nonces: the venue keeps the nonces a signer used and refuses a repeat, and the
SDK takes the current millisecond, so two actions signed in the same millisecond (two
subaccounts, one key) would collide; NonceSource hands out strictly increasing milliseconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """`rate` requests per second on average, bursts of up to `capacity` (default: one second's worth)."""

    def __init__(self, rate: float, capacity: float | None = None, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self._rate = float(rate)
        self._capacity = float(capacity) if capacity is not None else max(1.0, self._rate)
        self._tokens = self._capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Takes one token, waiting for it when the budget is spent; returns the seconds waited.
        Waiters queue on the lock, so they are served in turn."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
            self._updated = now
            wait = 0.0
            if self._tokens < 1.0:
                wait = (1.0 - self._tokens) / self._rate
                self._sleep(wait)
                self._tokens = 1.0
                self._updated = self._clock()
            self._tokens -= 1.0
            return wait


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class NonceSource:
    """Millisecond timestamps (what the venue expects), strictly increasing across threads."""

    def __init__(self, clock_ms: Callable[[], int] = wall_clock_ms) -> None:
        self._clock_ms = clock_ms
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._last = max(self._clock_ms(), self._last + 1)
            return self._last
