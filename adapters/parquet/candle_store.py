"""The on-disk candle cache: one Parquet file per (symbol, timeframe) under a root folder.

Files are {root}/{SYMBOL}_{TIMEFRAME}.parquet with the same columns as the shared data folder
(int64 epoch-ms `timestamp`, five float64 columns), so any Parquet tool can read them. A save
never leaves a half-written file behind (temp file, fsync, os.replace) and never overwrites a
file it cannot read: that file may be the only copy of a long download.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, unquote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from adapters.local.atomic_file import write_atomically
from adapters.parquet.loader import ATTRS_KEY, load_candles, load_timestamps
from application.ports.market_data import CacheEntry, UnknownSymbol
from domain.candles import (
    TIMEFRAME_MINUTES,
    InvalidCandles,
    merge_candles,
    normalize_candles,
    slice_candles,
    timeframe_delta,
)

_NS_PER_MS = 1_000_000
_SUFFIX = ".parquet"


class ParquetCandleStore:
    """Thread-safe per file inside one process; separate processes must not write the same file."""

    def __init__(self, root: str | Path) -> None:
        self._root = Path(root)
        self._guard = threading.Lock()
        self._locks: dict[Path, threading.Lock] = {}

    @property
    def root(self) -> Path:
        return self._root

    def path_for(self, symbol: str, timeframe: str) -> Path:
        """Where (symbol, timeframe) lives; characters unsafe in file names are %-escaped."""
        return self._root / f"{quote(symbol, safe='')}_{timeframe}{_SUFFIX}"

    def save(self, symbol: str, timeframe: str, candles: pd.DataFrame) -> None:
        timeframe_delta(timeframe)
        new = normalize_candles(candles)
        if len(new) == 0:
            return
        path = self.path_for(symbol, timeframe)
        with self._lock_for(path):
            merged = merge_candles(load_candles(path), new) if path.exists() else new
            self._root.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, merged)

    def load(self, symbol: str, timeframe: str, start: datetime | None = None,
             end: datetime | None = None) -> pd.DataFrame:
        path = self.path_for(symbol, timeframe)
        if timeframe not in TIMEFRAME_MINUTES or not path.is_file():
            raise UnknownSymbol.not_cached(symbol, timeframe, self._cached())
        return slice_candles(load_candles(path), start, end)

    def entries(self) -> list[CacheEntry]:
        keys = sorted(self._cached(), key=lambda k: (k[0], TIMEFRAME_MINUTES[k[1]]))
        return [CacheEntry.describe(symbol, timeframe, load_timestamps(self.path_for(symbol, timeframe)))
                for symbol, timeframe in keys]

    def _cached(self) -> list[tuple[str, str]]:
        if not self._root.is_dir():
            return []
        found = []
        for path in self._root.glob(f"*_*{_SUFFIX}"):
            symbol, _, timeframe = path.name[: -len(_SUFFIX)].rpartition("_")
            if timeframe in TIMEFRAME_MINUTES and not path.name.startswith("."):
                found.append((unquote(symbol), timeframe))
        return found

    def _lock_for(self, path: Path) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(path, threading.Lock())


def _write_atomically(path: Path, candles: pd.DataFrame) -> None:
    table = _to_table(candles)
    write_atomically(path, lambda handle: pq.write_table(table, handle, compression="zstd"))


def _to_table(candles: pd.DataFrame) -> pa.Table:
    ns = candles.index.asi8
    if np.any(ns % _NS_PER_MS):
        raise InvalidCandles("bar open times finer than a millisecond cannot be stored as epoch ms")
    columns = {"timestamp": pa.array(ns // _NS_PER_MS, type=pa.int64())}
    columns.update({name: pa.array(candles[name].to_numpy(), type=pa.float64()) for name in candles.columns})
    table = pa.table(columns)
    if candles.attrs:
        table = table.replace_schema_metadata({ATTRS_KEY: json.dumps(candles.attrs, default=str).encode()})
    return table
