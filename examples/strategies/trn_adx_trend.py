"""Trend following: enter when price crosses its slow average while ADX says a trend is under way;
leave when the trend fades (ADX drops). No target: trends are left to run, behind an ATR stop."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class AdxTrend(StrategyCore):
    type = "TRN"
    timeframe = "1h"
    default_params = {"slow": 100, "adx_period": 14, "adx_enter": 25.0, "adx_exit": 18.0, "stop_atr": 3.0}
    param_grid = {"slow": [50, 100, 200], "adx_enter": [20.0, 25.0, 30.0]}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        close, high, low = df["close"], df["high"], df["low"]
        alpha = 1 / p["adx_period"]
        up, down = high.diff(), -low.diff()
        plus_dm = up.where((up > down) & (up > 0), 0.0)
        minus_dm = down.where((down > up) & (down > 0), 0.0)
        prev_close = close.shift(1)
        true_range = pd.concat([high - low, (high - prev_close).abs(), (low - prev_close).abs()], axis=1).max(axis=1)
        atr = true_range.ewm(alpha=alpha, adjust=False).mean()
        plus_di = 100 * plus_dm.ewm(alpha=alpha, adjust=False).mean() / atr
        minus_di = 100 * minus_dm.ewm(alpha=alpha, adjust=False).mean() / atr
        dx = 100 * (plus_di - minus_di).abs() / (plus_di + minus_di).replace(0, np.nan)
        adx = dx.ewm(alpha=alpha, adjust=False).mean()
        average = close.rolling(p["slow"]).mean()
        above = close > average
        was_above = above.shift(1, fill_value=False)
        trending = (adx > p["adx_enter"]) & average.notna()
        return pd.DataFrame({
            "long_entry": above & ~was_above & trending,
            "short_entry": ~above & was_above & trending,
            "exit": adx < p["adx_exit"],
            "size": 0.5,
            "sl_pct": p["stop_atr"] * atr / close,
            "tp_pct": np.nan,
        }, index=df.index)
