"""Lookahead (dynamic only): entries filtered by an unseeded random draw, so no two runs, and no
prefix of a run, agree."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class CoinFlipTrend(StrategyCore):
    type = "MOM"
    timeframe = "15m"
    default_params = {"window": 20, "rate": 0.2}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        close = df["close"]
        average = close.rolling(self.params["window"]).mean()
        draw = np.random.default_rng().random(len(df)) < self.params["rate"]
        return pd.DataFrame({
            "long_entry": (close > average) & draw,
            "short_entry": (close < average) & draw,
            "exit": False,
            "size": 0.2,
            "sl_pct": 0.01,
            "tp_pct": 0.02,
        }, index=df.index)
