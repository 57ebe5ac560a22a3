"""Full garbage collections moved out of the decision path, into the idle time after a candle close.

A full (generation 2) collection walks every object the process holds, and holds the GIL while it
does: with pandas, numpy, SQLAlchemy, the SDKs and the strategies loaded, one pass took ~60 ms in
bench/live_loop.py, and when the collector chose to run one in the middle of a bar every deciding
thread stood still for it. Nearly all of those objects live as long as the process. So before the
first decision and after each iteration (once no other close job is running), everything is
collected and what survives is frozen (gc.freeze: left out of every later collection); the
collections that still happen during a bar walk only what was allocated since. Each settle walks
only what came since the last one (cheap); once every `full_every_s` it unfreezes first and walks
everything (the ~60 ms), so a cycle among frozen objects is not kept forever.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


class QuietHeap:
    def __init__(self, full_every_s: float = 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._full_every_s = full_every_s
        self._clock = clock
        self._last_full: float | None = None
        self.settled = 0
        self.full = 0

    def settle(self) -> float:
        """Collect everything now and freeze the survivors; the seconds it took."""
        with self._lock:
            return self._settle()

    @contextmanager
    def iteration(self) -> Iterator[None]:
        """Around one close job: the last one of those running at once settles the heap as it ends."""
        with self._lock:
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0:
                    self._settle()

    def release(self) -> None:
        """Back to Python's own collector (the loop stopped): every object is collectable again."""
        with self._lock:
            gc.unfreeze()
            self._last_full = None

    def _settle(self) -> float:
        started = time.perf_counter()
        now = self._clock()
        full = self._last_full is None or now - self._last_full >= self._full_every_s
        if full:
            gc.unfreeze()
            self._last_full = now
            self.full += 1
        collected = gc.collect()
        gc.freeze()
        self.settled += 1
        seconds = time.perf_counter() - started
        log.debug("heap settled", extra={"seconds": round(seconds, 4), "full": full, "collected": collected,
                                         "frozen": gc.get_freeze_count()})
        return seconds
