"""GET /ready, GET /metrics and GET /jobs: readiness for orchestrators and alerts, Prometheus
exposition, and when each scheduled job of this process runs next.

/health (entrypoints/api/health.py) answers while the process lives; /ready answers 200 only
when this process can do its work (entrypoints/readiness.py), else a 503 problem naming each
check that failed. Both are served by `sixbtc api` and by the live loop's health port.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from entrypoints.metrics import CONTENT_TYPE, exposition
from entrypoints.readiness import CheckName, readiness

router = APIRouter(tags=["operations"])


class CheckView(BaseModel):
    name: CheckName
    ok: bool
    detail: str


class Ready(BaseModel):
    status: Literal["ready"]
    checks: list[CheckView]


class NotReady(BaseModel):
    """RFC 9457 problem details, with every check."""

    type: str = "about:blank"
    title: Literal["Not ready"] = "Not ready"
    status: Literal[503] = 503
    detail: str
    checks: list[CheckView]


_NOT_READY = NotReady.model_json_schema(ref_template="#/components/schemas/{model}")
_NOT_READY.pop("$defs", None)  # CheckView is in the components already, through Ready


@router.get("/ready", response_model=Ready, summary="Readiness: database, candle freshness, scheduler",
            responses={503: {"description": "a check failed; the problem names which",
                             "content": {"application/problem+json": {"schema": _NOT_READY}}}})
def get_ready(request: Request) -> Ready | JSONResponse:
    container = request.app.state.container
    found = readiness(container.event_store(), container.runtime(), container.clock().now())
    checks = [CheckView(name=c.name, ok=c.ok, detail=c.detail) for c in found]
    failed = [c for c in checks if not c.ok]
    if not failed:
        return Ready(status="ready", checks=checks)
    body = NotReady(detail="; ".join(f"{c.name}: {c.detail}" for c in failed), checks=checks)
    return JSONResponse(body.model_dump(), status_code=503, media_type="application/problem+json")


@router.get("/metrics", response_class=Response, summary="Prometheus metrics (text exposition format)",
            responses={200: {"content": {CONTENT_TYPE: {}}, "description": "every sixbtc_* series"}})
def get_metrics(request: Request) -> Response:
    return Response(exposition(request.app.state.container.metrics_registry()), media_type=CONTENT_TYPE)


class JobView(BaseModel):
    job_id: str
    next_run_at: datetime | None
    runs: int
    errors: int
    misfires: int


class Jobs(BaseModel):
    scheduler: Literal["running", "stopped", "none"]
    """none: this process runs no scheduler (the API); the live loop (`sixbtc run`) does."""
    jobs: list[JobView]


@router.get("/jobs", response_model=Jobs, summary="This process's scheduled jobs: next run, runs, errors")
def get_jobs(request: Request) -> Jobs:
    scheduler = request.app.state.container.runtime().scheduler
    if scheduler is None:
        return Jobs(scheduler="none", jobs=[])
    counts = scheduler.timings.snapshot()
    jobs = []
    for job_id, at in sorted(scheduler.next_runs().items()):
        seen = counts.get(job_id)
        jobs.append(JobView(job_id=job_id, next_run_at=at, runs=seen.runs if seen else 0,
                            errors=seen.errors if seen else 0, misfires=seen.misfires if seen else 0))
    return Jobs(scheduler="running" if scheduler.running else "stopped", jobs=jobs)
