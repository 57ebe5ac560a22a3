"""Lookahead (dynamic only): volume still to trade, a cumulative sum run from the end (np.flip),
as a share of the total."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class RemainingVolume(StrategyCore):
    type = "VOL"
    timeframe = "15m"
    default_params = {"window": 32}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        close = df["close"]
        volume = df["volume"].to_numpy(dtype=float)
        remaining = np.flip(np.cumsum(np.flip(volume)))
        done = np.cumsum(volume)
        early = done / (done + remaining) < 0.5
        average = close.rolling(self.params["window"]).mean()
        return pd.DataFrame({
            "long_entry": (close > average) & early,
            "short_entry": (close < average) & ~early,
            "exit": False,
            "size": 0.3,
            "sl_pct": 0.02,
            "tp_pct": 0.02,
        }, index=df.index)
