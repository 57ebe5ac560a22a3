"""A LIVE strategy's results next to its backtest's: the rotation rule and the dashboards read the same numbers.

Returns are per trade, PnL over the entry notional, which is what the backtester's expectancy
measures; a trade with no notional (size or price zero) says nothing and is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from application.ports.read_models import ReadModelStore


@dataclass(frozen=True)
class LivePerformance:
    strategy_id: str
    live_trades: int
    live_expectancy: float | None
    live_win_rate: float | None
    live_pnl: float
    backtest_expectancy: float | None
    backtest_win_rate: float | None
    backtest_sharpe: float | None


def live_performance(read_models: ReadModelStore, strategy: dict[str, Any]) -> LivePerformance:
    """`strategy`: its row in the strategies read model (latest_backtest_id names the backtest)."""
    strategy_id = str(strategy["strategy_id"])
    trades = read_models.rows("live_trades", {"strategy_id": strategy_id})
    notionals = [(float(t["pnl"]), float(t["entry_price"]) * float(t["size"])) for t in trades]
    returns = [pnl / notional for pnl, notional in notionals if notional > 0]
    backtest = _backtest(read_models, strategy.get("latest_backtest_id"))
    return LivePerformance(
        strategy_id=strategy_id,
        live_trades=len(returns),
        live_expectancy=sum(returns) / len(returns) if returns else None,
        live_win_rate=sum(1 for r in returns if r > 0) / len(returns) if returns else None,
        live_pnl=sum(float(t["pnl"]) for t in trades),
        backtest_expectancy=None if backtest is None else float(backtest["expectancy"]),
        backtest_win_rate=None if backtest is None else float(backtest["win_rate"]),
        backtest_sharpe=None if backtest is None else float(backtest["sharpe"]),
    )


def _backtest(read_models: ReadModelStore, backtest_id: Any) -> dict[str, Any] | None:
    if not backtest_id:
        return None
    found = read_models.rows("backtest_results", {"backtest_id": backtest_id})
    return found[0] if found else None
