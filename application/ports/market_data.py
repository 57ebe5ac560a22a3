"""Market-data ports. Every candle frame crossing them has the form of domain/candles.py."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from os import PathLike
from typing import Protocol

import pandas as pd

from domain.candle_quality import find_gaps


class MarketDataError(Exception):
    """Base of market-data failures: exchange errors, timeouts, corrupt cache files."""


class UnknownSymbol(MarketDataError):
    """A symbol the venue or the cache does not know; the message lists valid ones."""

    @classmethod
    def not_cached(cls, symbol: str, timeframe: str, cached: Iterable[tuple[str, str]]) -> UnknownSymbol:
        listing = ", ".join(f"{s} {tf}" for s, tf in sorted(cached)) or "nothing"
        return cls(f"{symbol} {timeframe} is not in the candle cache; cached: {listing}")


class CorruptCacheFile(MarketDataError):
    """A stored candle file that cannot be read as candles.

    It is left untouched (never overwritten) so a person can inspect or restore it: rewriting it
    from a partial download would lose the history it held.
    """

    def __init__(self, path: str | PathLike[str], reason: str) -> None:
        super().__init__(f"corrupt candle file {path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass(frozen=True)
class CacheEntry:
    symbol: str
    timeframe: str
    first: datetime | None
    last: datetime | None
    rows: int
    gaps: int

    @classmethod
    def describe(cls, symbol: str, timeframe: str, index: pd.DatetimeIndex) -> CacheEntry:
        """The entry for stored bars with these open times (sorted, unique, UTC)."""
        if len(index) == 0:
            return cls(symbol, timeframe, None, None, 0, 0)
        return cls(symbol, timeframe, index[0].to_pydatetime(), index[-1].to_pydatetime(), len(index),
                   len(find_gaps(index, timeframe)))


@dataclass(frozen=True)
class MarketSymbol:
    """One tradable perp under both names: Binance's ccxt symbol and Hyperliquid's coin."""

    coin: str              # Hyperliquid name: BTC, kPEPE
    binance_symbol: str    # ccxt unified: BTC/USDT:USDT, 1000PEPE/USDT:USDT
    volume_24h: float      # quote volume, USD


class HistoricalCandles(Protocol):
    def fetch(self, symbol: str, timeframe: str, start: datetime, end: datetime) -> pd.DataFrame:
        """Closed candles with open time in [start, end)."""
        ...


class CandleStore(Protocol):
    def load(self, symbol: str, timeframe: str, start: datetime | None = None,
             end: datetime | None = None) -> pd.DataFrame:
        """Stored candles with open time in [start, end) (naive = UTC), as a copy the caller owns.

        Raises UnknownSymbol when nothing is stored for (symbol, timeframe).
        """
        ...

    def save(self, symbol: str, timeframe: str, candles: pd.DataFrame) -> None:
        """Merge into what is stored (new rows win on equal timestamps), atomically."""
        ...

    def entries(self) -> list[CacheEntry]:
        """One entry per stored (symbol, timeframe), sorted by symbol, then shortest timeframe first."""
        ...


class LiveCandles(Protocol):
    def get_data(self, symbol: str, timeframe: str, lookback: int) -> pd.DataFrame:
        """The last `lookback` candles (the forming one last), as a copy the caller may change."""
        ...

    def last_update(self, symbol: str, timeframe: str) -> datetime | None: ...


class SymbolUniverse(Protocol):
    def symbols(self) -> list[MarketSymbol]: ...
