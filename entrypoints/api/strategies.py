"""GET /strategies and GET /strategies/{id}: the read models, for integrators and the dashboard."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
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


class StrategyDetail(StrategyView):
    code: str | None = None
    prompt: str | None = None
    pattern_id: str | None = None
    provenance: dict[str, Any] | None = None
    validations: list[dict[str, Any]] = []
    backtests: list[dict[str, Any]] = []


@router.get("/strategies", response_model=list[StrategyView], summary="Strategies and their lifecycle status")
def list_strategies(
    request: Request,
    status: str | None = Query(None, description="PENDING, TESTED, SELECTED, LIVE or RETIRED"),
    type: str | None = Query(None, description="strategy type: MOM, REV, TRN, BRE, VOL, PAT ..."),
    timeframe: str | None = Query(None, description="5m, 15m, 30m, 1h, 4h or 1d"),
    sort: Literal["created", "score", "name"] = Query("created", description="score: best first"),
) -> list[StrategyView]:
    where = {k: v for k, v in (("status", status.upper() if status else None),
                               ("strategy_type", type.upper() if type else None), ("timeframe", timeframe)) if v}
    rows = request.app.state.container.read_models().rows("strategies", where or None)
    if sort == "score":
        rows.sort(key=lambda r: (r.get("score") is None, -(r.get("score") or 0.0), r["strategy_id"]))
    elif sort == "name":
        rows.sort(key=lambda r: (r.get("name") or "", r["strategy_id"]))
    else:
        rows.sort(key=lambda r: (str(r.get("created_at") or ""), r["strategy_id"]))
    return [StrategyView.model_validate(row) for row in rows]


@router.get("/strategies/{strategy_id}", response_model=StrategyDetail,
            summary="One strategy with its code, provenance, validations and backtests")
def get_strategy(strategy_id: str, request: Request) -> StrategyDetail:
    read_models = request.app.state.container.read_models()
    rows = read_models.rows("strategies", {"strategy_id": strategy_id}) or read_models.rows(
        "strategies", {"name": strategy_id})
    if not rows:
        raise HTTPException(404, f"no strategy {strategy_id!r} (id or name)")
    row = rows[0]
    validations = read_models.rows("validation_results", {"strategy_id": row["strategy_id"]})
    backtests = read_models.rows("backtest_results", {"strategy_id": row["strategy_id"]})
    return StrategyDetail.model_validate({
        **row, "validations": sorted(validations, key=lambda v: v["created_at"]),
        "backtests": sorted(backtests, key=lambda b: b["created_at"]),
    })
