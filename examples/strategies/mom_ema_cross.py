"""Momentum: go with a fast EMA crossing a slow one; stop and target a multiple of ATR away."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class EmaCrossMomentum(StrategyCore):
    type = "MOM"
    timeframe = "1h"
    default_params = {"fast": 12, "slow": 48, "atr_period": 14, "stop_atr": 2.0, "target_atr": 4.0}
    param_grid = {"fast": [8, 12, 20], "slow": [34, 48, 96]}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        close = df["close"]
        fast = close.ewm(span=p["fast"], adjust=False).mean()
        slow = close.ewm(span=p["slow"], adjust=False).mean()
        above = fast > slow
        was_above = above.shift(1, fill_value=False)
        atr = average_true_range(df, p["atr_period"])
        warm = pd.Series(np.arange(len(df)) >= p["slow"], index=df.index) & atr.notna()
        return pd.DataFrame({
            "long_entry": above & ~was_above & warm,
            "short_entry": ~above & was_above & warm,
            "exit": False,
            "size": 0.5,
            "sl_pct": p["stop_atr"] * atr / close,
            "tp_pct": p["target_atr"] * atr / close,
        }, index=df.index)


def average_true_range(df: pd.DataFrame, period: int) -> pd.Series:
    prev_close = df["close"].shift(1)
    true_range = pd.concat(
        [df["high"] - df["low"], (df["high"] - prev_close).abs(), (df["low"] - prev_close).abs()], axis=1
    ).max(axis=1)
    return true_range.rolling(period).mean()
