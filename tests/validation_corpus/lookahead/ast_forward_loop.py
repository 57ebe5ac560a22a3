"""Lookahead (AST-visible): a bar-by-bar loop that peeks at `closes[i + 1]` to decide bar i."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class PeekingLoop(StrategyCore):
    type = "MOM"
    timeframe = "15m"
    default_params = {"edge": 0.002}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        closes = df["close"].to_numpy(dtype=float)
        n = len(closes)
        long_entry = np.zeros(n, dtype=bool)
        short_entry = np.zeros(n, dtype=bool)
        for i in range(n - 1):
            step = closes[i + 1] / closes[i] - 1
            long_entry[i] = step > self.params["edge"]
            short_entry[i] = step < -self.params["edge"]
        return pd.DataFrame({
            "long_entry": long_entry,
            "short_entry": short_entry,
            "exit": False,
            "size": 0.5,
            "sl_pct": 0.01,
            "tp_pct": np.nan,
        }, index=df.index)
