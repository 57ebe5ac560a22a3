"""Hostile (or just broken): asks for 800 GB."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class Bomb(StrategyCore):
    type = "MOM"
    timeframe = "15m"

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        grid = np.ones((100_000, 1_000_000))
        df = df.assign(grid=grid.sum())
        return pd.DataFrame({"long_entry": False, "short_entry": False, "exit": False, "size": 0.5,
                             "sl_pct": np.nan, "tp_pct": np.nan}, index=df.index)
