"""The live loop's own scheduled jobs on a simulated clock: days of cycles in minutes.

`LiveRunner.scheduled()` gives the scheduler `sixbtc run` would start, with the same jobs, triggers
and recorded, timed wrappers. Here it is started paused (so `running`, /jobs and /ready read it as
live) and never left to fire on the wall clock: the driver moves the clock from one fire time to the
next (each trigger's get_next_fire_time), lets the candle feed catch up, and runs the due job
synchronously in this thread. A run moves the clock on by the wall time it took, so the recorded
start and finish are real durations. Live, the scheduler's thread pool runs other jobs beside a long
one; here they wait for it and then run, late but each once (no misfire grace applies: the lateness
is the driver's, not the process's). A job's own fire times that pass while it runs are skipped, as
`max_instances=1` skips them live.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.job import Job
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger

from application.replay import SimulatedClock
from entrypoints.logging_setup import scrub

log = logging.getLogger(__name__)


@dataclass
class JobTally:
    """One job over a simulated run: its interval and first fire time, what it did."""

    job_id: str
    interval: timedelta
    first_at: datetime | None
    runs: int = 0
    errors: int = 0
    skipped: int = 0
    wall_seconds: float = 0.0

    def expected(self, end: datetime) -> int:
        """Runs its interval asks for from its first fire time to `end` (inclusive)."""
        if self.first_at is None or self.first_at > end:
            return 0
        if self.interval <= timedelta(0):
            return 1
        return (end - self.first_at) // self.interval + 1


class SimulatedSchedule:
    def __init__(self, scheduler: BaseScheduler, clock: SimulatedClock, *,
                 on_time: Callable[[datetime], None] = lambda _: None, timed: bool = True) -> None:
        """`on_time(now)` runs before each job run (the candle feed catches up with the clock there);
        `timed`: a run moves the clock on by its wall time (False: the clock stands still meanwhile)."""
        self._scheduler = scheduler
        self._clock = clock
        self._on_time = on_time
        self._timed = timed
        self.tallies: dict[str, JobTally] = {}

    def start(self) -> dict[str, JobTally]:
        """Start the scheduler paused, each job first due after the simulated now, as a start would."""
        now = self._clock.now()
        pending = self._scheduler.get_jobs()
        first = {job.id: job.next_run_time if hasattr(job, "next_run_time") else
                 job.trigger.get_next_fire_time(None, now) for job in pending}
        self._scheduler.start(paused=True)
        for job in pending:
            self._scheduler.modify_job(job.id, next_run_time=first[job.id])
            self.tallies[job.id] = JobTally(job.id, _interval(job, first[job.id]), first[job.id])
        return self.tallies

    def run_until(self, end: datetime, between: Callable[[datetime], None] = lambda _: None) -> dict[str, JobTally]:
        """Every run due up to `end` (inclusive), in fire-time order; `between(now)` after each step."""
        while (due := self._next_due()) is not None and due[1] <= end:
            job, at = due
            self._move_to(at)
            self._fire(job, at)
            between(self._clock.now())
        self._move_to(end)
        self._on_time(self._clock.now())
        return self.tallies

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)

    def _next_due(self) -> tuple[Job, datetime] | None:
        timed = [(job.next_run_time, order, job) for order, job in enumerate(self._scheduler.get_jobs())
                 if job.next_run_time is not None]
        if not timed:
            return None
        at, _, job = min(timed, key=lambda t: (t[0], t[1]))
        return job, at

    def _fire(self, job: Job, at: datetime) -> None:
        """One run; its fire times that pass while it runs are skipped, as `max_instances=1` skips them live."""
        tally = self.tallies[job.id]
        started = self._clock.now()
        self._run(job, tally)
        ended = self._clock.now()
        following = job.trigger.get_next_fire_time(at, ended)
        while following is not None and started < following <= ended:
            tally.skipped += 1
            log.warning("scheduled run skipped: the previous run is still going", extra={"job": job.id})
            following = job.trigger.get_next_fire_time(following, ended)
        if following is None:
            self._scheduler.remove_job(job.id)
        else:
            self._scheduler.modify_job(job.id, next_run_time=following)

    def _run(self, job: Job, tally: JobTally) -> None:
        self._on_time(self._clock.now())
        began = time.perf_counter()
        try:
            job.func(*job.args, **job.kwargs)
        except Exception as exc:  # noqa: BLE001 - as APScheduler's executor: logged, counted, the loop goes on
            tally.errors += 1
            log.error("scheduled job failed", extra={"job": job.id, "error": scrub(repr(exc))})
        finally:
            took = time.perf_counter() - began
            tally.runs += 1
            tally.wall_seconds += took
            if self._timed:
                self._clock.advance(timedelta(seconds=took))

    def _move_to(self, moment: datetime) -> None:
        now = self._clock.now()
        if moment > now:
            self._clock.advance(moment - now)


def _interval(job: Job, first: datetime | None) -> timedelta:
    """An interval trigger's own; a cron trigger's, the gap between its first two fire times."""
    if isinstance(job.trigger, IntervalTrigger):
        interval: timedelta = job.trigger.interval
        return interval
    if first is None:
        return timedelta(0)
    second = job.trigger.get_next_fire_time(first, first)
    return timedelta(0) if second is None else second - first
