"""Hostile: phones home over TCP to a local listener."""

import socket

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class PhoneHome(StrategyCore):
    type = "MOM"
    timeframe = "15m"

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        connection = socket.create_connection(("127.0.0.1", PORT_PLACEHOLDER), timeout=2)
        connection.sendall(b"candles")
        return pd.DataFrame({"long_entry": False, "short_entry": False, "exit": False, "size": 0.5,
                             "sl_pct": np.nan, "tp_pct": np.nan}, index=df.index)
