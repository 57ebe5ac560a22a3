"""The bars the Binance fake serves: shared Parquet files (loaded on first use) or frames handed
in, with ranges that can be hidden to play a venue outage. Thread-safe: the server reads it from
its own thread while tests change it."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from domain.candles import COLUMNS, normalize_candles, to_utc

SHARED_OHLCV = Path(__file__).resolve().parents[3] / "shared" / "data" / "ohlcv"
FILE_PREFIX = "BINANCEUSDM_"


def to_ms(moment: datetime | str) -> int:
    return int(to_utc(moment).value // 1_000_000)


@dataclass(frozen=True)
class _Series:
    times: np.ndarray   # int64 open times, epoch ms, sorted unique
    values: np.ndarray  # float64 (rows, 5): open, high, low, close, volume


class CandleBook:
    def __init__(self, data_dir: Path | None = SHARED_OHLCV,
                 frames: Mapping[tuple[str, str], pd.DataFrame] | None = None) -> None:
        """Files are BINANCEUSDM_{SYMBOL}_{INTERVAL}.parquet; `frames` maps (Binance id such as
        "BTCUSDT", interval) to candles in any form domain.candles can normalise."""
        self._lock = threading.Lock()
        self._files: dict[tuple[str, str], Path] = {}
        if data_dir is not None:
            for path in sorted(data_dir.glob(f"{FILE_PREFIX}*_*.parquet")):
                symbol, _, interval = path.stem.removeprefix(FILE_PREFIX).rpartition("_")
                self._files[(symbol, interval)] = path
        self._series: dict[tuple[str, str], _Series] = {}
        self._hidden: list[tuple[str, str, int, int]] = []
        for (symbol, interval), frame in (frames or {}).items():
            self.add(symbol, interval, frame)

    def add(self, symbol: str, interval: str, frame: pd.DataFrame) -> None:
        candles = normalize_candles(frame)
        series = _Series(candles.index.asi8 // 1_000_000, candles.to_numpy(dtype="float64"))
        with self._lock:
            self._series[(symbol, interval)] = series

    def hide(self, symbol: str, interval: str, start: datetime | str, end: datetime | str) -> None:
        with self._lock:
            self._hidden.append((symbol, interval, to_ms(start), to_ms(end)))

    def unhide(self) -> None:
        with self._lock:
            self._hidden.clear()

    def symbols(self) -> list[str]:
        with self._lock:
            return sorted({s for s, _ in self._series} | {s for s, _ in self._files})

    def has(self, symbol: str, interval: str) -> bool:
        with self._lock:
            return (symbol, interval) in self._series or (symbol, interval) in self._files

    def last_price(self, symbol: str) -> float | None:
        """The last close of an already loaded series: exchangeInfo must not load every file."""
        with self._lock:
            loaded = [s for (name, _), s in self._series.items() if name == symbol and len(s.times)]
        return float(loaded[0].values[-1, 3]) if loaded else None

    def frame(self, symbol: str, interval: str) -> pd.DataFrame:
        """Every bar held, hidden ones included, as a standard candle frame."""
        series = self._get(symbol, interval)
        if series is None:
            raise KeyError(f"no bars for {symbol} {interval}")
        return normalize_candles(pd.DataFrame(series.values, columns=list(COLUMNS)).assign(timestamp=series.times))

    def window(self, symbol: str, interval: str, start: int | None, end: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Bars opening in [start, end] (both inclusive, as Binance reads them), minus hidden ones."""
        series = self._get(symbol, interval)
        if series is None:
            return np.empty(0, dtype="int64"), np.empty((0, 5))
        lo = 0 if start is None else int(np.searchsorted(series.times, start, side="left"))
        hi = len(series.times) if end is None else int(np.searchsorted(series.times, end, side="right"))
        times, values = series.times[lo:hi], series.values[lo:hi]
        with self._lock:
            hidden = [(a, b) for s, i, a, b in self._hidden if s == symbol and i == interval]
        if hidden:
            mask = np.ones(len(times), dtype=bool)
            for a, b in hidden:
                mask &= (times < a) | (times >= b)
            times, values = times[mask], values[mask]
        return times, values

    def _get(self, symbol: str, interval: str) -> _Series | None:
        """Loads a shared file on first use: the 5m files are large and most tests never ask."""
        with self._lock:
            found = self._series.get((symbol, interval))
            path = self._files.get((symbol, interval))
        if found is None and path is not None:
            self.add(symbol, interval, pd.read_parquet(path))
            with self._lock:
                found = self._series[(symbol, interval)]
        return found
