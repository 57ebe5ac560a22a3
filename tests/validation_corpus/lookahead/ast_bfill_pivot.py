"""Lookahead (AST-visible): pivot lows marked where they happen, then `.bfill()` tells every bar the
next pivot low in advance."""

import pandas as pd

from domain.strategy import StrategyCore


class NextPivotLow(StrategyCore):
    type = "REV"
    timeframe = "15m"
    default_params = {"window": 24}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        low, close = df["low"], df["close"]
        is_pivot = low == low.rolling(self.params["window"]).min()
        next_pivot = low.where(is_pivot).bfill()
        headroom = close / next_pivot - 1
        return pd.DataFrame({
            "long_entry": headroom < 0.001,
            "short_entry": headroom > 0.02,
            "exit": False,
            "size": 0.25,
            "sl_pct": 0.01,
            "tp_pct": 0.02,
        }, index=df.index)
