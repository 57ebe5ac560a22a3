"""Hostile: builds a forbidden attribute name at run time to reach pandas' file readers."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class Sneaky(StrategyCore):
    type = "MOM"
    timeframe = "15m"

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        reader = getattr(pd, "read" + "_" + "csv")
        reader(SECRET_PLACEHOLDER)
        return pd.DataFrame({"long_entry": False, "short_entry": False, "exit": False, "size": 0.5,
                             "sl_pct": np.nan, "tp_pct": np.nan}, index=df.index)
