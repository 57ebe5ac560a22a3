"""The last stage of a research run: deflate, score, select, and move the strategies' status.

The deflated Sharpe ratio needs the whole batch (how many were tried and how their Sharpe ratios
spread), so it is computed here, after every candidate is evaluated, never in a worker.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from application.strategy_repository import StrategyRepository
from domain.classification.portfolio import Candidate, Decision, SelectionRules, build_portfolio
from domain.classification.regimes import Regime, RegimeStats
from domain.classification.scorer import ScoreBounds, ScoreWeights, score, stability_from_windows
from domain.errors import DomainError
from domain.lifecycle import StrategyStatus
from domain.validation.deflated_sharpe import expected_max_sharpe, psr_from_moments

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Scoring:
    weights: ScoreWeights
    bounds: ScoreBounds
    rules: SelectionRules


def candidates(results: Sequence[Mapping[str, Any]], scoring: Scoring) -> list[Candidate]:
    """The batch as Candidates, each with its score and deflated Sharpe against the whole batch."""
    moments = [r["moments"] for r in results if r.get("moments")]
    sharpes = [float(m["sharpe"]) for m in moments]
    variance = float(np.var(sharpes, ddof=1)) if len(sharpes) > 1 else 0.0
    sr0 = expected_max_sharpe(max(1, len(results)), variance)
    found = []
    for r in results:
        m = r.get("moments")
        dsr = None
        if m and int(m["observations"]) >= 3:
            dsr = psr_from_moments(float(m["sharpe"]), sr0, int(m["observations"]), float(m["skew"]),
                                   float(m["kurtosis"]))
        metrics = r.get("metrics") or {}
        stability = stability_from_windows([s for s in r.get("test_sharpes", []) if s is not None])
        breakdown = score(metrics, stability, scoring.weights, scoring.bounds) if metrics else None
        daily = pd.Series({pd.Timestamp(k): v for k, v in (r.get("daily_returns") or {}).items()}, dtype=float)
        found.append(Candidate(
            strategy_id=r["strategy_id"], name=r["name"], strategy_type=r["strategy_type"], timeframe=r["timeframe"],
            score=breakdown.score if breakdown else 0.0, metrics=metrics, shuffle_p_value=r.get("shuffle_p_value"),
            deflated_sharpe=dsr, daily_returns=daily,
            regimes={k: RegimeStats(**v) for k, v in (r.get("regimes") or {}).items()},
            passed_gates=bool(r.get("passed_gates")), gate_reasons=tuple(r.get("gate_reasons") or ()),
            symbols=tuple(r.get("symbols") or ()),
        ))
    return found


def select(results: Sequence[Mapping[str, Any]], scoring: Scoring,
           current: Mapping[str, Regime] | None) -> tuple[list[Candidate], list[Decision]]:
    pool = candidates(results, scoring)
    return pool, build_portfolio(pool, scoring.rules, current)


def record_statuses(repository: StrategyRepository, run_id: str, pool: Sequence[Candidate],
                    decisions: Sequence[Decision], results: Mapping[str, Mapping[str, Any]], at: datetime,
                    period: tuple[datetime, datetime]) -> None:
    """PENDING -> TESTED for what passed the gates, TESTED -> SELECTED for the chosen, SELECTED -> TESTED
    for an earlier choice that is no longer chosen; every step through the domain's rules."""
    by_id = {c.strategy_id: c for c in pool}
    for decision in decisions:
        candidate = by_id[decision.strategy_id]
        if not candidate.passed_gates:
            continue
        strategy = repository.get(decision.strategy_id)
        metrics = results[decision.strategy_id].get("metrics") or {}
        backtest_id = f"{run_id}:{decision.strategy_id}"
        try:
            if all(b.backtest_id != backtest_id for b in strategy.backtests):
                strategy.record_backtest(
                    backtest_id=backtest_id, symbol=",".join(results[decision.strategy_id].get("symbols", [])) or "-",
                    timeframe=candidate.timeframe, period_start=period[0], period_end=period[1],
                    total_trades=int(metrics.get("total_trades", 0)), win_rate=float(metrics.get("win_rate", 0.0)),
                    sharpe=_finite(metrics.get("sharpe_ratio")), total_return=_finite(metrics.get("total_return")),
                    max_drawdown=float(metrics.get("max_drawdown", 0.0)), expectancy=_finite(metrics.get("expectancy")),
                    metrics=dict(metrics), at=at)
            if strategy.status == StrategyStatus.PENDING:
                strategy.mark_tested(backtest_id, at=at)
            if decision.selected and strategy.status == StrategyStatus.TESTED:
                strategy.select(round(decision.score, 4), decision.rank or 1, at=at)
            elif not decision.selected and strategy.status == StrategyStatus.SELECTED:
                strategy.deselect(f"pipeline {run_id}: " + "; ".join(decision.reasons)[:500], at=at)
            repository.save(strategy, correlation_id=run_id)
        except DomainError as exc:
            logger.warning("pipeline %s: %s keeps its status (%s)", run_id, decision.name, exc)


def _finite(value: object) -> float:
    number = float(value) if isinstance(value, int | float) else 0.0
    return number if math.isfinite(number) else 0.0
