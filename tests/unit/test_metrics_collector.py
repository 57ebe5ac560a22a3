"""The Prometheus collector on in-memory stores: every series, its labels, and a scrape without a database."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.live_candles import MemoryLiveCandles
from adapters.memory.read_models import InMemoryReadModels
from application.ports.event_store import EventStoreUnavailable
from application.projections.live_stats import LiveStats
from application.projections.read_models import ALL_PROJECTIONS
from application.projections.runner import ProjectionRunner
from domain import events as ev
from domain import execution_events as xe
from entrypoints.job_timings import JobTimings
from entrypoints.live_runner import LiveRunner
from entrypoints.metrics import collector_registry, exposition
from entrypoints.runtime import ProcessRuntime
from tests.unit.test_live_runner import RecordingSession
from tests.unit.test_live_stats import append, snapshot

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


@dataclass
class Scheduler:
    running: bool = True
    timings: JobTimings = field(default_factory=JobTimings)


class FakeTimer:
    def __init__(self, *readings: float) -> None:
        self._readings = list(readings)

    def __call__(self) -> float:
        return self._readings.pop(0)


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def test_timings_count_runs_errors_and_misfires_into_cumulative_buckets() -> None:
    timings = JobTimings(FakeTimer(0.0, 0.2, 1.0, 4.0))
    timings.timed("snapshots", lambda: None)()

    def boom() -> None:
        raise RuntimeError("venue down")

    with pytest.raises(RuntimeError):
        timings.timed("close-1h", boom)()
    timings.missed("close-1h")
    stats = timings.snapshot()
    assert (stats["snapshots"].runs, stats["snapshots"].errors, stats["snapshots"].seconds) == (1, 0, 0.2)
    assert stats["snapshots"].buckets[:3] == (0, 0, 1)  # 0.2s: above 0.05 and 0.1, within 0.25
    assert (stats["close-1h"].runs, stats["close-1h"].errors, stats["close-1h"].misfires) == (1, 1, 1)
    assert stats["close-1h"].seconds == 3.0 and stats["close-1h"].buckets[-1] == 1


def _world() -> tuple[InMemoryEventStore, InMemoryReadModels, ProcessRuntime, ManualClock]:
    store, models, clock = InMemoryEventStore(), InMemoryReadModels(), ManualClock(T0)
    append(store,
           xe.StrategyAssigned(aggregate_id="1", strategy_id="s1", mode="paper", capital=100.0),
           xe.StrategyAssigned(aggregate_id="2", strategy_id="s2", mode="paper", capital=100.0),
           ev.OrderPlaced(aggregate_id="1", order_id="o1", strategy_id="s1", symbol="BTC", side="buy", size=0.1),
           xe.PositionChanged(aggregate_id="1", symbol="BTC", strategy_id="s1", direction="long", size=0.1,
                              entry_price=60000.0),
           xe.SignalRefused(aggregate_id="2", strategy_id="s2", symbol="ETH", direction="long", bar_time="t",
                            reason="limit"),
           xe.DecisionFailed(aggregate_id="2", strategy_id="s2", bar_time="t", error="boom"),
           snapshot("1", 104.0, T0))
    ProjectionRunner(store, models, ALL_PROJECTIONS).catch_up()
    runtime = ProcessRuntime()
    feed = MemoryLiveCandles()
    for hour in range(3):
        opened = T0 - timedelta(hours=3 - hour)
        feed.append("BTC", "1h", opened, 1.0, 1.0, 1.0, 1.0)
    feed.append("BTC", "1h", T0, 1.0, 1.0, 1.0, 1.0)  # the forming bar
    runtime.attach_feed(feed, ["BTC"], ["1h"])
    return store, models, runtime, clock


def test_a_scrape_holds_every_series_with_its_labels() -> None:
    store, models, runtime, clock = _world()
    scheduler = Scheduler(timings=JobTimings(FakeTimer(0.0, 0.3)))
    scheduler.timings.register("close-1h")
    scheduler.timings.timed("snapshots", lambda: None)()
    runtime.attach_scheduler(scheduler)
    clock.advance(timedelta(minutes=10))
    found = samples(exposition(collector_registry(LiveStats(store), models, runtime, clock)).decode())

    one = {"strategy_id": "s1", "subaccount": "1"}
    assert found["sixbtc_database_up"] == [({}, 1.0)]
    assert found["sixbtc_equity_usd"] == [(one, 104.0)]
    assert sorted((labels["kind"], v) for labels, v in found["sixbtc_pnl_usd"]) == [
        ("daily", -2.0), ("realized", 4.0), ("unrealized", 1.5)]
    assert found["sixbtc_drawdown_ratio"] == [(one, pytest.approx(6 / 110))]
    assert sorted(found["sixbtc_open_positions"], key=lambda s: s[0]["subaccount"]) == [
        (one, 1.0), ({"strategy_id": "s2", "subaccount": "2"}, 0.0)]
    assert found["sixbtc_orders_sent_total"] == [({**one, "kind": "market"}, 1.0)]
    assert found["sixbtc_orders_refused_total"] == [({"strategy_id": "s2", "subaccount": "2", "source": "risk"},
                                                     1.0)]
    assert sorted(found["sixbtc_errors_total"], key=lambda s: s[0]["source"]) == [
        ({"source": "decision", "strategy_id": "s2", "subaccount": "2"}, 1.0),
        ({"source": "scheduler", "strategy_id": "", "subaccount": ""}, 0.0)]
    assert found["sixbtc_last_candle_age_seconds"] == [({"symbol": "BTC", "timeframe": "1h"}, 600.0)]
    assert found["sixbtc_scheduler_running"] == [({}, 1.0)]
    counts = {labels["job"]: v for labels, v in found["sixbtc_scheduler_job_duration_seconds_count"]}
    assert counts == {"close-1h": 0.0, "snapshots": 1.0}
    assert ({"job": "snapshots", "le": "0.5"}, 1.0) in found["sixbtc_scheduler_job_duration_seconds_bucket"]
    assert ({"job": "snapshots", "le": "0.25"}, 0.0) in found["sixbtc_scheduler_job_duration_seconds_bucket"]
    assert ({"job": "snapshots", "outcome": "ok"}, 1.0) in found["sixbtc_scheduler_job_runs_total"]
    assert ({"job": "close-1h"}, 0.0) in found["sixbtc_scheduler_job_misfires_total"]
    assert {labels["outcome"] for labels, _ in found["sixbtc_pipeline_strategies_evaluated_total"]} == {
        "passed", "failed"}


class DownStore(InMemoryEventStore):
    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[Any]:
        raise EventStoreUnavailable("cannot reach PostgreSQL at db.example:5432")


def test_without_a_database_the_scrape_says_so_and_still_serves_the_runtime_series() -> None:
    _, models, runtime, clock = _world()
    runtime.attach_scheduler(Scheduler(running=False))
    found = samples(exposition(collector_registry(LiveStats(DownStore()), models, runtime, clock)).decode())
    assert found["sixbtc_database_up"] == [({}, 0.0)]
    assert "sixbtc_equity_usd" not in found and "sixbtc_orders_sent_total" not in found
    assert found["sixbtc_scheduler_running"] == [({}, 0.0)]
    assert found["sixbtc_last_candle_age_seconds"] == [({"symbol": "BTC", "timeframe": "1h"}, 0.0)]


def test_a_process_without_feed_or_scheduler_serves_no_runtime_series() -> None:
    store, models, _, clock = _world()
    found = samples(exposition(collector_registry(LiveStats(store), models, ProcessRuntime(), clock)).decode())
    assert "sixbtc_scheduler_running" not in found and "sixbtc_last_candle_age_seconds" not in found
    assert found["sixbtc_equity_usd"]


def test_the_live_runner_times_its_jobs_and_says_when_it_runs() -> None:
    runner = LiveRunner(RecordingSession(), ["1h"], grace_seconds=5, check_minutes=0.005,  # type: ignore[arg-type]
                        catch_up=lambda: None)
    assert not runner.running
    stop = threading.Event()
    seen: list[bool] = []

    def watch() -> None:
        while runner.timings.snapshot().get("snapshots") is None or runner.timings.snapshot()["snapshots"].runs < 1:
            threading.Event().wait(0.02)
        seen.append(runner.running)
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    runner.run(stop)
    assert seen == [True] and not runner.running
    stats = runner.timings.snapshot()
    assert set(stats) == {"close-1h", "snapshots"} and stats["close-1h"].runs == 0
    assert stats["snapshots"].errors == 0 and stats["snapshots"].buckets[-1] >= 1
