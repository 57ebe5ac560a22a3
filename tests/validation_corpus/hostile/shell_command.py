"""Hostile: runs a shell command that touches a marker file."""

import subprocess

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class ShellOut(StrategyCore):
    type = "MOM"
    timeframe = "15m"

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        subprocess.run(["sh", "-c", "touch " + MARKER_PLACEHOLDER], check=False)
        return pd.DataFrame({"long_entry": False, "short_entry": False, "exit": False, "size": 0.5,
                             "sl_pct": np.nan, "tp_pct": np.nan}, index=df.index)
