"""Clean: a percent rank of the close within its trailing window, computed in a loop that reads
`window[-1]` (the current bar, the last of the window) and expanding slices `closes[:i + 1]`."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class LoopPercentRank(StrategyCore):
    type = "REV"
    timeframe = "15m"
    default_params = {"window": 64, "low": 0.05, "high": 0.95}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        w = int(p["window"])
        closes = df["close"].to_numpy(dtype=float)
        n = len(closes)
        rank = np.full(n, np.nan)
        above_start = np.zeros(n, dtype=bool)
        for i in range(w - 1, n):
            window = closes[i - w + 1:i + 1]
            rank[i] = np.count_nonzero(window < window[-1]) / (w - 1)
            above_start[i] = closes[i] > closes[:i + 1][0]
        return pd.DataFrame({
            "long_entry": (rank <= p["low"]) & above_start,
            "short_entry": (rank >= p["high"]) & ~above_start,
            "exit": (rank > 0.45) & (rank < 0.55),
            "size": 0.3,
            "sl_pct": 0.02,
            "tp_pct": 0.02,
        }, index=df.index)
