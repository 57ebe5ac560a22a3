"""Clean: a z-score against the expanding (all bars so far) mean and deviation, never the whole column."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class ExpandingZScore(StrategyCore):
    type = "REV"
    timeframe = "15m"
    default_params = {"threshold": 1.5, "warmup": 200}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        returns = df["close"].pct_change()
        mean = returns.expanding(min_periods=p["warmup"]).mean()
        spread = returns.expanding(min_periods=p["warmup"]).std()
        z = (returns - mean) / spread
        return pd.DataFrame({
            "long_entry": z < -p["threshold"],
            "short_entry": z > p["threshold"],
            "exit": z.abs() < 0.2,
            "size": 0.3,
            "sl_pct": 0.02,
            "tp_pct": np.nan,
        }, index=df.index)
