"""CandleSource over the synthetic market: backtests on a machine with no cache and no network.

Everything it serves carries attrs synthetic=True; callers label results made from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pandas as pd

from adapters.synthetic.market import synthetic_candles
from application.ports.candle_source import CandleSource
from application.ports.market_data import UnknownSymbol


class SyntheticCandleSource:
    def __init__(self, end: datetime, days: int, seed: int = 7, symbols: Sequence[str] = ("BTC", "ETH")) -> None:
        self._end = end
        self._start = end - timedelta(days=days)
        self._seed = seed
        self._symbols = list(symbols)

    def load(self, symbol: str, timeframe: str) -> pd.DataFrame:
        return synthetic_candles(symbol, timeframe, self._start, self._end, self._seed)

    def default_symbols(self, timeframe: str) -> list[str]:
        return list(self._symbols)


class FallbackCandleSource:
    """Real candles where a source has them, the synthetic market where it does not.

    The generator's gate needs candles of every timeframe on a machine that may have none cached;
    frames from the fallback keep their synthetic=True label.
    """

    def __init__(self, primary: CandleSource | None, fallback: CandleSource) -> None:
        self._primary = primary
        self._fallback = fallback

    def load(self, symbol: str, timeframe: str) -> pd.DataFrame:
        if self._primary is not None:
            try:
                return self._primary.load(symbol, timeframe)
            except (UnknownSymbol, FileNotFoundError):
                pass  # not cached: the synthetic market serves it, labelled
        return self._fallback.load(symbol, timeframe)

    def default_symbols(self, timeframe: str) -> list[str]:
        if self._primary is not None:
            try:
                found = self._primary.default_symbols(timeframe)
            except FileNotFoundError:
                found = []
            if found:
                return found
        return self._fallback.default_symbols(timeframe)
