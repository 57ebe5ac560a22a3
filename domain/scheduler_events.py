"""Events of the scheduler itself: one per run of a scheduled job, on the stream scheduler-{job id}.

An unattended loop is trusted only if its record says what ran, when, and how it ended; the
metrics keep counts, these keep each run (with the failure, secrets scrubbed) for the audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from domain.errors import DomainError
from domain.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class SchedulerEvent(DomainEvent):
    stream_prefix: ClassVar[str] = "scheduler"


@dataclass(frozen=True, kw_only=True)
class SchedulerJobRan(SchedulerEvent):
    """`aggregate_id` is the job id; `detail` is empty for a run that went well."""

    job_id: str
    started_at: datetime
    finished_at: datetime
    outcome: str
    detail: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.outcome not in ("ok", "failed"):
            raise DomainError(f"a job run's outcome is 'ok' or 'failed', not {self.outcome!r}")
        if self.finished_at < self.started_at:
            raise DomainError(f"job {self.job_id!r} finished ({self.finished_at}) before it started "
                              f"({self.started_at})")
