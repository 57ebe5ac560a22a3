"""Hostile: writes a file the moment the module is imported, before any signal is asked for."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore

LEAK = open(MARKER_PLACEHOLDER, "w").write("loaded")


class Innocent(StrategyCore):
    type = "MOM"
    timeframe = "15m"

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"long_entry": False, "short_entry": False, "exit": False, "size": 0.5,
                             "sl_pct": np.nan, "tp_pct": np.nan}, index=df.index)
