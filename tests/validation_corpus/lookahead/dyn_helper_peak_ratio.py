"""Lookahead (dynamic only): prices scaled by the whole series' min and max inside a helper whose
parameter the static check does not follow."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class RangePosition(StrategyCore):
    type = "REV"
    timeframe = "15m"
    default_params = {"low": 0.2, "high": 0.8}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        position = scaled(df["close"])
        return pd.DataFrame({
            "long_entry": position < self.params["low"],
            "short_entry": position > self.params["high"],
            "exit": (position - 0.5).abs() < 0.02,
            "size": 0.3,
            "sl_pct": 0.02,
            "tp_pct": np.nan,
        }, index=df.index)


def scaled(values: pd.Series) -> pd.Series:
    lowest, highest = values.min(), values.max()
    return (values - lowest) / (highest - lowest)
