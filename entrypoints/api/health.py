"""GET /health: liveness plus whether the database answers."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from application.ports.event_store import EventStoreError
from entrypoints.logging_setup import scrub
from entrypoints.version import VERSION

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    uptime_seconds: float
    database: Literal["reachable", "unreachable"]
    events_stored: int | None
    detail: str | None = None


@router.get("/health", response_model=Health, summary="Liveness, version, uptime and database reachability")
def get_health(request: Request, response: Response) -> Health:
    container = request.app.state.container
    uptime = (container.clock().now() - request.app.state.started_at).total_seconds()
    try:
        head = container.event_store().head_position()
    except EventStoreError as exc:
        response.status_code = 503
        return Health(status="degraded", version=VERSION, uptime_seconds=uptime, database="unreachable",
                      events_stored=None, detail=scrub(str(exc)))
    return Health(status="ok", version=VERSION, uptime_seconds=uptime, database="reachable", events_stored=head)
