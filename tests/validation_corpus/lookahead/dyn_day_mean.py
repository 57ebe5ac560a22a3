"""Lookahead (dynamic only): distance from the day's mean close, where the mean includes the day's
later bars (`groupby(day).transform("mean")`)."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class DayMeanReversion(StrategyCore):
    type = "REV"
    timeframe = "15m"
    default_params = {"band": 0.006}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        close = df["close"]
        day = df.index.floor("D")
        day_mean = close.groupby(day).transform("mean")
        gap = close / day_mean - 1
        return pd.DataFrame({
            "long_entry": gap < -self.params["band"],
            "short_entry": gap > self.params["band"],
            "exit": gap.abs() < 0.001,
            "size": 0.3,
            "sl_pct": 0.02,
            "tp_pct": np.nan,
        }, index=df.index)
