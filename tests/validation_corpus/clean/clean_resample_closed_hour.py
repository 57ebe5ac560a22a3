"""Clean: an hourly trend filter built only from completed hours. Buckets are labelled at their end
(`label="right", closed="left"`), so the hour [9:00, 10:00) first appears on the 10:00 bar, after
the 9:45 bar closed; forward-filling then carries it until the next hour completes."""

import pandas as pd

from domain.strategy import StrategyCore


class ClosedHourTrend(StrategyCore):
    type = "TRN"
    timeframe = "15m"
    default_params = {"span": 12, "fast": 8}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        close = df["close"]
        hourly = df["close"].resample("1h", label="right", closed="left").last()
        hourly_trend = hourly.ewm(span=p["span"], adjust=False).mean()
        hour_high = df["high"].resample("1h", label="right", closed="left").max()
        trend = hourly_trend.reindex(df.index, method="ffill")
        last_hour_high = hour_high.reindex(df.index, method="ffill")
        fast = close.ewm(span=p["fast"], adjust=False).mean()
        above = (fast > trend) & (close > last_hour_high)
        below = (fast < trend) & (close < trend * 0.998)
        return pd.DataFrame({
            "long_entry": above & ~above.shift(1, fill_value=False),
            "short_entry": below & ~below.shift(1, fill_value=False),
            "exit": False,
            "size": 0.4,
            "sl_pct": 0.015,
            "tp_pct": 0.03,
        }, index=df.index)
