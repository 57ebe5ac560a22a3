"""Lookahead (dynamic only): 4h closes labelled at the bucket's start and forward-filled, so every 15m
bar of the bucket already knows where the 4h bar will close."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class FourHourCloseBias(StrategyCore):
    type = "TRN"
    timeframe = "15m"
    default_params = {"edge": 0.002}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        close = df["close"]
        bucket_close = df["close"].resample("4h").last().reindex(df.index, method="ffill")
        pull = bucket_close / close - 1
        return pd.DataFrame({
            "long_entry": pull > self.params["edge"],
            "short_entry": pull < -self.params["edge"],
            "exit": pull.abs() < 0.0005,
            "size": 0.4,
            "sl_pct": 0.01,
            "tp_pct": np.nan,
        }, index=df.index)
