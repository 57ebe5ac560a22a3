"""Bounded, thread-safe candle series fed by WebSocket pushes and REST backfills.

Each series keeps its bars in two preallocated numpy buffers (open times, OHLCV) of twice the
retained size: appending is O(1), and when the buffer fills the newest `max_candles` rows slide
back to the front once, so memory stays fixed however long the process runs.

The open times are also kept as a ready DatetimeIndex, rebuilt only when a bar is added or
replaced by a refetch (not on every update of the forming bar); a reader slices it, which is what
makes get_data cheap (~15 µs for 200 bars instead of ~45 µs when the index is built per call).

One plain lock per series instead of a reader-writer lock: a reader holds it only for a numpy
slice copy (microseconds); the pandas frame is built after the lock is released. Writers (the one
WebSocket thread, the backfill thread) hold it for about as long. An RWLock would add Python-level
bookkeeping to every read to save waits that are already shorter than that bookkeeping.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from adapters.hyperliquid.candles import frame_of, to_index
from domain.candles import COLUMNS

WIDTH = len(COLUMNS)


@dataclass(frozen=True)
class PushResult:
    """What one streamed candle did to its series. `gap_after` is set when bars are missing: the
    open time of the newest bar held before this push, from which a refetch must start."""

    appended: bool
    gap_after: int | None = None


class CandleSeries:
    """The bars of one (coin, timeframe), oldest first, at most `max_candles` of them."""

    def __init__(self, period_ms: int, max_candles: int) -> None:
        if max_candles < 1:
            raise ValueError(f"max_candles must be at least 1, got {max_candles}")
        self.period_ms = period_ms
        self.max_candles = max_candles
        self._lock = threading.Lock()
        self._times = np.zeros(2 * max_candles, dtype=np.int64)
        self._values = np.zeros((2 * max_candles, WIDTH), dtype=np.float64)
        self._lo = 0
        self._hi = 0
        self._updated_at: datetime | None = None
        self._index: pd.DatetimeIndex | None = None  # rows [lo, hi) as a frame index; None: stale
        # Newest bar pushed since the connection last (re)opened: bars at or after it are newer in
        # the stream than in any REST snapshot taken concurrently, so a snapshot must not undo them.
        self._pushed_since_open: int | None = None

    # -- writers ---------------------------------------------------------------------------------
    def push(self, open_ms: int, row: tuple[float, ...], at: datetime) -> PushResult:
        """A streamed state of one bar: the forming bar is replaced in place, a newer one appended."""
        with self._lock:
            self._updated_at = at
            if self._pushed_since_open is None or open_ms > self._pushed_since_open:
                self._pushed_since_open = open_ms
            if self._hi == self._lo:
                self._append(open_ms, row)
                return PushResult(appended=True)
            last = int(self._times[self._hi - 1])
            if open_ms == last:
                self._values[self._hi - 1] = row
                return PushResult(appended=False)
            if open_ms > last:
                self._append(open_ms, row)
                return PushResult(appended=True, gap_after=last if open_ms > last + self.period_ms else None)
            self._merge(np.array([open_ms], dtype=np.int64), np.array([row], dtype=np.float64))
            return PushResult(appended=False)

    def merge_snapshot(self, times: np.ndarray, values: np.ndarray, at: datetime) -> None:
        """Bars fetched over REST. They win over stored bars, except bars the stream has pushed
        since the connection opened: those are at least as new, so they are only filled in when
        missing."""
        with self._lock:
            self._updated_at = at
            marker = self._pushed_since_open
            if marker is not None and len(times):
                current = self._times[self._lo:self._hi]
                allowed = (times < marker) | ~np.isin(times, current)
                times, values = times[allowed], values[allowed]
            if len(times):
                self._merge(times, values)

    def connection_opened(self) -> None:
        """A new connection starts: nothing has been pushed on it yet."""
        with self._lock:
            self._pushed_since_open = None

    # -- readers ---------------------------------------------------------------------------------
    def frame(self, count: int) -> pd.DataFrame:
        """The last `count` bars as a standard candle frame the caller owns."""
        with self._lock:
            start = max(self._lo, self._hi - count)
            values = self._values[start:self._hi].copy()
            if self._index is None:
                self._index = to_index(self._times[self._lo:self._hi])
            index = self._index[start - self._lo:]  # Index is immutable; slices share it safely
        return frame_of(index, values)

    def tail(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the last `count` bars' open times (ms) and values."""
        with self._lock:
            start = max(self._lo, self._hi - count)
            return self._times[start:self._hi].copy(), self._values[start:self._hi].copy()

    def last_open_ms(self) -> int | None:
        with self._lock:
            return int(self._times[self._hi - 1]) if self._hi > self._lo else None

    def updated_at(self) -> datetime | None:
        with self._lock:
            return self._updated_at

    def __len__(self) -> int:
        with self._lock:
            return self._hi - self._lo

    # -- internals (lock held) ---------------------------------------------------------------------
    def _append(self, open_ms: int, row: tuple[float, ...]) -> None:
        self._index = None
        if self._hi == len(self._times):
            keep = self.max_candles - 1
            if keep:
                self._times[:keep] = self._times[self._hi - keep:self._hi]
                self._values[:keep] = self._values[self._hi - keep:self._hi]
            self._lo, self._hi = 0, keep
        self._times[self._hi] = open_ms
        self._values[self._hi] = row
        self._hi += 1
        self._lo = max(self._lo, self._hi - self.max_candles)

    def _merge(self, times: np.ndarray, values: np.ndarray) -> None:
        """Stored and new bars, sorted; on equal open times the new one wins; newest kept."""
        self._index = None
        all_times = np.concatenate([self._times[self._lo:self._hi], times])
        all_values = np.concatenate([self._values[self._lo:self._hi], values])
        order = np.argsort(all_times, kind="stable")
        all_times, all_values = all_times[order], all_values[order]
        last_of_each = np.r_[all_times[1:] != all_times[:-1], True]
        all_times = all_times[last_of_each][-self.max_candles:]
        all_values = all_values[last_of_each][-self.max_candles:]
        count = len(all_times)
        self._times[:count] = all_times
        self._values[:count] = all_values
        self._lo, self._hi = 0, count


class CandleCache:
    """The fixed set of series one provider serves; the set never changes after construction, so
    looking a series up needs no lock."""

    def __init__(self, keys: list[tuple[str, str]], period_ms: dict[str, int], max_candles: int) -> None:
        self._series = {key: CandleSeries(period_ms[key[1]], max_candles) for key in keys}

    def get(self, coin: str, timeframe: str) -> CandleSeries | None:
        return self._series.get((coin, timeframe))

    def keys(self) -> list[tuple[str, str]]:
        return list(self._series)

    def items(self) -> list[tuple[tuple[str, str], CandleSeries]]:
        return list(self._series.items())

    def connection_opened(self) -> None:
        for series in self._series.values():
            series.connection_opened()
