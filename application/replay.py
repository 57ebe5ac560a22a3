"""Replay: historical candles through the live loop at full speed, on a simulated clock.

The same LiveTrader, paper venue and emergency stops as live; only the clock and the feed are
driven from here. At each bar's open the feed shows that bar with only its opening price and the
strategies decide on the bar that just closed (their orders fill at that open, as the backtester
fills them); then the rest of the bar arrives, the venue's stops see its high and low, and each
subaccount is snapshotted and checked against the emergency limits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import pandas as pd

from application.emergency_stops import EmergencyOutcome, EmergencyStops
from application.live_trader import Decision, LiveStrategy, LiveTrader
from domain.candles import timeframe_delta


class ReplayFeed(Protocol):
    def append(self, symbol: str, timeframe: str, open_time: datetime, open: float, high: float,
               low: float, close: float, volume: float = 0.0) -> None: ...


class SimulatedClock(Protocol):
    def now(self) -> datetime: ...

    def advance(self, delta: timedelta) -> datetime: ...


@dataclass(frozen=True)
class ReplayReport:
    bars: int
    decisions: tuple[Decision, ...]
    emergencies: tuple[EmergencyOutcome, ...]


class LiveReplay:
    def __init__(self, trader: LiveTrader, emergency: EmergencyStops, feed: ReplayFeed, clock: SimulatedClock,
                 timeframe: str) -> None:
        self._trader = trader
        self._emergency = emergency
        self._feed = feed
        self._clock = clock
        self._timeframe = timeframe
        self._period = timeframe_delta(timeframe)

    def run(self, strategies: Sequence[LiveStrategy], candles: Mapping[str, pd.DataFrame],
            start: datetime | None = None, end: datetime | None = None) -> ReplayReport:
        """`candles`: bars of the replay timeframe per symbol; decisions between `start` and `end`."""
        index = sorted(set().union(*(frame.index for frame in candles.values())))
        decisions: list[Decision] = []
        emergencies: list[EmergencyOutcome] = []
        active = list(strategies)
        previous: pd.Timestamp | None = None
        for opened in index:
            self._move_to(opened.to_pydatetime() + timedelta(seconds=1))
            bars = {s: f.loc[opened] for s, f in candles.items() if opened in f.index}
            for symbol, bar in bars.items():
                self._feed.append(symbol, self._timeframe, opened.to_pydatetime(), bar["open"], bar["open"],
                                  bar["open"], bar["open"], 0.0)
            if previous is not None and _within(previous, start, end):
                decisions += self._trader.on_bar_close(active, previous.to_pydatetime())
            for symbol, bar in bars.items():
                self._feed.append(symbol, self._timeframe, opened.to_pydatetime(), bar["open"], bar["high"],
                                  bar["low"], bar["close"], float(bar.get("volume", 0.0)))
            self._move_to(opened.to_pydatetime() + self._period - timedelta(seconds=1))
            stopped = self._emergency.check_all()
            if stopped:
                emergencies += stopped
                halted = {o.strategy_id for o in stopped}
                active = [s for s in active if s.strategy_id not in halted]
            previous = opened
        return ReplayReport(len(index), tuple(decisions), tuple(emergencies))

    def _move_to(self, moment: datetime) -> None:
        now = self._clock.now()
        if moment > now:
            self._clock.advance(moment - now)


def _within(moment: pd.Timestamp, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or moment >= pd.Timestamp(start)) and (end is None or moment < pd.Timestamp(end))
