"""Lookahead (AST-visible): a z-score against the whole column's mean and standard deviation."""

import pandas as pd

from domain.strategy import StrategyCore


class GlobalZScore(StrategyCore):
    type = "REV"
    timeframe = "15m"
    default_params = {"threshold": 1.0}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        close = df["close"]
        z = (close - close.mean()) / close.std()
        return pd.DataFrame({
            "long_entry": z < -self.params["threshold"],
            "short_entry": z > self.params["threshold"],
            "exit": z.abs() < 0.1,
            "size": 0.3,
            "sl_pct": 0.02,
            "tp_pct": 0.04,
        }, index=df.index)
