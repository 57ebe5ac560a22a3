"""Clean: a breakout above the running peak of earlier bars (`cummax().shift(1)`), confirmed by
the previous bar's comparison (`shift(1)` of a boolean), with a drawdown-from-peak exit."""

import pandas as pd

from domain.strategy import StrategyCore


class RunningPeakBreakout(StrategyCore):
    type = "BRE"
    timeframe = "15m"
    default_params = {"window": 96, "drawdown": 0.02}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        close, high = df["close"], df["high"]
        recent_high = high.rolling(p["window"]).max().shift(1)
        rising = (close > close.shift(1)).shift(1, fill_value=False)
        breakout = (close > recent_high) & rising
        peak = close.cummax()
        drawdown = 1 - close / peak
        recent_low = df["low"].rolling(p["window"]).min().shift(1)
        breakdown = (close < recent_low) & ~rising
        return pd.DataFrame({
            "long_entry": breakout,
            "short_entry": breakdown & ~breakout,
            "exit": drawdown > p["drawdown"],
            "size": 0.4,
            "sl_pct": 0.01,
            "tp_pct": 0.03,
        }, index=df.index)
