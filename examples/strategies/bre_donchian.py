"""Breakout: trade a close beyond the Donchian channel of the previous bars; take profit at a
multiple of the channel's width, stop at the channel's middle; leave if price falls back inside."""

import pandas as pd

from domain.strategy import StrategyCore


class DonchianBreakout(StrategyCore):
    type = "BRE"
    timeframe = "15m"
    default_params = {"window": 48, "target_widths": 1.0, "size": 0.4}
    param_grid = {"window": [24, 48, 96], "target_widths": [0.5, 1.0, 2.0]}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        close = df["close"]
        upper = df["high"].rolling(p["window"]).max().shift(1)
        lower = df["low"].rolling(p["window"]).min().shift(1)
        middle = (upper + lower) / 2
        width = (upper - lower) / close
        breakout_up = close > upper
        breakout_down = close < lower
        stop = ((close - middle).abs() / close).where(width > 0)
        return pd.DataFrame({
            "long_entry": breakout_up,
            "short_entry": breakout_down,
            "exit": close.between(lower, upper) & ((close - middle).abs() < 0.25 * (upper - lower)),
            "size": p["size"],
            "sl_pct": stop,
            "tp_pct": (p["target_widths"] * width).where(width > 0),
        }, index=df.index)
