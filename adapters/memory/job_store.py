"""Job states in a dict: enough for one API process (jobs are gone after a restart, results are not:
those are events)."""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime
from typing import Any

from application.ports.jobs import Job, JobNotFound


class InMemoryJobStore:
    """Keeps the last `keep` jobs (results hold every trade, so an API process must not hoard them)."""

    def __init__(self, keep: int = 200) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._keep = keep

    def create(self, job_id: str, kind: str, at: datetime) -> Job:
        job = Job(job_id=job_id, kind=kind, status="queued", progress=0.0, stage="queued", created_at=at,
                  updated_at=at)
        with self._lock:
            if job_id in self._jobs:
                raise ValueError(f"job {job_id} already exists")
            self._jobs[job_id] = job
            finished = [j.job_id for j in self._jobs.values() if j.status in ("done", "failed")]
            for old in finished[: max(0, len(self._jobs) - self._keep)]:  # oldest first: dicts keep order
                del self._jobs[old]
        return job

    def update(self, job_id: str, at: datetime, **changes: Any) -> Job:
        with self._lock:
            job = self._get(job_id)
            updated = dataclasses.replace(job, updated_at=at, **changes)
            self._jobs[job_id] = updated
            return updated

    def get(self, job_id: str) -> Job:
        with self._lock:
            return self._get(job_id)

    def _get(self, job_id: str) -> Job:
        try:
            return self._jobs[job_id]
        except KeyError:
            raise JobNotFound(f"no backtest job {job_id!r}") from None
