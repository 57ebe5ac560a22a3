"""Broken: a syntax error on line 12."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class Typo(StrategyCore):
    type = "MOM"
    timeframe = "15m"
    def signals(self, df: pd.DataFrame) -> pd.DataFrame
        return df
