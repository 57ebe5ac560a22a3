"""Lookahead (dynamic only): a straight line fitted (np.polyfit) to the whole series; trades the
distance from a trend line that later bars helped to draw."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class WholeSeriesTrendLine(StrategyCore):
    type = "REV"
    timeframe = "15m"
    default_params = {"band": 0.01}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        closes = df["close"].to_numpy(dtype=float)
        x = np.arange(len(closes), dtype=float)
        coefficients = np.polyfit(x, closes, 1)
        line = np.polyval(coefficients, x)
        gap = closes / line - 1
        return pd.DataFrame({
            "long_entry": gap < -self.params["band"],
            "short_entry": gap > self.params["band"],
            "exit": np.abs(gap) < 0.001,
            "size": 0.3,
            "sl_pct": 0.03,
            "tp_pct": 0.02,
        }, index=df.index)
