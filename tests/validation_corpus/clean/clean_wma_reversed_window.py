"""Clean: a weighted moving average that reverses each trailing window (`w[::-1]`) inside
`rolling(...).apply(..., raw=True)`; the reversal never leaves the window of past bars."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class ReversedWindowWma(StrategyCore):
    type = "MOM"
    timeframe = "15m"
    default_params = {"window": 20}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        n = int(self.params["window"])
        close = df["close"]
        weights = np.arange(n, 0, -1, dtype=float)
        weights = weights / weights.sum()
        wma = close.rolling(n).apply(lambda w: float(np.dot(w[::-1], weights)), raw=True)
        above = close > wma
        was_above = above.shift(1, fill_value=False)
        return pd.DataFrame({
            "long_entry": above & ~was_above & wma.notna(),
            "short_entry": ~above & was_above & wma.notna(),
            "exit": False,
            "size": 0.3,
            "sl_pct": 0.01,
            "tp_pct": 0.02,
        }, index=df.index)
