"""Clean: a regime switch written as `np.where` chains over trailing indicators (rolling median and
rolling quantile of the bar range): trend-follow in wide markets, fade in narrow ones."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class WhereChainRegime(StrategyCore):
    type = "VOL"
    timeframe = "15m"
    default_params = {"window": 96, "fast": 16}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        close = df["close"]
        spread = (df["high"] - df["low"]) / close
        wide_level = spread.rolling(p["window"]).quantile(0.8)
        narrow_level = spread.rolling(p["window"]).median()
        momentum = close / close.rolling(p["fast"]).mean() - 1
        regime = np.where(spread > wide_level, 1, np.where(spread < narrow_level, -1, 0))
        direction = np.where(momentum > 0, 1, np.where(momentum < 0, -1, 0))
        vote = np.where(regime == 1, direction, np.where(regime == -1, -direction, 0))
        ready = wide_level.notna().to_numpy()
        return pd.DataFrame({
            "long_entry": (vote > 0) & ready & (np.abs(momentum.to_numpy()) > 0.003),
            "short_entry": (vote < 0) & ready & (np.abs(momentum.to_numpy()) > 0.003),
            "exit": regime == 0,
            "size": 0.25,
            "sl_pct": 0.015,
            "tp_pct": 0.015,
        }, index=df.index)
