"""Lookahead (AST-visible): the frame's final close used as a scalar target for every earlier bar."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class FinalCloseTarget(StrategyCore):
    type = "TRN"
    timeframe = "15m"
    default_params = {"margin": 0.01}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        close = df["close"]
        final = float(df["close"].iloc[-1])
        room = final / close - 1
        return pd.DataFrame({
            "long_entry": room > self.params["margin"],
            "short_entry": room < -self.params["margin"],
            "exit": room.abs() < 0.001,
            "size": 0.3,
            "sl_pct": 0.03,
            "tp_pct": np.nan,
        }, index=df.index)
