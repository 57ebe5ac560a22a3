"""Lookahead (dynamic only): a negative shift computed from a parameter, `shift(lead)` with
lead = 1 - hold = -2, which no syntax check can see is negative."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class HiddenLead(StrategyCore):
    type = "MOM"
    timeframe = "15m"
    default_params = {"hold": 3, "edge": 0.002}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        close = df["close"]
        lead = 1 - int(self.params["hold"])
        move = close.shift(lead) / close - 1
        return pd.DataFrame({
            "long_entry": move > self.params["edge"],
            "short_entry": move < -self.params["edge"],
            "exit": False,
            "size": 0.4,
            "sl_pct": 0.01,
            "tp_pct": np.nan,
        }, index=df.index)
