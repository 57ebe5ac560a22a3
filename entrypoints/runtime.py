"""What this process runs besides serving: a live candle feed, a scheduler. Metrics and /ready read it.

The live loop attaches its feed and its scheduler when it starts; the API process attaches
nothing, so its /ready and /metrics speak only of the database and the read models, and a
scrape never starts a feed (a WebSocket and its history) that nothing else wanted.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from application.ports.market_data import LiveCandles, MarketDataError
from domain.candles import timeframe_delta
from entrypoints.job_timings import JobTimings


class Scheduler(Protocol):
    @property
    def running(self) -> bool: ...

    @property
    def timings(self) -> JobTimings: ...

    def next_runs(self) -> dict[str, datetime | None]: ...


@dataclass(frozen=True)
class Feed:
    candles: LiveCandles
    series: tuple[tuple[str, str], ...]
    """(symbol, timeframe) pairs subscribed."""

    def newest_close_age(self, symbol: str, timeframe: str, now: datetime) -> float | None:
        """Seconds since the newest closed candle closed; None when there is none (or the feed is down).

        Measured from the close, so a healthy feed reads between 0 and one period whether or not
        its forming bar is in the frame.
        """
        try:
            frame = self.candles.get_data(symbol, timeframe, 3)
        except MarketDataError:
            return None
        period = timeframe_delta(timeframe)
        closes = [opened + period for opened in frame.index if opened + period <= now]
        return (now - max(closes)).total_seconds() if closes else None


class ProcessRuntime:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._feed: Feed | None = None
        self._scheduler: Scheduler | None = None

    def attach_feed(self, candles: LiveCandles, symbols: Sequence[str], timeframes: Sequence[str]) -> None:
        with self._lock:
            self._feed = Feed(candles, tuple((s, tf) for s in symbols for tf in timeframes))

    def attach_scheduler(self, scheduler: Scheduler) -> None:
        with self._lock:
            self._scheduler = scheduler

    def detach(self) -> None:
        with self._lock:
            self._feed = None
            self._scheduler = None

    @property
    def feed(self) -> Feed | None:
        return self._feed

    @property
    def scheduler(self) -> Scheduler | None:
        return self._scheduler
