"""Hostile: reads a file of the host through pandas (no open() in sight)."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class Snoop(StrategyCore):
    type = "MOM"
    timeframe = "15m"

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        stolen = pd.read_csv(SECRET_PLACEHOLDER)
        df = df.assign(stolen=len(stolen))
        return pd.DataFrame({"long_entry": False, "short_entry": False, "exit": False, "size": 0.5,
                             "sl_pct": np.nan, "tp_pct": np.nan}, index=df.index)
