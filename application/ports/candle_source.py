"""Where a backtest reads its candles and funding rates: a cache, a file or a folder of files."""

from __future__ import annotations

from typing import Protocol

import pandas as pd


class CandleSource(Protocol):
    def load(self, symbol: str, timeframe: str) -> pd.DataFrame:
        """Every stored candle of (symbol, timeframe), in the standard frame of domain/candles.py.

        Raises application.ports.market_data.UnknownSymbol (naming what there is) when absent.
        """
        ...

    def default_symbols(self, timeframe: str) -> list[str]:
        """The symbols to use when the caller names none."""
        ...


class FundingSource(Protocol):
    def rates(self, symbol: str) -> pd.Series | None:
        """Funding rates (fraction per event) indexed by UTC event time, or None when unknown."""
        ...
