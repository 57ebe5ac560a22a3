"""The seed's read models (strategies, backtest_results, live_trades, performance_snapshots)."""

from __future__ import annotations

from typing import Any

from application.ports.event_store import RecordedEvent
from application.ports.read_models import Upsert
from application.projections.base import Projection
from application.projections.execution import EXECUTION_PROJECTIONS
from domain import events as ev
from domain import research_events as rev


def _strategy(event: ev.StrategyEvent, **values: Any) -> list[Upsert]:
    return [Upsert("strategies", {"strategy_id": event.aggregate_id}, {**values, "updated_at": event.occurred_at})]


def _generated(e: ev.StrategyGenerated, _: RecordedEvent) -> list[Upsert]:
    return _strategy(
        e, name=e.name, strategy_type=e.strategy_type, timeframe=e.timeframe, status="PENDING",
        generator=e.generator, code=e.code, prompt=e.prompt, pattern_id=e.pattern_id, created_at=e.occurred_at,
        provenance=e.provenance,
    )


STRATEGIES = Projection(
    name="strategies",
    tables=("strategies",),
    handlers={
        "StrategyGenerated": _generated,
        "StrategyTested": lambda e, _: _strategy(e, status="TESTED", latest_backtest_id=e.backtest_id),
        "StrategySelected": lambda e, _: _strategy(e, status="SELECTED", score=e.score, rank=e.rank),
        "StrategyDeselected": lambda e, _: _strategy(e, status="TESTED", rank=None),
        "StrategyDeployed": lambda e, _: _strategy(e, status="LIVE", subaccount=e.subaccount, deploy_mode=e.mode),
        "StrategyRetired": lambda e, _: _strategy(e, status="RETIRED", retired_reason=e.reason),
        "StrategyValidated": lambda e, r: validation_status(e, r),
        "StrategyRejected": lambda e, r: validation_status(e, r),
    },
)


def _backtest(e: ev.BacktestCompleted, _: RecordedEvent) -> list[Upsert]:
    return [Upsert("backtest_results", {"backtest_id": e.backtest_id}, {
        "strategy_id": e.aggregate_id, "symbol": e.symbol, "timeframe": e.timeframe,
        "period_start": e.period_start, "period_end": e.period_end, "total_trades": e.total_trades,
        "win_rate": e.win_rate, "sharpe": e.sharpe, "total_return": e.total_return,
        "max_drawdown": e.max_drawdown, "expectancy": e.expectancy, "metrics": e.metrics,
        "created_at": e.occurred_at,
    })]


BACKTEST_RESULTS = Projection("backtest_results", ("backtest_results",), {"BacktestCompleted": _backtest})


def _trade(e: ev.TradeClosed, _: RecordedEvent) -> list[Upsert]:
    return [Upsert("live_trades", {"trade_id": e.trade_id}, {
        "subaccount": int(e.aggregate_id), "strategy_id": e.strategy_id, "symbol": e.symbol,
        "direction": e.direction, "size": e.size, "entry_price": e.entry_price, "exit_price": e.exit_price,
        "entry_time": e.entry_time, "exit_time": e.exit_time, "pnl": e.pnl, "fees": e.fees,
        "exit_reason": e.exit_reason,
    })]


LIVE_TRADES = Projection("live_trades", ("live_trades",), {"TradeClosed": _trade})


def _snapshot(e: ev.PortfolioSnapshotTaken, _: RecordedEvent) -> list[Upsert]:
    return [Upsert("performance_snapshots", {"snapshot_id": e.event_id}, {
        "subaccount": int(e.aggregate_id), "strategy_id": e.strategy_id, "taken_at": e.occurred_at,
        "equity": e.equity, "cash": e.cash, "realized_pnl": e.realized_pnl,
        "unrealized_pnl": e.unrealized_pnl, "peak_equity": e.peak_equity, "drawdown": e.drawdown,
        "daily_pnl": e.daily_pnl, "open_positions": e.open_positions,
    })]


PERFORMANCE_SNAPSHOTS = Projection(
    "performance_snapshots", ("performance_snapshots",), {"PortfolioSnapshotTaken": _snapshot}
)

def _validation(e: rev.StrategyValidated | rev.StrategyRejected, _: RecordedEvent) -> list[Upsert]:
    passed = isinstance(e, rev.StrategyValidated)
    report = e.report
    changes = [Upsert("validation_results", {"validation_id": e.aggregate_id}, {
        "strategy_id": e.strategy_id, "origin": e.origin, "code_sha256": e.code_sha256, "passed": passed,
        "sandbox_ok": report.get("sandbox_ok"), "ast_ok": report.get("ast_ok"),
        "lookahead_free": report.get("lookahead_free"), "shuffle_p_value": report.get("shuffle_p_value"),
        "deflated_sharpe": report.get("deflated_sharpe"), "walk_forward_passed": report.get("walk_forward_passed"),
        "reasons": list(e.reasons) if isinstance(e, rev.StrategyRejected) else [], "report": report,
        "created_at": e.occurred_at,
    })]
    return changes


def validation_status(e: rev.StrategyValidated | rev.StrategyRejected, _: RecordedEvent) -> list[Upsert]:
    """The strategies projection's own view of validations: its rows exist before their validation."""
    if e.strategy_id is None:
        return []
    status = "VALIDATED" if isinstance(e, rev.StrategyValidated) else "REJECTED"
    return [Upsert("strategies", {"strategy_id": e.strategy_id},
                   {"validation_status": status, "latest_validation_id": e.aggregate_id}, insert=False)]


VALIDATION_RESULTS = Projection(
    "validation_results", ("validation_results",), {"StrategyValidated": _validation, "StrategyRejected": _validation}
)

def _run(e: rev.PipelineEvent, *, insert: bool = False, **values: Any) -> list[Upsert]:
    """Only the start creates the row; later events update it (their batch may come after its own)."""
    return [Upsert("pipeline_runs", {"run_id": e.aggregate_id}, {**values, "updated_at": e.occurred_at}, insert)]


PIPELINE_RUNS = Projection("pipeline_runs", ("pipeline_runs",), {
    "PipelineRunStarted": lambda e, _: _run(e, insert=True, status="running", request=e.request,
                                            started_at=e.occurred_at, candidates=0, evaluated=0, passed=0),
    "PipelineCandidatesChosen": lambda e, _: _run(e, candidates=len(e.strategy_ids), generation=e.generation),
    "CandidateEvaluated": lambda e, r: _run(e, last_evaluated=e.strategy_id),
    "PipelineRunCompleted": lambda e, _: _run(e, status="completed", completed_at=e.occurred_at,
                                              evaluated=e.report.get("candidates", 0),
                                              passed=e.report.get("passed", 0), selected=list(e.selected),
                                              report=e.report),
})

ALL_PROJECTIONS = (STRATEGIES, BACKTEST_RESULTS, LIVE_TRADES, PERFORMANCE_SNAPSHOTS, VALIDATION_RESULTS,
                   PIPELINE_RUNS, *EXECUTION_PROJECTIONS)
