"""The live loop under APScheduler: one job per timeframe at each candle close, snapshots between.

Each close job fires `deployment.candle_grace_seconds` after the close, so the closing candle has
arrived; `max_instances=1` and `coalesce` mean a slow iteration is never overlapped by the next,
and a missed run is logged and counted, not silently run late twice. SIGTERM and SIGINT set the
stop event: the scheduler stops taking jobs, the running iteration finishes, then the venue is
left as `deployment.shutdown` says.

Research and history jobs come in as `ScheduledJob`s (built from config by
entrypoints/scheduled_jobs.py), so this module stays free of use-case wiring. Every run of every job
is recorded through `record_run` (a SchedulerJobRan event, application/scheduler_runs.py), except
the notifications poll, which runs every few seconds and is recorded only when it fails.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from application.live_session import LiveSession, ShutdownPolicy
from application.live_trader import LiveStrategy
from application.ports.event_store import EventStoreError
from application.ports.read_models import ReadModelStore
from domain.candles import timeframe_delta
from domain.errors import DomainError
from entrypoints.job_timings import JobTimings
from entrypoints.logging_setup import scrub
from entrypoints.quiet_heap import QuietHeap

log = logging.getLogger(__name__)

CRON: dict[str, dict[str, str]] = {
    "5m": {"minute": "*/5"}, "15m": {"minute": "*/15"}, "30m": {"minute": "*/30"}, "1h": {"minute": "0"},
    "4h": {"hour": "*/4", "minute": "0"}, "1d": {"hour": "0", "minute": "0"},
}


def live_strategies(read_models: ReadModelStore, catch_up: Callable[[], object]) -> Callable[[], list[LiveStrategy]]:
    """LIVE strategies from the read model, read afresh at each close (a rotation takes effect next bar)."""
    def load() -> list[LiveStrategy]:
        catch_up()
        rows = read_models.rows("strategies", {"status": "LIVE"})
        return [LiveStrategy(r["strategy_id"], r["code"], r["timeframe"], int(r["subaccount"]))
                for r in rows if r.get("subaccount") is not None and r.get("code")]
    return load


@dataclass(frozen=True)
class ScheduledJob:
    """A job of the improvement cycle (research, history ...): run every `every`, never beside itself."""

    job_id: str
    name: str
    action: Callable[[], object]
    every: timedelta
    first_run_at: datetime | None = None
    """When to run first; None: one interval after the start. A restart should not postpone a job
    that is due (the last recorded run + `every`), see first_run_after."""

    def __post_init__(self) -> None:
        if self.every <= timedelta(0):
            raise ValueError(f"job {self.job_id!r} needs a positive interval, got {self.every}")


class RunRecorder(Protocol):
    def __call__(self, job_id: str, started_at: datetime, finished_at: datetime, *, outcome: str,
                 detail: str = "") -> object: ...


QUIET_JOBS = frozenset({"notifications"})
"""Jobs whose successful runs are not recorded: a poll every few seconds would flood the store."""


def first_run_after(last_started: datetime | None, every: timedelta, now: datetime,
                    delay: timedelta = timedelta(minutes=1)) -> datetime:
    """A job's first run in this process: one interval after its last recorded run, at once (after
    `delay`, once the loop has settled) when that is past, one interval from now when it never ran."""
    if last_started is None:
        return now + every
    return max(last_started + every, now + delay)


def shutdown_policy(cancel_orders: bool, close_positions: bool) -> ShutdownPolicy:
    return ShutdownPolicy(cancel_orders=cancel_orders, close_positions=close_positions)


class LiveRunner:
    def __init__(self, session: LiveSession, timeframes: Sequence[str], *, grace_seconds: int,
                 check_minutes: float, catch_up: Callable[[], object], rotation_hours: float | None = None,
                 timings: JobTimings | None = None, notify: Callable[[], object] | None = None,
                 notify_seconds: float = 5.0, jobs: Sequence[ScheduledJob] = (),
                 record_run: RunRecorder | None = None, now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 heap: QuietHeap | None = None) -> None:
        unknown = sorted(set(timeframes) - set(CRON))
        if unknown:
            raise ValueError(f"no candle-close schedule for timeframes {unknown}; known: {sorted(CRON)}")
        if not 0 <= grace_seconds < 60:
            raise ValueError(f"grace_seconds must be in [0, 60), got {grace_seconds}")
        self._session = session
        self._timeframes = tuple(sorted(set(timeframes), key=timeframe_delta))
        self._grace = grace_seconds
        self._check_minutes = check_minutes
        self._rotation_hours = rotation_hours
        self._catch_up = catch_up
        self._notify = notify
        self._notify_seconds = notify_seconds
        ids = [job.job_id for job in jobs]
        taken = sorted({i for i in ids if ids.count(i) > 1 or i in self._builtin_ids()})
        if taken:
            raise ValueError(f"scheduled job ids {taken} are taken (twice, or by the live loop's own jobs)")
        self._jobs = tuple(jobs)
        self._record_run = record_run
        self._now = now
        self.unrecorded = 0
        self.misfires = 0
        self.errors = 0
        self.iterations = 0
        self.timings = timings or JobTimings()
        self._scheduler: BackgroundScheduler | None = None
        self.heap = heap or QuietHeap()

    @property
    def running(self) -> bool:
        """Whether the scheduler takes jobs now: false before the first reconciliation is done and after a stop."""
        return self._scheduler is not None and bool(self._scheduler.running)

    def run(self, stop: threading.Event) -> None:
        """Until `stop` is set; reconciles before the first decision."""
        with self.scheduled() as scheduler:
            scheduler.start()
            jobs = {job: str(at) for job, at in self.next_runs().items()}
            log.info("live loop started", extra={"timeframes": list(self._timeframes), "jobs": jobs})
            try:
                stop.wait()
            finally:
                scheduler.shutdown(wait=True)
        log.info("live loop stopped", extra={"iterations": self.iterations, "misfires": self.misfires,
                                             "errors": self.errors})

    @contextmanager
    def scheduled(self) -> Iterator[BackgroundScheduler]:
        """The loop's scheduler with every job, not started: reconciled before, the venue left as
        `deployment.shutdown` says after. `run` starts it on the wall clock; a simulated clock
        drives its jobs one by one instead (entrypoints/simulated_schedule.py)."""
        self._session.start()
        self._catch_up()
        self.heap.settle()  # what wiring and reconciling left behind, before the first decision
        try:
            yield self._build()
        finally:
            try:
                self._session.stop()
                self._catch_up()
            finally:
                self.heap.release()

    def next_runs(self) -> dict[str, datetime | None]:
        """Each scheduled job's next run (None: paused); empty before the scheduler starts."""
        if self._scheduler is None:
            return {}
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs()}

    def _builtin_ids(self) -> set[str]:
        return {f"close-{tf}" for tf in self._timeframes} | {"snapshots", "rotation", "notifications"}

    def _build(self) -> BackgroundScheduler:
        scheduler = BackgroundScheduler(timezone=UTC, job_defaults={
            "max_instances": 1, "coalesce": True, "misfire_grace_time": max(5, 60 - self._grace)})
        for timeframe in self._timeframes:
            self._add(scheduler, f"close-{timeframe}", self._close, f"decide on {timeframe} closes",
                      CronTrigger(timezone=UTC, second=str(self._grace), **CRON[timeframe]), args=[timeframe])
        self._add(scheduler, "snapshots", self._check, "snapshots and emergency limits",
                  self._every(timedelta(minutes=self._check_minutes)))
        if self._rotation_hours:
            self._add(scheduler, "rotation", self._rotate, "rotate degraded strategies",
                      self._every(timedelta(hours=self._rotation_hours)))
        if self._notify is not None:
            self._add(scheduler, "notifications", self._notify_events, "notify new events",
                      self._every(timedelta(seconds=self._notify_seconds)))
        for job in self._jobs:
            self._add(scheduler, job.job_id, _call(job.action), job.name, self._every(job.every),
                      next_run_time=job.first_run_at)
        scheduler.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR | EVENT_JOB_MAX_INSTANCES)
        self._scheduler = scheduler
        return scheduler

    def _every(self, interval: timedelta) -> IntervalTrigger:
        """First due one interval after the runner's `now` (APScheduler's own default reads the wall
        clock, which a simulated clock would never reach)."""
        return IntervalTrigger(seconds=interval.total_seconds(), start_date=self._now() + interval, timezone=UTC)

    def _add(self, scheduler: BackgroundScheduler, job_id: str, action: Callable[..., None], name: str,
             trigger: CronTrigger | IntervalTrigger, args: list[Any] | None = None,
             next_run_time: datetime | None = None) -> None:
        """Every job runs timed, under its id (entrypoints/job_timings.py), and recorded."""
        first = {} if next_run_time is None else {"next_run_time": next_run_time}
        scheduler.add_job(self._recorded(job_id, self.timings.timed(job_id, action)), trigger, args=args, id=job_id,
                          name=name, **first)

    def _recorded(self, job_id: str, action: Callable[..., None]) -> Callable[..., None]:
        """`action`, with a SchedulerJobRan for its run; its errors still reach the scheduler's listener."""
        def run(*args: Any) -> None:
            started = self._now()
            try:
                action(*args)
            except Exception as exc:
                self._record(job_id, started, "failed", scrub(f"{type(exc).__name__}: {exc}"))
                raise
            if job_id not in QUIET_JOBS:
                self._record(job_id, started, "ok", "")
        return run

    def _record(self, job_id: str, started: datetime, outcome: str, detail: str) -> None:
        """A run that cannot be recorded is logged and counted; the scheduler and the job go on."""
        if self._record_run is None:
            return
        try:
            self._record_run(job_id, started, max(started, self._now()), outcome=outcome, detail=detail)
        except (EventStoreError, DomainError, OSError) as exc:
            self.unrecorded += 1
            log.error("scheduled job run not recorded", extra={
                "job": job_id, "outcome": outcome, "error": scrub(f"{type(exc).__name__}: {exc}")})

    def _close(self, timeframe: str) -> None:
        with self.heap.iteration():
            decisions = self._session.on_candle_close(timeframe)
            self.iterations += 1
            self._session.check()
            self._catch_up()
            acted = [d for d in decisions if d.action not in ("none", "held")]
            log.info("candle close", extra={"timeframe": timeframe, "decisions": len(decisions),
                                            "actions": [f"{d.strategy_id}:{d.symbol}:{d.action}" for d in acted]})

    def _check(self) -> None:
        stopped = self._session.check()
        self._catch_up()
        for outcome in stopped:
            log.warning("emergency stop", extra={"subaccount": outcome.subaccount, "reason": outcome.reason})

    def _notify_events(self) -> None:
        if self._notify is not None:
            self._notify()

    def _rotate(self) -> None:
        outcomes = self._session.rotate()
        self._catch_up()
        for outcome in outcomes:
            if outcome.action != "kept":
                log.warning("rotation", extra={"strategy_id": outcome.strategy_id, "action": outcome.action,
                                               "replacement": outcome.replacement, "reason": outcome.reason})

    def _on_event(self, event: Any) -> None:
        if isinstance(event, JobExecutionEvent) and event.exception is not None:
            self.errors += 1
            log.error("scheduled job failed", extra={"job": event.job_id, "error": scrub(repr(event.exception))})
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            self.misfires += 1
            self.timings.missed(str(event.job_id))
            log.warning("scheduled run skipped: the previous run is still going", extra={"job": event.job_id})
        else:
            self.misfires += 1
            self.timings.missed(str(getattr(event, "job_id", "unknown")))
            log.warning("scheduled run missed", extra={"job": getattr(event, "job_id", None)})


def _call(action: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        action()
    return run
