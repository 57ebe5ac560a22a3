"""Mean reversion: buy an oversold RSI, sell an overbought one, leave when it normalises."""

import pandas as pd

from domain.strategy import StrategyCore


class RsiReversion(StrategyCore):
    type = "REV"
    timeframe = "15m"
    default_params = {"period": 14, "oversold": 25.0, "overbought": 75.0, "stop_pct": 0.02}
    param_grid = {"period": [7, 14, 21], "oversold": [20.0, 25.0, 30.0]}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        delta = df["close"].diff()
        gain = delta.clip(lower=0).ewm(alpha=1 / p["period"], adjust=False).mean()
        loss = (-delta.clip(upper=0)).ewm(alpha=1 / p["period"], adjust=False).mean()
        rsi = 100 - 100 / (1 + gain / loss.replace(0, float("nan")))
        out = pd.DataFrame(index=df.index)
        out["entry_long"] = rsi < p["oversold"]
        out["entry_short"] = rsi > (100 - p["oversold"]) if p["overbought"] is None else rsi > p["overbought"]
        out["exit"] = rsi.between(45, 55)
        out["size"] = 0.3
        out["stop_loss"] = (df["close"] * (1 - p["stop_pct"])).where(out["entry_long"],
                                                                      df["close"] * (1 + p["stop_pct"]))
        out["take_profit"] = float("nan")
        return out
