"""Hyperliquid candle payloads -> numbers and candle frames.

The same candle object arrives from the REST candleSnapshot list and inside WebSocket
{"channel": "candle", "data": ...} messages: t/T are open/close times in epoch ms, prices and
volume are decimal strings. One parser serves both, so a format change breaks in one place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from application.ports.market_data import MarketDataError
from domain.candles import COLUMNS, TIMESTAMP

MS_TO_NS = 1_000_000


class MalformedCandle(MarketDataError):
    """A candle payload without the fields or numbers Hyperliquid documents."""


@dataclass(frozen=True)
class Candle:
    coin: str
    interval: str
    open_ms: int
    values: tuple[float, float, float, float, float]  # open, high, low, close, volume (COLUMNS order)


def parse_candle(raw: Mapping[str, Any]) -> Candle:
    try:
        values = (float(raw["o"]), float(raw["h"]), float(raw["l"]), float(raw["c"]), float(raw["v"]))
        return Candle(coin=str(raw["s"]), interval=str(raw["i"]), open_ms=int(raw["t"]), values=values)
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedCandle(f"bad Hyperliquid candle {dict(raw)!r}: {exc!r}") from exc


def parse_candles(payload: Any) -> tuple[np.ndarray, np.ndarray]:
    """A candleSnapshot response as (open times in ms, int64; values (n, 5) float64), sorted.

    The SDK turns an unreadable body into {"error": ...} instead of raising, so anything but a
    list is refused here.
    """
    if not isinstance(payload, Sequence) or isinstance(payload, str | bytes):
        raise MalformedCandle(f"expected a list of candles, got {str(payload)[:200]!r}")
    candles = [parse_candle(item) for item in payload]
    times = np.fromiter((c.open_ms for c in candles), dtype=np.int64, count=len(candles))
    values = np.array([c.values for c in candles], dtype=np.float64).reshape(len(candles), len(COLUMNS))
    order = np.argsort(times, kind="stable")
    return times[order], values[order]


_COLUMNS = pd.Index(COLUMNS)  # immutable, so one instance can label every frame; a list costs ~60 µs a frame


def to_index(times_ms: np.ndarray) -> pd.DatetimeIndex:
    """Open times in epoch ms as the frame's UTC nanosecond index (a new array, never a view)."""
    stamps = (times_ms * MS_TO_NS).view("datetime64[ns]")
    return pd.DatetimeIndex(stamps, name=TIMESTAMP, copy=False).tz_localize("UTC")


def frame_of(index: pd.DatetimeIndex, values: np.ndarray) -> pd.DataFrame:
    """The standard candle frame over an index and a (n, 5) array the caller owns (not copied).

    On the get_data hot path: this costs ~15 µs for 200 rows, against ~170 µs for the obvious
    pd.DataFrame(..., columns=list(...)) over pd.to_datetime (which also yields µs, not ns).
    """
    return pd.DataFrame(values, index=index, columns=_COLUMNS, copy=False)


def to_frame(times_ms: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    return frame_of(to_index(times_ms), values)


def candles_to_frame(payload: Any) -> pd.DataFrame:
    """A candleSnapshot response as the standard candle frame (duplicates: the last one wins)."""
    times, values = parse_candles(payload)
    if len(times) > 1:
        keep = np.r_[times[1:] != times[:-1], True]
        times, values = times[keep], values[keep]
    return to_frame(times, values)
