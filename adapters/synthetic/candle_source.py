"""CandleSource over the synthetic market: backtests on a machine with no cache and no network.

Everything it serves carries attrs synthetic=True; callers label results made from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pandas as pd

from adapters.synthetic.market import synthetic_candles


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
