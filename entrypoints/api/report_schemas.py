"""The JSON shape of a weekly report in API responses: WeeklyReport.to_dict (application/weekly_report_model.py)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class LiveAgainstBacktest(BaseModel):
    """Since deployment: the figures rotation judges a strategy by (returns per trade over entry notional)."""

    live_trades: int
    live_expectancy: float | None
    live_win_rate: float | None
    live_pnl: float
    backtest_expectancy: float | None
    backtest_win_rate: float | None
    backtest_sharpe: float | None


class StrategyWeekView(BaseModel):
    strategy_id: str
    name: str | None
    subaccount: int | None
    timeframe: str | None
    status: str = Field(description="its status when the report was built")
    deployed_at: datetime | None = Field(description="null: before the week")
    retired_at: datetime | None
    live_from: datetime
    live_until: datetime
    trades_in_week: int
    realized_pnl_in_week: float
    equity_start: float | None
    equity_end: float | None
    return_in_week: float | None = Field(description="equity_end / equity_start - 1, marked to market")
    max_drawdown_in_week: float | None = Field(description="deepest fall from the week's running peak, 0.1 = 10%")
    daily_returns: list[float | None] = Field(description="one per entry of the report's days; null: no close")
    live: LiveAgainstBacktest


class CorrelationView(BaseModel):
    strategy_ids: list[str]
    matrix: list[list[float | None]] = Field(description="Pearson correlation of daily returns; null: too few "
                                                         "common days, or a series that did not move")
    common_days: list[list[int]]
    min_common_days: int
    source: str


class LifecycleChangeView(BaseModel):
    at: datetime
    kind: str = Field(description="rotated, stopped or emergency_stop")
    strategy_id: str | None
    subaccount: int | None
    reason: str
    replacement: str | None = Field(description="rotated: the strategy that took the subaccount")
    retired: bool = Field(description="false: an emergency stop that retired no strategy")


class WeeklyTotals(BaseModel):
    live_strategies: int
    trades_in_week: int
    realized_pnl_in_week: float
    rotations: int
    stops: int
    emergency_stops: int


class WeeklyReportView(BaseModel):
    """Live against backtest per strategy, their correlation, and what was rotated or stopped and why."""

    schema_version: int
    week: str = Field(description="ISO week holding most of the period, e.g. 2026-W48")
    period_start: datetime
    period_end: datetime
    generated_at: datetime
    days: list[datetime] = Field(description="each day's start; daily_returns follow this order")
    totals: WeeklyTotals
    strategies: list[StrategyWeekView]
    correlation: CorrelationView
    changes: list[LifecycleChangeView]


class WeeklyReportIndex(BaseModel):
    weeks: list[str] = Field(description="weeks with a report, oldest first")
    latest: str | None
