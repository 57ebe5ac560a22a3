"""Lookahead (AST-visible): bars far from the median are blanked, then `.interpolate()` refills
them from the bar after."""

import pandas as pd

from domain.strategy import StrategyCore


class InterpolatedOutliers(StrategyCore):
    type = "REV"
    timeframe = "15m"
    default_params = {"window": 48}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        close = df["close"]
        typical = close.rolling(self.params["window"]).median()
        cleaned = close.where((close / typical - 1).abs() < 0.0015).interpolate()
        drift = cleaned - typical
        return pd.DataFrame({
            "long_entry": (drift > 0) & (close < typical),
            "short_entry": (drift < 0) & (close > typical),
            "exit": False,
            "size": 0.2,
            "sl_pct": 0.02,
            "tp_pct": 0.02,
        }, index=df.index)
