"""What a weekly report says, as typed values; `to_dict` is its one JSON form (the file, the API, `--json`)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from application.live_performance import LivePerformance

SCHEMA_VERSION = 1
CORRELATION_SOURCE = "daily returns of each strategy's subaccount equity (performance snapshots)"


@dataclass(frozen=True)
class StrategyWeek:
    """One strategy that was LIVE at some time in the week; the `week` figures cover only its time live in it."""

    strategy_id: str
    name: str | None
    subaccount: int | None
    timeframe: str | None
    status: str
    """Its status now, when the report was built."""
    deployed_at: datetime | None
    """None: before the part of the log the report reads, so before the week."""
    retired_at: datetime | None
    live_from: datetime
    live_until: datetime
    trades_in_week: int
    realized_pnl_in_week: float
    equity_start: float | None
    """The subaccount's equity when the week (or the strategy's time in it) began, from its snapshots."""
    equity_end: float | None
    return_in_week: float | None
    max_drawdown_in_week: float | None
    daily_returns: tuple[float | None, ...]
    """One per day of the report's `days`; None where a close is missing."""
    performance: LivePerformance
    """Since deployment, against the backtest: the numbers rotation judges it by."""


@dataclass(frozen=True)
class Correlation:
    strategy_ids: tuple[str, ...]
    matrix: tuple[tuple[float | None, ...], ...]
    """matrix[i][j]: Pearson correlation of i's and j's daily returns; None with too few common days."""
    common_days: tuple[tuple[int, ...], ...]
    min_common_days: int


@dataclass(frozen=True)
class LifecycleChange:
    at: datetime
    kind: str
    """rotated (replaced by `replacement`), emergency_stop, or stopped (by hand, or degraded with no replacement)."""
    strategy_id: str | None
    subaccount: int | None
    reason: str
    replacement: str | None = None
    retired: bool = True
    """False for an emergency stop that retired nothing: a free subaccount flattened, or a stop left incomplete."""


@dataclass(frozen=True)
class WeeklyReport:
    week: str
    period_start: datetime
    period_end: datetime
    generated_at: datetime
    days: tuple[datetime, ...]
    """Each day's start; a day runs 24 hours from it, the last one ends at period_end."""
    strategies: tuple[StrategyWeek, ...]
    correlation: Correlation
    changes: tuple[LifecycleChange, ...]

    def totals(self) -> dict[str, Any]:
        kinds = [c.kind for c in self.changes]
        return {
            "live_strategies": len(self.strategies),
            "trades_in_week": sum(s.trades_in_week for s in self.strategies),
            "realized_pnl_in_week": sum(s.realized_pnl_in_week for s in self.strategies),
            "rotations": kinds.count("rotated"),
            "stops": kinds.count("stopped"),
            "emergency_stops": kinds.count("emergency_stop"),
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: times as ISO 8601 strings, and NaN or infinite numbers as null."""
        plain: dict[str, Any] = json_safe({
            "schema_version": SCHEMA_VERSION,
            "week": self.week,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "generated_at": self.generated_at,
            "days": self.days,
            "totals": self.totals(),
            "strategies": [_strategy(s) for s in self.strategies],
            "correlation": {**dataclasses.asdict(self.correlation), "source": CORRELATION_SOURCE},
            "changes": [dataclasses.asdict(c) for c in self.changes],
        })
        return plain


def _strategy(week: StrategyWeek) -> dict[str, Any]:
    values = {f.name: getattr(week, f.name) for f in dataclasses.fields(week) if f.name != "performance"}
    live = {k: v for k, v in dataclasses.asdict(week.performance).items() if k != "strategy_id"}
    return {**values, "live": live}


def json_safe(value: Any) -> Any:
    """Recursively: datetimes to ISO strings, tuples to lists, non-finite floats to None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
