"""Market-data ports. Every candle frame crossing them has the form of domain/candles.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import pandas as pd


class MarketDataError(Exception):
    """Base of market-data failures: exchange errors, timeouts, corrupt cache files."""


class UnknownSymbol(MarketDataError):
    """A symbol the venue or the cache does not know; the message lists valid ones."""


@dataclass(frozen=True)
class CacheEntry:
    symbol: str
    timeframe: str
    first: datetime | None
    last: datetime | None
    rows: int
    gaps: int


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
             end: datetime | None = None) -> pd.DataFrame: ...

    def save(self, symbol: str, timeframe: str, candles: pd.DataFrame) -> None:
        """Merge into what is stored (new rows win on equal timestamps), atomically."""
        ...

    def entries(self) -> list[CacheEntry]: ...


class LiveCandles(Protocol):
    def get_data(self, symbol: str, timeframe: str, lookback: int) -> pd.DataFrame:
        """The last `lookback` candles (the forming one last), as a copy the caller may change."""
        ...

    def last_update(self, symbol: str, timeframe: str) -> datetime | None: ...


class SymbolUniverse(Protocol):
    def symbols(self) -> list[MarketSymbol]: ...
