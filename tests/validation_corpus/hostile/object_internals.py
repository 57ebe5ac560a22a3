"""Hostile: climbs from a tuple to object's subclasses to find Popen, without importing anything."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class Escape(StrategyCore):
    type = "MOM"
    timeframe = "15m"

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        for cls in ().__class__.__bases__[0].__subclasses__():
            if cls.__name__ == "Popen":
                cls(["touch", MARKER_PLACEHOLDER])
        return pd.DataFrame({"long_entry": False, "short_entry": False, "exit": False, "size": 0.5,
                             "sl_pct": np.nan, "tp_pct": np.nan}, index=df.index)
