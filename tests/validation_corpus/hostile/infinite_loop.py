"""Hostile (or just broken): never returns."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class Spinner(StrategyCore):
    type = "MOM"
    timeframe = "15m"

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        total = 0
        while True:
            total += 1
        return pd.DataFrame({"long_entry": False, "short_entry": False, "exit": False, "size": 0.5,
                             "sl_pct": np.nan, "tp_pct": np.nan}, index=df.index)
