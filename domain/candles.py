"""The candle frame every part of SixBTC exchanges, and the checks that keep it honest.

Columns open, high, low, close, volume (float64); index: UTC DatetimeIndex of bar open times,
sorted and unique. Anything else is normalised here or refused with a clear reason.
"""

from __future__ import annotations

import pandas as pd

from domain.errors import DomainError

COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
TIMEFRAME_MINUTES: dict[str, int] = {"1m": 1, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "4h": 240, "1d": 1440}


class InvalidCandles(DomainError):
    """A candle frame that cannot be made into the standard form."""


class UnknownTimeframe(DomainError):
    """A timeframe outside TIMEFRAME_MINUTES."""


def timeframe_delta(timeframe: str) -> pd.Timedelta:
    try:
        return pd.Timedelta(minutes=TIMEFRAME_MINUTES[timeframe])
    except KeyError:
        raise UnknownTimeframe(
            f"unknown timeframe {timeframe!r}; valid: {', '.join(TIMEFRAME_MINUTES)}"
        ) from None


def empty_candles() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype="float64") for c in COLUMNS},
        index=pd.DatetimeIndex([], tz="UTC", name="timestamp"),
    )
