"""Hostile: reaches os through pandas' own modules and runs a command."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class Chain(StrategyCore):
    type = "MOM"
    timeframe = "15m"

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        pd.io.common.os.system("touch " + MARKER_PLACEHOLDER)
        return pd.DataFrame({"long_entry": False, "short_entry": False, "exit": False, "size": 0.5,
                             "sl_pct": np.nan, "tp_pct": np.nan}, index=df.index)
