"""Recorded bars into a live candle feed as a simulated clock passes them, as a live feed shows them.

A bar that has closed by `now` is shown whole; the bar forming at `now` only with its opening price
(its high, low and close are still the future), so nothing decided on the feed can see ahead. This is
LiveReplay's rule (application/replay.py) for every series at once, whatever moves the clock: a
simulated scheduler steps from job to job, and the feed catches up with each step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np
import pandas as pd

from domain.candles import timeframe_delta, to_utc

Key = tuple[str, str]  # (symbol, timeframe)


class BarFeed(Protocol):
    def put(self, symbol: str, timeframe: str, frame: pd.DataFrame) -> None: ...

    def append(self, symbol: str, timeframe: str, open_time: datetime, open: float, high: float,
               low: float, close: float, volume: float = 0.0) -> None: ...


@dataclass
class _Series:
    opens: np.ndarray  # open times, int64 ns, sorted
    values: np.ndarray  # (rows, 5): open, high, low, close, volume
    period: int  # ns
    shown: int = 0  # bars shown whole
    forming: int = -1  # index of the bar shown with its open only, -1: none


class ReplayedBars:
    def __init__(self, feed: BarFeed, frames: Mapping[Key, pd.DataFrame]) -> None:
        """`frames`: standard candle frames (bar open times as the index) per (symbol, timeframe)."""
        self._feed = feed
        self._frames = dict(frames)
        self._series = {key: _Series(pd.DatetimeIndex(frame.index).as_unit("ns").asi8,
                                     frame[["open", "high", "low", "close", "volume"]].to_numpy(dtype="float64"),
                                     int(pd.Timedelta(timeframe_delta(key[1])).value))
                        for key, frame in frames.items()}
        self.bars_fed = 0

    def start_at(self, now: datetime) -> None:
        """Every bar closed by `now` at once (the history a live feed loads on start), then the forming one."""
        moment = to_utc(now).value
        for (symbol, timeframe), series in self._series.items():
            closed = int(np.searchsorted(series.opens + series.period, moment, side="right"))
            self._feed.put(symbol, timeframe, self._frames[(symbol, timeframe)].iloc[:closed])
            series.shown = closed
        self.advance_to(now)

    def advance_to(self, now: datetime) -> None:
        """Bars closed since the last call whole, in order; the bar forming at `now` with its open."""
        moment = to_utc(now).value
        for (symbol, timeframe), series in self._series.items():
            while series.shown < len(series.opens) and series.opens[series.shown] + series.period <= moment:
                self._show(symbol, timeframe, series, series.shown, whole=True)
                series.shown += 1
            at = series.shown
            if at < len(series.opens) and series.opens[at] <= moment and series.forming != at:
                self._show(symbol, timeframe, series, at, whole=False)
                series.forming = at

    def _show(self, symbol: str, timeframe: str, series: _Series, row: int, *, whole: bool) -> None:
        open_, high, low, close, volume = (float(v) for v in series.values[row])
        opened = pd.Timestamp(int(series.opens[row]), tz="UTC").to_pydatetime()
        if whole:
            self._feed.append(symbol, timeframe, opened, open_, high, low, close, volume)
        else:
            self._feed.append(symbol, timeframe, opened, open_, open_, open_, open_, 0.0)
        self.bars_fed += 1
