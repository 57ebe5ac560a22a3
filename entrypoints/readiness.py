"""Whether this process can do its work now: the database answers, candles are fresh, the scheduler runs.

Liveness (/health) only says the process answers; readiness is what an orchestrator or an alert
waits on. A check that does not apply to this process (no feed, no scheduler) passes and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from application.ports.event_store import EventStore, EventStoreError
from domain.candles import timeframe_delta
from entrypoints.logging_setup import scrub
from entrypoints.runtime import ProcessRuntime

STALE_AFTER_PERIODS = 2.0
"""A feed is stale once its newest closed candle is older than this many periods: one late bar is
tolerated (the venue closes bars a little late), two are not."""


CheckName = Literal["database", "candles", "scheduler"]


@dataclass(frozen=True)
class Check:
    name: CheckName
    ok: bool
    detail: str


def readiness(store: EventStore, runtime: ProcessRuntime, now: datetime) -> list[Check]:
    return [_database(store), _candles(runtime, now), _scheduler(runtime)]


def _database(store: EventStore) -> Check:
    try:
        head = store.head_position()
    except EventStoreError as exc:
        return Check("database", False, scrub(str(exc)))
    return Check("database", True, f"answers ({head} events)")


def _candles(runtime: ProcessRuntime, now: datetime) -> Check:
    feed = runtime.feed
    if feed is None:
        return Check("candles", True, "no candle feed in this process")
    stale = []
    for symbol, timeframe in feed.series:
        age = feed.newest_close_age(symbol, timeframe, now)
        limit = STALE_AFTER_PERIODS * timeframe_delta(timeframe).total_seconds()
        if age is None:
            stale.append(f"{symbol} {timeframe}: no closed candle")
        elif age > limit:
            stale.append(f"{symbol} {timeframe}: newest closed candle {age:.0f}s old (limit {limit:.0f}s)")
    if stale:
        return Check("candles", False, "stale: " + "; ".join(stale))
    return Check("candles", True, f"{len(feed.series)} series fresh")


def _scheduler(runtime: ProcessRuntime) -> Check:
    scheduler = runtime.scheduler
    if scheduler is None:
        return Check("scheduler", True, "no scheduler in this process")
    if not scheduler.running:
        return Check("scheduler", False, "the live loop's scheduler is not running")
    return Check("scheduler", True, "running")
