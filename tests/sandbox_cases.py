"""Strategy code for the sandbox tests, built from one template: a header, a body, the usual frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

HEADER = '''import numpy as np
import pandas as pd
from domain.strategy import StrategyCore


class Probe(StrategyCore):
    type = "MOM"
    timeframe = "15m"
    default_params = {"period": 5}

    def signals(self, df):
'''
FRAME = '''        return pd.DataFrame({"long_entry": df["close"] > df["close"].shift(1), "short_entry": False,
                             "exit": False, "size": 0.5, "sl_pct": 0.02, "tp_pct": np.nan}, index=df.index)
'''


def strategy(body: str = "", frame: str = FRAME) -> str:
    """A strategy module whose `signals` runs `body` (8-space indented lines), then returns `frame`."""
    return HEADER + body + frame


def candles(n: int = 300, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    index = pd.date_range("2025-01-01", periods=n, freq="15min", tz="UTC", name="timestamp")
    return pd.DataFrame({"open": close, "high": close * 1.01, "low": close * 0.99, "close": close,
                         "volume": 1.0}, index=index)
