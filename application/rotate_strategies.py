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

from application.deploy_strategies import SubaccountManager
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

    def _review(self, row: dict[str, object]) -> RotationOutcome:
        strategy_id = str(row["strategy_id"])
        backtest = self._backtest_expectancy(row)
        trades = self._read_models.rows("live_trades", {"strategy_id": strategy_id})
        returns = [float(t["pnl"]) / (float(t["entry_price"]) * float(t["size"])) for t in trades
                   if float(t["entry_price"]) * float(t["size"]) > 0]
        live = sum(returns) / len(returns) if returns else None
        if live is None or backtest is None or not self._risk.is_degraded(live, backtest, len(returns)):
            return RotationOutcome(strategy_id, "kept", live, backtest, len(returns))
        reason = (f"live expectancy {live:.4%} over {len(returns)} trades is below the backtest's {backtest:.4%} "
                  f"by more than {self._risk.strategy_degradation:.0%} of it")
        replacement = self._next_best()
        if replacement is None:
            self._manager.stop(strategy_id, f"degraded: {reason}; no SELECTED strategy to replace it")
            return RotationOutcome(strategy_id, "stopped", live, backtest, len(returns), None, reason)
        self._manager.rotate(strategy_id, replacement, f"degraded: {reason}")
        return RotationOutcome(strategy_id, "rotated", live, backtest, len(returns), replacement, reason)

    def _backtest_expectancy(self, row: dict[str, object]) -> float | None:
        backtest_id = row.get("latest_backtest_id")
        if not backtest_id:
            return None
        found = self._read_models.rows("backtest_results", {"backtest_id": backtest_id})
        return float(found[0]["expectancy"]) if found else None

    def _next_best(self) -> str | None:
        ranked = self._manager.selected()
        return ranked[0] if ranked else None
