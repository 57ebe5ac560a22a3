"""Response models of the dashboard's read-only data endpoints (/ui/data/...): what OpenAPI documents."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class SystemStatusView(BaseModel):
    status: Literal["ok", "degraded"]
    mode: Literal["paper", "live"] = Field(description="what the execution endpoints of this server trade")
    version: str
    uptime_seconds: float
    database: Literal["reachable", "unreachable"]
    events_stored: int | None
    detail: str | None = Field(None, description="why the database is unreachable")
    refresh_seconds: float = Field(description="monitoring.dashboard.refresh_seconds: how often the page reloads")
    generated_at: datetime
    strategies: dict[str, int] = Field(default_factory=dict, description="strategies per lifecycle status")
    active_subaccounts: int = 0
    open_positions: int = 0


class EquityPoint(BaseModel):
    taken_at: datetime
    equity: float
    peak_equity: float
    drawdown: float = Field(description="(peak - equity) / peak, 0..1; a new assignment starts a new peak")


class EquityCurveView(BaseModel):
    subaccount: int
    strategy_id: str | None = Field(description="the strategy of the latest snapshot")
    snapshots: int = Field(description="snapshots recorded; `points` may hold fewer (thinned)")
    equity: float
    peak_equity: float
    drawdown: float
    max_drawdown: float = Field(description="the deepest drawdown over every snapshot")
    points: list[EquityPoint]


class TradeView(BaseModel):
    trade_id: str
    subaccount: int
    strategy_id: str | None = None
    symbol: str
    direction: str
    size: float
    entry_price: float
    exit_price: float
    entry_time: datetime
    exit_time: datetime
    pnl: float
    fees: float
    exit_reason: str | None = None


class PipelineRunSummary(BaseModel):
    run_id: str
    status: Literal["running", "completed", "failed"]
    progress: float = Field(ge=0, le=1)
    stage: str
    candidates: int
    evaluated: int
    passed: int | None = None
    selected: list[str] = Field(default_factory=list)
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    error: str | None = None
