"""Run use cases as jobs, so an HTTP request returns at once and is polled for progress.

A job's state lives in a JobStore; its result should also be an event (the use cases record
their own), so it outlives the job. A failing job is marked failed with the reason; an
unexpected error is logged with its traceback as well, and re-raised, never dropped.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from application.ports.clock import Clock
from application.ports.jobs import Job, JobNotFound, JobStore, TaskRunner
from application.ports.market_data import MarketDataError
from domain.errors import DomainError

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
Work = Callable[[Progress], dict[str, Any]]
EXPECTED_FAILURES: tuple[type[BaseException], ...] = (DomainError, MarketDataError, LookupError, OSError, ValueError)


class JobQueue:
    def __init__(self, kind: str, jobs: JobStore, runner: TaskRunner, clock: Clock,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self._kind = kind
        self._jobs = jobs
        self._runner = runner
        self._clock = clock
        self._new_id = new_id

    def start(self, work: Work, job_id: str | None = None) -> Job:
        """`job_id`: the caller's own id (a pipeline run's), else a new one."""
        job = self._jobs.create(job_id or self._new_id(), self._kind, self._clock.now())
        self._runner.submit(lambda: self._run(job.job_id, work))
        return job

    def status(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job.kind != self._kind:
            raise JobNotFound(f"no {self._kind} job {job_id}")
        return job

    def _run(self, job_id: str, work: Work) -> None:
        def progress(fraction: float, stage: str) -> None:
            self._jobs.update(job_id, self._clock.now(), status="running", progress=fraction, stage=stage)

        progress(0.0, "starting")
        try:
            result = work(progress)
        except EXPECTED_FAILURES as exc:
            logger.warning("%s job %s failed: %s", self._kind, job_id, exc)
            self._jobs.update(job_id, self._clock.now(), status="failed", stage="failed",
                              error=f"{type(exc).__name__}: {exc}")
            return
        except Exception as exc:
            logger.exception("%s job %s failed unexpectedly", self._kind, job_id)
            self._jobs.update(job_id, self._clock.now(), status="failed", stage="failed",
                              error=f"internal error: {type(exc).__name__}: {exc}")
            raise
        self._jobs.update(job_id, self._clock.now(), status="done", progress=1.0, stage="done", result=result)
