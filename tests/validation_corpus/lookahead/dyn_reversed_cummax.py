"""Lookahead (dynamic only): the highest high still to come, as a cumulative max of the reversed series."""

import pandas as pd

from domain.strategy import StrategyCore


class FutureHighRoom(StrategyCore):
    type = "BRE"
    timeframe = "15m"
    default_params = {"room": 0.01}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        close = df["close"]
        highest_ahead = df["high"].iloc[::-1].cummax().iloc[::-1]
        lowest_ahead = df["low"].iloc[::-1].cummin().iloc[::-1]
        up_room = highest_ahead / close - 1
        down_room = 1 - lowest_ahead / close
        return pd.DataFrame({
            "long_entry": (up_room > self.params["room"]) & (up_room > 2 * down_room),
            "short_entry": (down_room > self.params["room"]) & (down_room > 2 * up_room),
            "exit": False,
            "size": 0.5,
            "sl_pct": 0.01,
            "tp_pct": 0.01,
        }, index=df.index)
