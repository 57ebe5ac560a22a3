"""Mean reversion: buy an oversold RSI, sell an overbought one, leave when it is back to neutral."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class RsiReversion(StrategyCore):
    type = "REV"
    timeframe = "15m"
    default_params = {"period": 14, "oversold": 25.0, "overbought": 75.0, "stop_pct": 0.02}
    param_grid = {"period": [7, 14, 21], "oversold": [20.0, 25.0, 30.0]}

    def warmup_bars(self) -> int:
        return 3 * int(self.params["period"])  # Wilder's smoothing needs a few periods to settle

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        delta = df["close"].diff()
        gain = delta.clip(lower=0).ewm(alpha=1 / p["period"], adjust=False).mean()
        loss = (-delta.clip(upper=0)).ewm(alpha=1 / p["period"], adjust=False).mean()
        rsi = 100 - 100 / (1 + gain / loss.replace(0, np.nan))
        warm = pd.Series(np.arange(len(df)) >= self.warmup_bars(), index=df.index)
        return pd.DataFrame({
            "long_entry": (rsi < p["oversold"]) & warm,
            "short_entry": (rsi > p["overbought"]) & warm,
            "exit": rsi.between(45, 55),
            "size": 0.3,
            "sl_pct": p["stop_pct"],
            "tp_pct": np.nan,
        }, index=df.index)
