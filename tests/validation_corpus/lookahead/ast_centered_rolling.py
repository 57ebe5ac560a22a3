"""Lookahead (AST-visible): a centred moving average averages the bars after the current one too."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class CenteredMeanReversion(StrategyCore):
    type = "REV"
    timeframe = "15m"
    default_params = {"window": 21, "band": 0.004}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        close = df["close"]
        smooth = close.rolling(p["window"], center=True, min_periods=1).mean()
        gap = close / smooth - 1
        return pd.DataFrame({
            "long_entry": gap < -p["band"],
            "short_entry": gap > p["band"],
            "exit": gap.abs() < 0.0005,
            "size": 0.3,
            "sl_pct": 0.02,
            "tp_pct": np.nan,
        }, index=df.index)
