"""The improvement cycle in the live loop: each job at its configured interval, never beside itself, and a
SchedulerJobRan for every run (a failure included, its secrets scrubbed), recorded or at least logged."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest
from dependency_injector import providers

from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.read_models import InMemoryReadModels
from adapters.synthetic.market import SyntheticHistory
from application.event_codec import decode, encode
from application.ports.event_store import EventStoreUnavailable
from application.research_pipeline import PipelineRequest
from application.scheduler_runs import JobRunLog
from domain.errors import DomainError
from domain.scheduler_events import SchedulerJobRan
from entrypoints.container import Container, build_container
from entrypoints.live_runner import LiveRunner, ScheduledJob
from entrypoints.logging_setup import add_secret
from entrypoints.scheduled_jobs import classification_job, cycle_jobs, history_job, research_job, research_request
from entrypoints.settings import Settings
from tests.unit.test_live_runner import RecordingSession
from tests.unit.test_rerank_strategies import Market, World, two_runs

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)
SECRET = "sk-scheduler-test-secret-0123456789"


def settings(tmp_path: Path, **generation: Any) -> Settings:
    return Settings.model_validate({
        "system": {"data_dir": str(tmp_path / "data")},
        "trading": {"symbols": ["BTC"], "timeframes": ["1h"]},
        "backtesting": {"lookback_days": 3},
        "generation": {"frequency_hours": 2, "batch_size": 3, **generation},
    })


def in_memory(tmp_path: Path, clock: ManualClock | None = None) -> Container:
    container = build_container(settings(tmp_path))
    container.event_store.override(providers.Object(InMemoryEventStore()))
    container.read_models.override(providers.Object(InMemoryReadModels()))
    container.clock.override(providers.Object(clock or ManualClock(T0)))
    return container


def runner(jobs: list[ScheduledJob], record: Callable[..., object] | None = None) -> LiveRunner:
    return LiveRunner(RecordingSession(), ["1h"], grace_seconds=5, check_minutes=15,  # type: ignore[arg-type]
                      catch_up=lambda: None, jobs=jobs, record_run=record)


def running(live: LiveRunner, until: Callable[[], bool], seconds: float = 10.0) -> None:
    """Run the scheduler for real until `until()` holds (or time runs out), then stop it."""
    stop = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + seconds
        while not until() and time.monotonic() < deadline:
            time.sleep(0.01)
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    live.run(stop)


def every(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


@pytest.fixture
def secret() -> Iterator[str]:
    add_secret(SECRET)
    yield SECRET


def test_a_job_run_is_an_event_on_its_jobs_stream_that_round_trips() -> None:
    event = SchedulerJobRan(aggregate_id="research", job_id="research", started_at=T0,
                            finished_at=T0 + timedelta(minutes=3), outcome="failed", detail="ValueError: no data")
    assert event.stream_id == "scheduler-research"
    store = InMemoryEventStore()
    store.append(event.stream_id, [encode(event)], None)
    assert [decode(r) for r in store.read_stream("scheduler-research")] == [event]
    recorded = JobRunLog(store).record("research", T0, T0 + every(2), outcome="ok")
    assert JobRunLog(store).runs("research") == [event, recorded]
    with pytest.raises(DomainError, match="outcome"):
        SchedulerJobRan(aggregate_id="x", job_id="x", started_at=T0, finished_at=T0, outcome="maybe")
    with pytest.raises(DomainError, match="before it started"):
        SchedulerJobRan(aggregate_id="x", job_id="x", started_at=T0, finished_at=T0 - every(1), outcome="ok")


def test_the_cycle_jobs_run_at_their_configured_intervals(tmp_path: Path) -> None:
    jobs = {job.job_id: job for job in cycle_jobs(in_memory(tmp_path, ManualClock(datetime.now(UTC))))}
    assert {k: j.every for k, j in jobs.items()} == {"research": timedelta(hours=2), "history": timedelta(days=1),
                                                     "classification": timedelta(hours=1),
                                                     "weekly-report": timedelta(days=7)}
    live = runner(list(jobs.values()))
    seen: dict[str, datetime | None] = {}
    started = datetime.now(UTC)
    running(live, lambda: bool(seen.update(live.next_runs()) or seen))
    assert set(seen) >= {"close-1h", "snapshots", "research", "history"}
    for job, interval in (("research", timedelta(hours=2)), ("history", timedelta(days=1))):
        moment = seen[job]
        assert moment is not None and abs(moment - (started + interval)) < timedelta(seconds=30)


@pytest.mark.parametrize(("last_run_hours_ago", "first_in"), [
    (None, timedelta(hours=2)),            # never ran: one interval from now
    (0.5, timedelta(hours=1, minutes=30)),  # ran half an hour ago: the rest of its interval
    (3.0, timedelta(minutes=1)),            # overdue: as soon as the loop has settled
])
def test_a_restart_never_postpones_a_job_that_is_due(tmp_path: Path, last_run_hours_ago: float | None,
                                                     first_in: timedelta) -> None:
    now = datetime.now(UTC)
    container = in_memory(tmp_path, ManualClock(now))
    if last_run_hours_ago is not None:
        started = now - timedelta(hours=last_run_hours_ago)
        JobRunLog(container.event_store()).record("research", started, started + timedelta(minutes=5), outcome="ok")
    research = {job.job_id: job for job in cycle_jobs(container)}["research"]
    assert research.first_run_at == now + first_in
    live = runner([research])
    seen: dict[str, datetime | None] = {}
    running(live, lambda: bool(seen.update(live.next_runs()) or seen))
    assert seen["research"] == now + first_in, "the scheduler takes the first run as given"


def test_every_run_is_recorded_and_a_failing_job_is_recorded_failed_while_the_scheduler_goes_on(
        secret: str) -> None:
    log = JobRunLog(InMemoryEventStore())

    def boom() -> None:
        raise RuntimeError(f"provider refused key {secret}")

    live = runner([ScheduledJob("steady", "works", lambda: None, every(0.05)),
                   ScheduledJob("broken", "always fails", boom, every(0.05))], log.record)
    running(live, lambda: len(log.runs("broken")) >= 2 and len(log.runs("steady")) >= 2)
    steady, broken = log.runs("steady"), log.runs("broken")
    assert len(broken) >= 2 and len(steady) >= 2, "the failure stopped nothing"
    assert all(r.outcome == "ok" and r.detail == "" and r.finished_at >= r.started_at for r in steady)
    assert all(r.outcome == "failed" and r.detail.startswith("RuntimeError: provider refused key") for r in broken)
    assert all(secret not in r.detail for r in broken)
    assert live.errors >= 2 and live.timings.snapshot()["broken"].errors >= 2


def test_a_run_that_cannot_be_recorded_is_logged_and_the_job_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []

    def unavailable(*_: Any, **__: Any) -> None:
        raise EventStoreUnavailable("database down")

    live = runner([ScheduledJob("steady", "works", lambda: runs.append(1), every(0.05))], unavailable)
    with caplog.at_level(logging.ERROR, logger="entrypoints.live_runner"):
        running(live, lambda: len(runs) >= 3)
    assert len(runs) >= 3 and live.unrecorded >= 3 and live.errors == 0
    assert any(r.getMessage() == "scheduled job run not recorded" for r in caplog.records)


def test_a_long_job_never_overlaps_itself() -> None:
    lock = threading.Lock()
    active, most, runs = [0], [0], [0]

    def slow() -> None:
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(0.3)
        with lock:
            active[0] -= 1
            runs[0] += 1

    log = JobRunLog(InMemoryEventStore())
    live = runner([ScheduledJob("slow", "takes longer than its interval", slow, every(0.05))], log.record)
    running(live, lambda: runs[0] >= 2)
    assert most[0] == 1, "two runs of one job at once"
    assert live.misfires >= 1, "the runs that found the last one still going were skipped, and counted"
    recorded = log.runs("slow")
    assert all(a.finished_at <= b.started_at for a, b in itertools.pairwise(recorded))


def test_job_ids_are_unique_and_intervals_positive() -> None:
    with pytest.raises(ValueError, match="taken"):
        runner([ScheduledJob("rotation", "clash", lambda: None, every(1))])
    with pytest.raises(ValueError, match="taken"):
        runner([ScheduledJob("a", "one", lambda: None, every(1)), ScheduledJob("a", "two", lambda: None, every(1))])
    with pytest.raises(ValueError, match="positive"):
        ScheduledJob("a", "never", lambda: None, timedelta(0))


def test_a_research_run_asks_for_the_configured_batch_with_a_fresh_seed(tmp_path: Path) -> None:
    config = settings(tmp_path)
    first, later = research_request(config, T0), research_request(config, T0 + timedelta(hours=2))
    assert first == PipelineRequest(count=3, seed=int(T0.timestamp()), days=3,
                                    holdout_days=config.pipeline.holdout_days)
    assert later.seed != first.seed

    asked: list[PipelineRequest] = []

    class Pipeline:
        def run(self, request: PipelineRequest, candles: object) -> dict[str, Any]:
            asked.append(request)
            return {"run_id": "run-1", "candidates": 3, "passed": 1, "selected": []}

    container = in_memory(tmp_path)
    chosen: list[dict[str, Any]] = []
    def build(**kw: Any) -> Pipeline:
        chosen.append(kw)
        return Pipeline()

    container.research_pipeline.override(providers.Callable(build))
    research_job(container)()
    assert asked == [first]
    assert chosen[0]["choice"] == "auto" and chosen[0]["strategy_type"] is None


def test_the_history_job_downloads_only_what_the_cache_lacks(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    container = in_memory(tmp_path, clock)
    fetched: list[tuple[str, str]] = []

    class CountingHistory(SyntheticHistory):
        def fetch(self, symbol: str, timeframe: str, start: datetime, end: datetime) -> pd.DataFrame:
            fetched.append((symbol, timeframe))
            return super().fetch(symbol, timeframe, start, end)

    container.binance_history.override(providers.Object(CountingHistory(seed=3)))
    job = history_job(container)
    job()
    entries = container.candle_cache().entries()
    assert [(e.symbol, e.timeframe) for e in entries] == [("BTC", "1h")] and entries[0].rows >= 3 * 24 - 1
    first_fetches = len(fetched)
    job()
    assert len(fetched) == first_fetches, "nothing missing, nothing asked"
    clock.advance(timedelta(hours=5))
    job()
    assert len(fetched) > first_fetches and container.candle_cache().entries()[0].rows > entries[0].rows


def test_the_projections_and_the_live_stats_read_past_recorded_runs(tmp_path: Path) -> None:
    container = in_memory(tmp_path)
    JobRunLog(container.event_store()).record("history", T0, T0 + every(1), outcome="failed", detail="down")
    assert container.projection_runner().catch_up().events_seen == 1
    container.live_stats().catch_up()


@pytest.mark.parametrize(("last_run_hours_ago", "first_in"), [
    (None, timedelta(hours=3)), (1.0, timedelta(hours=2)), (5.0, timedelta(minutes=1))])
def test_classification_runs_every_configured_hours_from_its_last_recorded_run(
        tmp_path: Path, last_run_hours_ago: float | None, first_in: timedelta) -> None:
    now = datetime.now(UTC)
    config = settings(tmp_path)
    hourly = config.classification.model_copy(update={"frequency_hours": 3})
    config = config.model_copy(update={"classification": hourly})
    container = build_container(config)
    container.event_store.override(providers.Object(InMemoryEventStore()))
    container.clock.override(providers.Object(ManualClock(now)))
    if last_run_hours_ago is not None:
        started = now - timedelta(hours=last_run_hours_ago)
        JobRunLog(container.event_store()).record("classification", started, started + every(2), outcome="ok")
    job = {j.job_id: j for j in cycle_jobs(container)}["classification"]
    assert job.every == timedelta(hours=3) and job.first_run_at == now + first_in


def test_the_classification_job_reranks_every_run_on_the_gate_candles(tmp_path: Path) -> None:
    container = in_memory(tmp_path)
    two_runs(World(container.event_store()))
    asked: list[tuple[object, ...]] = []

    def gate_candles(*args: object) -> Market:
        asked.append(args)
        return Market()

    container.gate_candles.override(providers.Callable(gate_candles))
    classification_job(container)()
    assert asked == [(str(tmp_path / "data"), 730)]
    rows = container.read_models().rows("strategies", {"status": "SELECTED"})
    assert sorted((r["rank"], r["strategy_id"]) for r in rows) == [(1, "a1"), (2, "b1"), (3, "a2")], \
        "one ranking across both runs, read models caught up"
    dropped = container.strategy_repository().get("b2").deselected_reason or ""
    assert "max_per_timeframe 3" in dropped, "the configured selection rules"


@pytest.mark.parametrize(("selected", "reranked"), [(["x"], 1), ([], 0)])
def test_a_research_run_that_selected_some_reranks_everything_at_once(
        tmp_path: Path, selected: list[str], reranked: int) -> None:
    container = in_memory(tmp_path)
    calls: list[object] = []

    class Pipeline:
        def run(self, request: PipelineRequest, candles: object) -> dict[str, Any]:
            return {"run_id": "run-1", "candidates": 3, "passed": 1, "selected": selected}

    class Rerank:
        def run(self, candles: object) -> Any:
            calls.append(candles)
            return SimpleNamespace(ranking_id="r", pool=1, selected=[], changed=False, unrankable=[])

    container.gate_candles.override(providers.Callable(lambda *args: "candles"))
    container.research_pipeline.override(providers.Callable(lambda **kw: Pipeline()))
    container.rerank_strategies.override(providers.Callable(Rerank))
    research_job(container)()
    assert calls == ["candles"] * reranked
