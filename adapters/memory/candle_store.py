"""In-memory candle store: the CandleStore semantics without a disk, for tests and offline runs."""

from __future__ import annotations

import threading
from datetime import datetime

import pandas as pd

from application.ports.market_data import CacheEntry, UnknownSymbol
from domain.candles import TIMEFRAME_MINUTES, merge_candles, normalize_candles, slice_candles, timeframe_delta


class InMemoryCandleStore:
    """Frames are normalised on the way in and copied on the way out, so no caller shares state."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frames: dict[tuple[str, str], pd.DataFrame] = {}

    def save(self, symbol: str, timeframe: str, candles: pd.DataFrame) -> None:
        timeframe_delta(timeframe)
        new = normalize_candles(candles)
        if len(new) == 0:
            return
        with self._lock:
            existing = self._frames.get((symbol, timeframe))
            self._frames[(symbol, timeframe)] = new if existing is None else merge_candles(existing, new)

    def load(self, symbol: str, timeframe: str, start: datetime | None = None,
             end: datetime | None = None) -> pd.DataFrame:
        with self._lock:
            frame = self._frames.get((symbol, timeframe))
            cached = list(self._frames)
        if frame is None:
            raise UnknownSymbol.not_cached(symbol, timeframe, cached)
        return slice_candles(frame, start, end)

    def entries(self) -> list[CacheEntry]:
        with self._lock:
            frames = dict(self._frames)
        keys = sorted(frames, key=lambda k: (k[0], TIMEFRAME_MINUTES[k[1]]))
        return [CacheEntry.describe(symbol, timeframe, frames[(symbol, timeframe)].index) for symbol, timeframe in keys]
