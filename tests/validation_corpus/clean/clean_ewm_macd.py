"""Clean: MACD from `ewm(adjust=True)` means. The adjusted weights renormalise over the bars seen so
far, which is still a function of the past only."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class AdjustedMacd(StrategyCore):
    type = "MOM"
    timeframe = "15m"
    default_params = {"fast": 12, "slow": 26, "signal": 9}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        close = df["close"]
        macd = close.ewm(span=p["fast"]).mean() - close.ewm(span=p["slow"]).mean()
        trigger = macd.ewm(span=p["signal"]).mean()
        above = macd > trigger
        was_above = above.shift(1, fill_value=False)
        warm = pd.Series(np.arange(len(df)) >= p["slow"], index=df.index)
        return pd.DataFrame({
            "long_entry": above & ~was_above & warm,
            "short_entry": ~above & was_above & warm,
            "exit": False,
            "size": 0.4,
            "sl_pct": 0.015,
            "tp_pct": 0.03,
        }, index=df.index)
