"""Lookahead (AST-visible): `np.roll(x, -1)` is a negative shift that also wraps the first bar to the end."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class RolledNext(StrategyCore):
    type = "MOM"
    timeframe = "15m"
    default_params = {"edge": 0.0015}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        closes = df["close"].to_numpy(dtype=float)
        step = np.roll(closes, -1) / closes - 1
        return pd.DataFrame({
            "long_entry": step > self.params["edge"],
            "short_entry": step < -self.params["edge"],
            "exit": False,
            "size": 0.4,
            "sl_pct": 0.01,
            "tp_pct": 0.01,
        }, index=df.index)
