"""Long-running work started by the API: a store of job states and something that runs tasks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from domain.errors import DomainError

JobStatus = Literal["queued", "running", "done", "failed"]


class JobNotFound(DomainError):
    """No job with this id (it never existed, or the process that ran it has restarted)."""


@dataclass(frozen=True)
class Job:
    job_id: str
    kind: str
    status: JobStatus
    progress: float                  # 0..1
    stage: str                       # what it is doing now, for people
    created_at: datetime
    updated_at: datetime
    result: dict[str, Any] | None = None
    error: str | None = None


class JobStore(Protocol):
    def create(self, job_id: str, kind: str, at: datetime) -> Job: ...

    def update(self, job_id: str, at: datetime, **changes: Any) -> Job:
        """Replace the named fields (status, progress, stage, result, error); JobNotFound if absent."""
        ...

    def get(self, job_id: str) -> Job: ...


class TaskRunner(Protocol):
    def submit(self, task: Callable[[], None]) -> None:
        """Run `task` (now or later, here or on another thread); it handles its own errors."""
        ...
