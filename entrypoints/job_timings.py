"""How long each scheduled job took, how often it failed or was missed: the scheduler's own record.

Kept as plain counts and bucket tallies, without a metrics library, so the live loop depends on
nothing but the scheduler; entrypoints/metrics.py renders them as Prometheus histograms.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
"""Upper bounds in seconds: a snapshot job takes well under a second, a close with many strategies minutes."""


@dataclass(frozen=True)
class JobStats:
    runs: int = 0
    errors: int = 0
    misfires: int = 0
    seconds: float = 0.0
    buckets: tuple[int, ...] = field(default_factory=lambda: (0,) * len(BUCKETS))
    """Runs no longer than each bound in BUCKETS (cumulative, as Prometheus counts them)."""


class JobTimings:
    def __init__(self, timer: Callable[[], float] = time.perf_counter) -> None:
        self._timer = timer
        self._lock = threading.Lock()
        self._stats: dict[str, JobStats] = {}

    def register(self, job: str) -> None:
        """A scheduled job shows (with zero runs) before its first run."""
        with self._lock:
            self._stats.setdefault(job, JobStats())

    def timed(self, job: str, action: Callable[..., Any]) -> Callable[..., None]:
        """`action`, timed; its errors are counted and raised on, for the scheduler to report."""
        self.register(job)

        def run(*args: Any) -> None:
            started = self._timer()
            ok = False
            try:
                action(*args)
                ok = True
            finally:
                self.record(job, self._timer() - started, ok=ok)
        return run

    def record(self, job: str, seconds: float, *, ok: bool) -> None:
        with self._lock:
            old = self._stats.get(job, JobStats())
            self._stats[job] = JobStats(
                runs=old.runs + 1, errors=old.errors + (0 if ok else 1), misfires=old.misfires,
                seconds=old.seconds + seconds,
                buckets=tuple(n + (1 if seconds <= bound else 0) for n, bound in zip(old.buckets, BUCKETS,
                                                                                     strict=True)))

    def missed(self, job: str) -> None:
        with self._lock:
            old = self._stats.get(job, JobStats())
            self._stats[job] = JobStats(old.runs, old.errors, old.misfires + 1, old.seconds, old.buckets)

    def snapshot(self) -> dict[str, JobStats]:
        with self._lock:
            return dict(self._stats)
