"""Clean: a stateful trailing-stop trend follower written as an explicit loop. Bar i reads only
bars <= i (`closes[i - 1]`, the window `highs[start:i + 1]`) and the state carried from i - 1."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class LoopTrailingStop(StrategyCore):
    type = "TRN"
    timeframe = "15m"
    default_params = {"window": 32, "trail": 0.01}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        w, trail = int(self.params["window"]), float(self.params["trail"])
        closes = df["close"].to_numpy(dtype=float)
        highs = df["high"].to_numpy(dtype=float)
        n = len(closes)
        long_entry = np.zeros(n, dtype=bool)
        leave = np.zeros(n, dtype=bool)
        in_trade = False
        peak = 0.0
        for i in range(w, n):
            start = i - w + 1
            prior_high = highs[start - 1:i].max()
            if not in_trade and closes[i] > prior_high and closes[i] > closes[i - 1]:
                long_entry[i] = True
                in_trade, peak = True, closes[i]
            elif in_trade:
                peak = max(peak, highs[start:i + 1][-1])
                if closes[i] < peak * (1 - trail):
                    leave[i] = True
                    in_trade = False
        return pd.DataFrame({
            "long_entry": long_entry,
            "short_entry": False,
            "exit": leave,
            "size": 0.5,
            "sl_pct": 2 * trail,
            "tp_pct": np.nan,
        }, index=df.index)
