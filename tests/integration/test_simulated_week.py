"""Issue 12: the whole process (the live loop's scheduler with every job it has, the API beside it,
paper trading on replayed candles, offline research, the history download) on a simulated clock,
with nothing overlapping, failing, logged as an error or growing. The full week is bench/soak.py;
here four simulated hours after a restart, so that every improvement-cycle job (daily and weekly
ones included) comes due at least once, rotation is hourly, and the resources are sampled three times.

Counts are exact, not within one: the horizon is inclusive and the clock moves to each fire time
exactly, so a job due at the very end runs and nothing due after it does.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import URL

from tests.postgres_server import fresh_database
from tests.soak_support import SoakReport, connections_stay_flat, run_soak
from tests.soak_world import SoakPlan

PLAN = SoakPlan(days=1 / 6, sample_every=timedelta(minutes=80), rotation_hours=1, restarted=True)
LIVE_LOOP_JOBS = {"close-15m", "close-30m", "close-1h", "close-4h", "close-1d", "snapshots", "rotation",
                  "research", "history"}


@pytest.fixture(scope="module")
def report(pg_server: URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoakReport]:
    with fresh_database(pg_server) as url:
        yield run_soak(PLAN, url, tmp_path_factory.mktemp("soak"))


def test_every_job_runs_as_often_as_its_interval_says_and_never_beside_itself(report: SoakReport) -> None:
    jobs = {j.job_id: j for j in report.jobs}
    assert set(jobs) >= LIVE_LOOP_JOBS, "the runner's jobs, whatever else it schedules"
    for job in jobs.values():
        assert job.expected >= 1, f"{job.job_id} never came due in the horizon"
        assert (job.ran, job.overlaps, job.failed, job.skipped) == (job.expected, 0, 0, 0), job
    assert jobs["close-15m"].ran == 16 and jobs["close-1d"].ran == 1 and jobs["snapshots"].ran == 16
    assert jobs["research"].ran == jobs["history"].ran == 1 and jobs["rotation"].ran == 4
    assert report.bars_fed > 0 and report.trades > 0, "the flippers traded on the replayed bars"
    assert report.pipeline_runs == 1, "the research run is in the read model the API serves"


def test_nothing_is_logged_as_an_error_and_the_api_answers_every_poll(report: SoakReport) -> None:
    assert report.errors == []
    assert report.polls >= 4 * len(report.polled) and report.poll_failures == []
    paths = {url.split(":", 2)[2].partition("/")[2] for url in report.polled}
    assert {"health", "jobs", "strategies", "subaccounts", "ready", "metrics", "reports/weekly",
            "reports/weekly/latest"} <= paths, "the weekly report's routes too"


def test_descriptors_connections_threads_and_memory_stay_flat(report: SoakReport) -> None:
    first, last = report.day1, report.last
    assert len(report.samples) == 3 and last.at == PLAN.end
    assert last.fds <= first.fds + 2, report.samples
    assert connections_stay_flat(report), report.samples
    assert last.threads <= first.threads, report.samples
    assert abs(last.rss / first.rss - 1) <= 0.20, report.samples
