"""Lookahead (AST-visible): `close.diff(-n)` is close[t] - close[t + n], a move that has not happened yet."""

import pandas as pd

from domain.strategy import StrategyCore


class ForwardDiff(StrategyCore):
    type = "MOM"
    timeframe = "15m"
    default_params = {"horizon": 4, "edge": 0.003}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        close = df["close"]
        ahead = close.diff(-self.params["horizon"]) / close
        return pd.DataFrame({
            "long_entry": ahead < -self.params["edge"],
            "short_entry": ahead > self.params["edge"],
            "exit": ahead.abs() < 0.0005,
            "size": 0.4,
            "sl_pct": 0.015,
            "tp_pct": 0.03,
        }, index=df.index)
