"""RiskPolicy: how big a position may be, when a new one is refused, when trading must stop.

The same policy object sits on the backtest, paper and live paths, so a strategy is never
sized one way in a backtest and another way with real money.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from domain.errors import InvalidRiskPolicy, InvalidSignal, RiskLimitBreached
from domain.events import PortfolioSnapshotTaken
from domain.portfolio import Portfolio


def _fraction(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise InvalidRiskPolicy(f"{name} must be a fraction in (0, 1], got {value!r}")


def _finite(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidSignal(f"{name} must be a finite number, got {value!r}")
    return float(value)


@dataclass(frozen=True, kw_only=True)
class RiskPolicy:
    """Every fraction is of the subaccount's equity (0.02 = 2%).

    max_drawdown is measured from the peak equity, max_daily_loss from the equity the UTC day
    started with; strategy_degradation is how far live expectancy may fall below the backtest's.
    """

    risk_per_trade: float = 0.02
    max_position_size: float = 0.2
    max_open_positions: int = 10
    max_drawdown: float = 0.3
    max_daily_loss: float = 0.1
    strategy_degradation: float = 0.5
    min_trades_for_degradation: int = 20

    def __post_init__(self) -> None:
        _fraction("risk_per_trade", self.risk_per_trade)
        _fraction("max_position_size", self.max_position_size)
        _fraction("max_drawdown", self.max_drawdown)
        _fraction("max_daily_loss", self.max_daily_loss)
        _fraction("strategy_degradation", self.strategy_degradation)
        if self.risk_per_trade > self.max_position_size:
            raise InvalidRiskPolicy(
                f"risk_per_trade ({self.risk_per_trade}) cannot exceed max_position_size "
                f"({self.max_position_size}): a stop at zero would already breach it"
            )
        for name in ("max_open_positions", "min_trades_for_degradation"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidRiskPolicy(f"{name} must be an int >= 1, got {value!r}")

    def position_size(
        self, equity: float, entry_price: float, stop_loss: float | None, signal_size: float
    ) -> float:
        """Units to trade: risk a fixed fraction of equity down to the stop, within both caps.

        Without a stop the loss is unbounded by construction, so the size is just the caps:
        the signal's own fraction and max_position_size. No equity means no position.
        """
        equity = _finite("equity", equity)
        if _finite("entry_price", entry_price) <= 0:
            raise InvalidSignal(f"entry_price must be positive, got {entry_price}")
        if not 0 < _finite("signal_size", signal_size) <= 1:
            raise InvalidSignal(f"signal_size must be a fraction in (0, 1], got {signal_size!r}")
        if equity <= 0:
            return 0.0
        cap = min(signal_size, self.max_position_size) * equity / entry_price
        if stop_loss is None:
            return cap
        distance = abs(entry_price - _finite("stop_loss", stop_loss))
        if stop_loss <= 0 or distance == 0:
            raise InvalidSignal(f"stop_loss {stop_loss} must be positive and differ from entry {entry_price}")
        return min(equity * self.risk_per_trade / distance, cap)

    def refusal_reason(self, portfolio: Portfolio, symbol: str, open_positions_total: int) -> str | None:
        """Why a new position on `symbol` must not open now, or None when it may.

        `open_positions_total` counts positions across every subaccount: the cap is global.
        """
        emergency = self.emergency_reason(portfolio)
        if emergency is not None:
            return f"emergency stop: {emergency}"
        if portfolio.equity <= 0:
            return f"subaccount {portfolio.subaccount} has no equity ({portfolio.equity:.2f})"
        if portfolio.position(symbol) is not None:
            return f"subaccount {portfolio.subaccount} already holds a position on {symbol}"
        if open_positions_total >= self.max_open_positions:
            return f"{open_positions_total} positions open; the limit is {self.max_open_positions}"
        return None

    def check_new_position(self, portfolio: Portfolio, symbol: str, open_positions_total: int) -> None:
        """Raise RiskLimitBreached when `refusal_reason` refuses; for paths that must not go on."""
        reason = self.refusal_reason(portfolio, symbol, open_positions_total)
        if reason is not None:
            raise RiskLimitBreached(reason)

    def emergency_reason(self, portfolio: Portfolio) -> str | None:
        """Why the subaccount must stop trading and flatten, or None."""
        return self.breach(portfolio.drawdown, portfolio.daily_return)

    def snapshot_breach(self, snapshot: PortfolioSnapshotTaken) -> str | None:
        """The emergency rule on a recorded snapshot (its day started at equity - daily_pnl)."""
        start = snapshot.equity - snapshot.daily_pnl
        return self.breach(snapshot.drawdown, snapshot.daily_pnl / start if start > 0 else 0.0)

    def breach(self, drawdown: float, daily_return: float) -> str | None:
        """The emergency rule on the two figures it reads: drawdown from the peak, the UTC day's return."""
        if drawdown > self.max_drawdown:
            return f"drawdown {drawdown:.1%} exceeds the maximum {self.max_drawdown:.1%}"
        daily_loss = -daily_return
        if daily_loss > self.max_daily_loss:
            return f"daily loss {daily_loss:.1%} exceeds the maximum {self.max_daily_loss:.1%}"
        return None

    def is_degraded(self, live_expectancy: float, backtest_expectancy: float, live_trades: int) -> bool:
        """True when live results fall too far below the backtest to keep trading the strategy.

        The allowed fall is a fraction of the backtest's magnitude, so the rule also reads sensibly
        when the backtest expectancy is negative. Too few live trades prove nothing: False.
        """
        live = _finite("live_expectancy", live_expectancy)
        backtest = _finite("backtest_expectancy", backtest_expectancy)
        if live_trades < self.min_trades_for_degradation:
            return False
        return live < backtest - self.strategy_degradation * abs(backtest)
