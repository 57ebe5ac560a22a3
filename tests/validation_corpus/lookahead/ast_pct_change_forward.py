"""Lookahead (AST-visible): `pct_change(periods=-k)` with k a parameter: the return from a later bar."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class ForwardReturn(StrategyCore):
    type = "MOM"
    timeframe = "15m"
    default_params = {"horizon": 8, "edge": 0.004}
    param_grid = {"horizon": [4, 8, 16]}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        back_from_future = df["close"].pct_change(periods=-p["horizon"])
        return pd.DataFrame({
            "long_entry": back_from_future < -p["edge"],
            "short_entry": back_from_future > p["edge"],
            "exit": False,
            "size": 0.3,
            "sl_pct": np.nan,
            "tp_pct": 0.02,
        }, index=df.index)
