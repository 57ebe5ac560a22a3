"""Lookahead (AST-visible): the classic off-by-one, `close.shift(-1)` compares a bar with the next one."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class NextCloseMomentum(StrategyCore):
    type = "MOM"
    timeframe = "15m"
    default_params = {"edge": 0.001}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        close = df["close"]
        move = close.shift(-1) / close - 1
        return pd.DataFrame({
            "long_entry": move > self.params["edge"],
            "short_entry": move < -self.params["edge"],
            "exit": False,
            "size": 0.5,
            "sl_pct": 0.01,
            "tp_pct": np.nan,
        }, index=df.index)
