"""LiveCandles from frames held in memory: paper trading and tests without a WebSocket.

Whoever feeds it (a test, a replay, a simulated market) appends bars as they form; readers get
copies in the standard candle form, so nobody shares a frame with anybody else.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime

import pandas as pd

from application.ports.clock import Clock
from application.ports.market_data import UnknownSymbol
from domain.candles import COLUMNS, TIMESTAMP, merge_candles, normalize_candles, timeframe_delta, to_utc

Key = tuple[str, str]  # (symbol, timeframe)


class MemoryLiveCandles:
    """`clock` stamps last_update (the wall clock when none is given); `max_rows` bounds each series,
    dropping the oldest bars, as a live cache does."""

    def __init__(self, frames: Mapping[Key, pd.DataFrame] | None = None, *, clock: Clock | None = None,
                 max_rows: int | None = None) -> None:
        if max_rows is not None and max_rows < 1:
            raise ValueError(f"max_rows must be at least 1, got {max_rows}")
        self._lock = threading.Lock()
        self._clock = clock
        self._max_rows = max_rows
        self._frames: dict[Key, pd.DataFrame] = {}
        self._updated: dict[Key, datetime] = {}
        for (symbol, timeframe), frame in (frames or {}).items():
            self.put(symbol, timeframe, frame)

    def put(self, symbol: str, timeframe: str, frame: pd.DataFrame) -> None:
        """Replace the whole series."""
        timeframe_delta(timeframe)
        normalized = normalize_candles(frame)
        with self._lock:
            self._frames[(symbol, timeframe)] = self._trim(normalized)
            self._updated[(symbol, timeframe)] = self._now()

    def append(self, symbol: str, timeframe: str, open_time: datetime, open: float, high: float,
               low: float, close: float, volume: float = 0.0) -> None:
        """Add a bar, or update it when `open_time` is the newest bar's (a forming bar's new state)."""
        timeframe_delta(timeframe)
        row = pd.DataFrame(
            [[open, high, low, close, volume]],
            columns=list(COLUMNS),
            index=pd.DatetimeIndex([to_utc(open_time)], name=TIMESTAMP).as_unit("ns"),
            dtype="float64",
        )
        with self._lock:
            existing = self._frames.get((symbol, timeframe))
            if existing is None or len(existing) == 0:
                merged = row
            elif row.index[0] > existing.index[-1]:
                merged = pd.concat([existing, row])  # the common case, without merge's re-sort
            else:
                merged = merge_candles(existing, row)
            self._frames[(symbol, timeframe)] = self._trim(merged)
            self._updated[(symbol, timeframe)] = self._now()

    def get_data(self, symbol: str, timeframe: str, lookback: int) -> pd.DataFrame:
        if lookback < 1:
            raise ValueError(f"lookback must be at least 1, got {lookback}")
        timeframe_delta(timeframe)
        with self._lock:
            frame = self._frames.get((symbol, timeframe))
            if frame is None:
                raise UnknownSymbol.not_cached(symbol, timeframe, self._frames)
            return frame.iloc[-lookback:].copy()

    def last_update(self, symbol: str, timeframe: str) -> datetime | None:
        with self._lock:
            if (symbol, timeframe) not in self._frames:
                raise UnknownSymbol.not_cached(symbol, timeframe, self._frames)
            return self._updated.get((symbol, timeframe))

    def _trim(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame if self._max_rows is None else frame.iloc[-self._max_rows:]

    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)
