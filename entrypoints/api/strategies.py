"""GET /strategies: the strategies read model, for integrators and the dashboard."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

router = APIRouter(tags=["strategies"])


class StrategyView(BaseModel):
    strategy_id: str
    name: str | None = None
    strategy_type: str | None = None
    timeframe: str | None = None
    status: str
    generator: str | None = None
    score: float | None = None
    rank: int | None = None
    subaccount: int | None = None
    retired_reason: str | None = None
    validation_status: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@router.get("/strategies", response_model=list[StrategyView], summary="Strategies and their lifecycle status")
def list_strategies(
    request: Request,
    status: str | None = Query(None, description="PENDING, TESTED, SELECTED, LIVE or RETIRED"),
) -> list[StrategyView]:
    read_models = request.app.state.container.read_models()
    rows = read_models.rows("strategies", {"status": status.upper()} if status else None)
    return [StrategyView.model_validate(row) for row in rows]
