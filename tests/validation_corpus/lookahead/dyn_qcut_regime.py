"""Lookahead (dynamic only): volatility regimes cut at the whole series' quintiles (`pd.qcut`)."""

import pandas as pd

from domain.strategy import StrategyCore


class QuintileVolatility(StrategyCore):
    type = "VOL"
    timeframe = "15m"
    default_params = {"window": 16}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        close = df["close"]
        spread = (df["high"] - df["low"]) / close
        regime = pd.qcut(spread.rolling(self.params["window"]).mean(), 5, labels=False)
        momentum = close.diff(4)
        calm = regime <= 1
        return pd.DataFrame({
            "long_entry": calm & (momentum > 0),
            "short_entry": calm & (momentum < 0),
            "exit": regime >= 4,
            "size": 0.25,
            "sl_pct": 0.015,
            "tp_pct": 0.015,
        }, index=df.index)
