"""The one JSON shape of a job (backtest, validation) in API responses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from application.ports.jobs import Job
from entrypoints.logging_setup import scrub


class JobView(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float
    stage: str
    created_at: datetime
    updated_at: datetime
    result: dict[str, Any] | None = Field(None, description="when done: the report")
    error: str | None = None

    @classmethod
    def of(cls, job: Job) -> JobView:
        return cls(id=job.job_id, status=job.status, progress=job.progress, stage=job.stage,
                   created_at=job.created_at, updated_at=job.updated_at, result=job.result,
                   error=scrub(job.error) if job.error else None)
