"""Clean: intraday VWAP from a cumulative sum within each UTC day (`groupby(day).cumsum()`), which
only ever adds the day's bars so far."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class IntradayVwap(StrategyCore):
    type = "REV"
    timeframe = "15m"
    default_params = {"band": 0.004, "min_bars": 8}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        close = df["close"]
        typical = (df["high"] + df["low"] + close) / 3
        day = df.index.normalize()
        traded = (typical * df["volume"]).groupby(day).cumsum()
        volume = df["volume"].groupby(day).cumsum()
        vwap = traded / volume.replace(0, np.nan)
        bars_today = close.groupby(day).cumcount() + 1
        gap = close / vwap - 1
        ready = bars_today >= p["min_bars"]
        return pd.DataFrame({
            "long_entry": ready & (gap < -p["band"]),
            "short_entry": ready & (gap > p["band"]),
            "exit": gap.abs() < 0.0005,
            "size": 0.3,
            "sl_pct": 0.01,
            "tp_pct": np.nan,
        }, index=df.index)
