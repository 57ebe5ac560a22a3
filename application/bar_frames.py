"""The candles of one bar close, shared by every strategy that decides on it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

import pandas as pd


class BarFrames:
    """The closed bars of one bar close, read once per (symbol, timeframe) for every strategy.

    The strategies of a bar share the same candles, so each frame is read and cut once and the
    same object goes to every strategy's signals: the sandbox never lets strategy code change the
    frame it is given (the in-process one computes on a copy, the process one in its worker), and
    a confined worker recognises a frame it was sent already. A read that fails is not kept: the
    next strategy tries again and fails on its own.
    """

    def __init__(self, read: Callable[[str, str, datetime], pd.DataFrame], bar_time: datetime) -> None:
        self._read = read
        self._bar_time = bar_time
        self._frames: dict[tuple[str, str], pd.DataFrame] = {}
        self._lock = threading.Lock()

    def get(self, symbol: str, timeframe: str) -> pd.DataFrame:
        with self._lock:
            key = (symbol, timeframe)
            if key not in self._frames:
                self._frames[key] = self._read(symbol, timeframe, self._bar_time)
            return self._frames[key]
