"""Lookahead (AST-visible): hourly highs reindexed onto 15m bars with `method="bfill"`: each bar sees
the high of the hour it is still in (and, between labels, of the next one)."""

import pandas as pd

from domain.strategy import StrategyCore


class BackfilledHourHigh(StrategyCore):
    type = "BRE"
    timeframe = "15m"
    default_params = {"room": 0.002}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        close = df["close"]
        hour_high = df["high"].resample("1h").max()
        hour_low = df["low"].resample("1h").min()
        high_ahead = hour_high.reindex(df.index, method="bfill")
        low_ahead = hour_low.reindex(df.index, method="bfill")
        return pd.DataFrame({
            "long_entry": high_ahead / close - 1 > self.params["room"],
            "short_entry": (close / low_ahead - 1 > self.params["room"]) & (high_ahead / close - 1 < 0.0005),
            "exit": False,
            "size": 0.3,
            "sl_pct": 0.01,
            "tp_pct": 0.004,
        }, index=df.index)
