"""Momentum: go with a fast EMA crossing a slow one, stop and target from ATR."""

import pandas as pd

from domain.strategy import StrategyCore


class EmaCrossMomentum(StrategyCore):
    type = "MOM"
    timeframe = "1h"
    default_params = {"fast": 12, "slow": 48, "atr_period": 14, "stop_atr": 2.0, "target_atr": 4.0}
    param_grid = {"fast": [8, 12, 20], "slow": [34, 48, 96]}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        fast = df["close"].ewm(span=p["fast"], adjust=False).mean()
        slow = df["close"].ewm(span=p["slow"], adjust=False).mean()
        above = fast > slow
        crossed_up = above & ~above.shift(1, fill_value=False)
        crossed_down = ~above & above.shift(1, fill_value=False)
        prev_close = df["close"].shift(1)
        true_range = pd.concat(
            [df["high"] - df["low"], (df["high"] - prev_close).abs(), (df["low"] - prev_close).abs()], axis=1
        ).max(axis=1)
        atr = true_range.rolling(p["atr_period"]).mean()
        warm = atr.notna()
        out = pd.DataFrame(index=df.index)
        out["entry_long"] = crossed_up & warm
        out["entry_short"] = crossed_down & warm
        out["exit"] = False
        out["size"] = 0.5
        out["stop_loss"] = (df["close"] - p["stop_atr"] * atr).where(out["entry_long"],
                                                                      df["close"] + p["stop_atr"] * atr)
        out["take_profit"] = (df["close"] + p["target_atr"] * atr).where(out["entry_long"],
                                                                          df["close"] - p["target_atr"] * atr)
        return out
