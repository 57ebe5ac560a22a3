"""Rotation: a LIVE strategy whose live results fell too far below its backtest makes way.

The rule is the risk policy's: over at least `min_trades_for_degradation` live trades, a live
expectancy (mean return per trade) below the backtest's by more than `strategy_degradation` of its
magnitude is degraded. A degraded strategy is rotated out for the best SELECTED one not yet live
(same subaccount, same capital), or stopped when there is none. Every step is the manager's, so
every step is an event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from application.deploy_strategies import SubaccountManager
from application.live_performance import live_performance
from application.ports.read_models import ReadModelStore
from domain.lifecycle import StrategyStatus
from domain.risk import RiskPolicy


@dataclass(frozen=True)
class RotationOutcome:
    strategy_id: str
    action: str
    """kept, rotated, or stopped."""
    live_expectancy: float | None
    backtest_expectancy: float | None
    live_trades: int
    replacement: str | None = None
    reason: str = ""


class StrategyRotation:
    def __init__(self, manager: SubaccountManager, read_models: ReadModelStore, risk: RiskPolicy,
                 catch_up: Callable[[], object] | None = None) -> None:
        self._manager = manager
        self._read_models = read_models
        self._risk = risk
        self._catch_up = catch_up

    def run(self) -> list[RotationOutcome]:
        if self._catch_up is not None:
            self._catch_up()
        outcomes = []
        for row in self._read_models.rows("strategies", {"status": StrategyStatus.LIVE.value}):
            outcomes.append(self._review(row))
        return outcomes

    def _review(self, row: dict[str, Any]) -> RotationOutcome:
        performance = live_performance(self._read_models, row)
        strategy_id, trades = performance.strategy_id, performance.live_trades
        live, backtest = performance.live_expectancy, performance.backtest_expectancy
        if live is None or backtest is None or not self._risk.is_degraded(live, backtest, trades):
            return RotationOutcome(strategy_id, "kept", live, backtest, trades)
        reason = (f"live expectancy {live:.4%} over {trades} trades is below the backtest's {backtest:.4%} "
                  f"by more than {self._risk.strategy_degradation:.0%} of it")
        replacement = self._next_best()
        if replacement is None:
            self._manager.stop(strategy_id, f"degraded: {reason}; no SELECTED strategy to replace it")
            return RotationOutcome(strategy_id, "stopped", live, backtest, trades, None, reason)
        self._manager.rotate(strategy_id, replacement, f"degraded: {reason}")
        return RotationOutcome(strategy_id, "rotated", live, backtest, trades, replacement, reason)

    def _next_best(self) -> str | None:
        ranked = self._manager.selected()
        return ranked[0] if ranked else None
