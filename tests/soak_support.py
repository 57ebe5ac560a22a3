"""A simulated week of `sixbtc run` beside `sixbtc api`, in one process, with the figures a soak watches.

The live loop is built by `build_runner` on a container of tests/soak_world.py, its scheduler driven by
entrypoints/simulated_schedule.py; the API (create_app, the same container, so the same database) is
served by uvicorn on 127.0.0.1 and polled every simulated hour, as is the runner's health port. What is
measured: each job's runs (its SchedulerJobRan records) against what its interval asks for, runs of one
job overlapping, ERROR log records, open file descriptors, the database's connections, threads and
resident memory after the first simulated day and at the end, and the wall time.
"""

from __future__ import annotations

import itertools
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from adapters.memory.clock import ManualClock
from adapters.postgres.direct_connections import every_shared
from adapters.postgres.engine import normalise_url
from application.replay_bars import ReplayedBars
from application.scheduler_runs import JobRunLog
from entrypoints.api.app import create_app
from entrypoints.cli.run_commands import build_runner
from entrypoints.health_server import runner_health
from entrypoints.live_runner import QUIET_JOBS
from entrypoints.simulated_schedule import JobTally, SimulatedSchedule
from tests.fakes.binance import FakeBinanceFutures
from tests.soak_world import (
    SoakPlan,
    binance_frames,
    deploy_flippers,
    market,
    restarted,
    soak_container,
    write_config,
)

POLL_EVERY = timedelta(hours=1)
POLLED = ("/health", "/jobs", "/strategies", "/subaccounts")


class ErrorCount(logging.Handler):
    """Counts records at ERROR and above anywhere in the process, keeping the first few."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass(frozen=True)
class Sample:
    at: datetime
    fds: int
    db_connections: int
    threads: int
    rss: int
    store_connections: int = 0
    """Of db_connections, the event store's own (adapters/postgres/direct_connections.py)."""
    store_peak: int = 0
    """The most event-store calls that held a connection at once so far: the store keeps no more open."""


@dataclass(frozen=True)
class JobFigures:
    job_id: str
    interval: timedelta
    expected: int
    ran: int
    overlaps: int
    failed: int
    skipped: int
    wall_seconds: float


@dataclass
class SoakReport:
    plan: SoakPlan
    jobs: list[JobFigures] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    polled: list[str] = field(default_factory=list)
    """The URLs polled every simulated hour."""
    polls: int = 0
    poll_failures: list[str] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    bars_fed: int = 0
    trades: int = 0
    """Paper trades closed (the live_trades read model)."""
    pipeline_runs: int = 0
    """Research runs the read model holds."""
    wall_seconds: float = 0.0

    @property
    def day1(self) -> Sample:
        return self.samples[0]

    @property
    def last(self) -> Sample:
        return self.samples[-1]


class ApiServer:
    """The whole API app under uvicorn in a thread, lifespan included (its projection follower)."""

    def __init__(self, app: FastAPI) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name="soak-api", daemon=True)

    def __enter__(self) -> ApiServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=20)
        self._socket.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Probe:
    def __init__(self, database: URL) -> None:
        self._engine = sa.create_engine(normalise_url(database), poolclass=NullPool)
        self._process = psutil.Process()

    def sample(self, at: datetime) -> Sample:
        """The probe's own connection is not counted."""
        with self._engine.connect() as conn:
            count = conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                         "AND pid <> pg_backend_pid()")).scalar_one()
        pools = [p for p in every_shared() if p.database == self._engine.url.database]
        return Sample(at, self._process.num_fds(), int(count), threading.active_count(),
                      self._process.memory_info().rss, sum(p.open_count() for p in pools),
                      sum(p.peak_in_use for p in pools))

    def close(self) -> None:
        self._engine.dispose()


def connections_stay_flat(report: SoakReport) -> bool:
    """The event store keeps as many connections as its calls ever held at once (parallel decisions
    reach that peak whenever they happen to overlap, at any hour): more would be a leak. The others
    (the engine's pool) grow by one at most from the first sample to the last."""
    if any(s.store_connections > s.store_peak for s in report.samples):
        return False
    first, last = report.day1, report.last
    return last.db_connections - last.store_connections <= first.db_connections - first.store_connections + 1


@contextmanager
def counting_errors() -> Iterator[ErrorCount]:
    handler, root = ErrorCount(), logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def _figures(tally: JobTally, log: JobRunLog, plan: SoakPlan) -> JobFigures:
    """Runs counted from the job's SchedulerJobRan records in the plan's window (the driver's own count
    for a job whose successful runs are not recorded); overlaps among all of them, past ones included."""
    runs = sorted(log.runs(tally.job_id), key=lambda r: r.started_at)
    within = [r for r in runs if r.started_at >= plan.start]
    ran = len(within) if tally.job_id not in QUIET_JOBS else tally.runs
    overlapping = sum(1 for a, b in itertools.pairwise(runs) if b.started_at < a.finished_at)
    return JobFigures(tally.job_id, tally.interval, tally.expected(plan.end), ran, overlapping, tally.errors,
                      tally.skipped, tally.wall_seconds)


def run_soak(plan: SoakPlan, database: URL, folder: Path) -> SoakReport:
    """The plan's days on a fresh database; figures sampled after each simulated day."""
    began = time.perf_counter()
    report = SoakReport(plan)
    clock = ManualClock(plan.start)
    frames = market(plan)
    with counting_errors() as errors, FakeBinanceFutures(None, binance_frames(frames), now=clock.now) as binance:
        config = write_config(folder, plan, database.render_as_string(hide_password=False), binance.url, free_port())
        container, feed = soak_container(config, clock)
        bars = ReplayedBars(feed, frames)
        bars.start_at(clock.now())
        probe = Probe(database)
        try:
            deploy_flippers(container, clock.now())
            if plan.restarted:
                restarted(container, clock.now())
            app = create_app(container)
            with ApiServer(app) as api, runner_health(container) as health, httpx.Client(timeout=30) as http:
                runner = build_runner(container)
                health.attach(runner)
                port = container.settings().monitoring.health_check.port
                poller = Poller(http, [api.url + p for p in (*POLLED, *report_routes(app))]
                                + [f"http://127.0.0.1:{port}{p}" for p in ("/ready", "/metrics")], report)
                with runner.scheduled() as scheduler:
                    schedule = SimulatedSchedule(scheduler, clock, on_time=bars.advance_to)
                    try:
                        schedule.start()
                        for moment in plan.sample_times():
                            schedule.run_until(moment, poller.maybe)
                            report.samples.append(probe.sample(moment))
                    finally:
                        schedule.stop()
                log = JobRunLog(container.event_store())
                report.jobs = [_figures(tally, log, plan) for tally in schedule.tallies.values()]
                models = container.read_models()
                report.trades, report.pipeline_runs = len(models.rows("live_trades")), len(models.rows("pipeline_runs"))
        finally:
            container.shutdown_resources()
            probe.close()
        report.errors = [f"{r.name}: {r.getMessage()}" for r in errors.records]
    report.bars_fed = bars.bars_fed
    report.wall_seconds = time.perf_counter() - began
    return report


def report_routes(app: FastAPI) -> list[str]:
    """GET routes about reports (the weekly report, where the API has one) that need no parameter."""
    paths: dict[str, dict[str, object]] = app.openapi()["paths"]
    return sorted(path for path, operations in paths.items()
                  if "get" in operations and "report" in path and "{" not in path)


class Poller:
    """Every URL once per simulated POLL_EVERY; a failure (not 200, or no answer) is kept. A `/latest`
    route may answer 404 (the weekly report's, before the first week is over)."""

    def __init__(self, http: httpx.Client, urls: list[str], report: SoakReport) -> None:
        self._http, self._urls, self._report = http, urls, report
        report.polled = list(urls)
        self._next: datetime | None = None

    def maybe(self, now: datetime) -> None:
        if self._next is not None and now < self._next:
            return
        self._next = now + POLL_EVERY
        for url in self._urls:
            self._report.polls += 1
            try:
                answer = self._http.get(url)
            except httpx.HTTPError as exc:
                self._report.poll_failures.append(f"{url}: {type(exc).__name__}")
                continue
            nothing_yet = answer.status_code == 404 and url.endswith("/latest")
            if answer.status_code != 200 and not nothing_yet:
                self._report.poll_failures.append(f"{url}: {answer.status_code} {answer.text[:200]}")
