from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidRiskPolicy, InvalidSignal, RiskLimitBreached
from domain.portfolio import Portfolio
from domain.risk import RiskPolicy
from domain.trading import Fill

T0 = datetime(2024, 5, 1, 9, tzinfo=UTC)
POLICY = RiskPolicy(
    risk_per_trade=0.02,
    max_position_size=0.2,
    max_open_positions=3,
    max_drawdown=0.3,
    max_daily_loss=0.1,
    strategy_degradation=0.5,
    min_trades_for_degradation=10,
)


def book_with_long(cash: float = 100.0, symbol: str = "BTC") -> Portfolio:
    p = Portfolio(subaccount=1, cash=cash, at=T0)
    p.apply_fill(Fill(order_id="o", symbol=symbol, side="buy", size=10.0, price=10.0, fee=0.0, time=T0))
    return p


@pytest.mark.parametrize(
    "changes",
    [
        {"risk_per_trade": 0.0},
        {"risk_per_trade": 1.5},
        {"max_position_size": math.nan},
        {"max_drawdown": -0.1},
        {"max_daily_loss": 2.0},
        {"strategy_degradation": 0.0},
        {"max_open_positions": 0},
        {"max_open_positions": 2.5},
        {"min_trades_for_degradation": 0},
        {"risk_per_trade": 0.3, "max_position_size": 0.2},
    ],
)
def test_policy_refuses_out_of_range_limits(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidRiskPolicy):
        RiskPolicy(**changes)


def test_fixed_fraction_size_from_the_stop_distance() -> None:
    # risks 2% of 10,000 = 200 over a 5.0 stop distance: 40 units, under the 20% cap (20 units at 100)
    assert POLICY.position_size(10_000, 100.0, 95.0, 1.0) == 20.0
    assert POLICY.position_size(10_000, 100.0, 80.0, 1.0) == pytest.approx(10.0)
    assert POLICY.position_size(10_000, 100.0, 120.0, 1.0) == pytest.approx(10.0)


def test_signal_size_narrows_the_cap() -> None:
    assert POLICY.position_size(10_000, 100.0, 95.0, 0.05) == pytest.approx(5.0)


def test_without_stop_the_caps_decide() -> None:
    assert POLICY.position_size(10_000, 100.0, None, 1.0) == pytest.approx(20.0)
    assert POLICY.position_size(10_000, 100.0, None, 0.1) == pytest.approx(10.0)


def test_no_equity_no_position() -> None:
    assert POLICY.position_size(0.0, 100.0, 95.0, 1.0) == 0.0
    assert POLICY.position_size(-5.0, 100.0, None, 1.0) == 0.0


@pytest.mark.parametrize(
    ("equity", "entry", "stop", "size"),
    [
        (1_000, 100.0, 100.0, 1.0),
        (1_000, 0.0, 95.0, 1.0),
        (1_000, 100.0, -1.0, 1.0),
        (math.nan, 100.0, 95.0, 1.0),
        (1_000, 100.0, 95.0, 0.0),
        (1_000, 100.0, 95.0, 1.5),
    ],
)
def test_position_size_refuses_meaningless_inputs(
    equity: float, entry: float, stop: float, size: float
) -> None:
    with pytest.raises(InvalidSignal):
        POLICY.position_size(equity, entry, stop, size)


@given(
    equity=st.floats(1, 1e9),
    entry=st.floats(0.001, 1e6),
    stop_ratio=st.floats(0.01, 1.99).filter(lambda r: abs(r - 1) > 1e-3),
    signal_size=st.floats(0.001, 1),
)
def test_loss_at_the_stop_never_exceeds_the_risk_budget(
    equity: float, entry: float, stop_ratio: float, signal_size: float
) -> None:
    stop = entry * stop_ratio
    size = POLICY.position_size(equity, entry, stop, signal_size)
    assert size * abs(entry - stop) <= equity * POLICY.risk_per_trade * (1 + 1e-9)
    assert size * entry <= equity * min(signal_size, POLICY.max_position_size) * (1 + 1e-9)


def test_new_position_allowed_within_limits() -> None:
    p = book_with_long()
    assert POLICY.refusal_reason(p, "ETH", open_positions_total=2) is None
    POLICY.check_new_position(p, "ETH", open_positions_total=2)


def test_second_position_on_the_same_symbol_is_refused() -> None:
    p = book_with_long()
    with pytest.raises(RiskLimitBreached, match="already holds a position on BTC") as info:
        POLICY.check_new_position(p, "BTC", open_positions_total=1)
    assert "BTC" in info.value.reason


def test_global_open_position_cap_is_enforced() -> None:
    p = book_with_long()
    reason = POLICY.refusal_reason(p, "ETH", open_positions_total=3)
    assert reason is not None and "limit is 3" in reason


def test_no_new_position_during_an_emergency() -> None:
    p = book_with_long()
    p.mark({"BTC": 1.0}, T0)
    reason = POLICY.refusal_reason(p, "ETH", open_positions_total=0)
    assert reason is not None and reason.startswith("emergency stop")


def test_emergency_on_drawdown_from_peak() -> None:
    policy = replace(POLICY, max_daily_loss=1.0)
    p = book_with_long()
    p.mark({"BTC": 40.0}, T0 + timedelta(days=1))
    p.mark({"BTC": 31.0}, T0 + timedelta(days=2))
    assert p.drawdown == pytest.approx(0.225) and policy.emergency_reason(p) is None
    p.mark({"BTC": 23.0}, T0 + timedelta(days=3))
    reason = policy.emergency_reason(p)
    assert reason is not None and "drawdown 42.5%" in reason


def test_emergency_on_daily_loss_resets_next_utc_day() -> None:
    p = book_with_long()
    p.mark({"BTC": 8.9}, T0 + timedelta(hours=1))
    reason = POLICY.emergency_reason(p)
    assert reason is not None and "daily loss 11.0%" in reason
    p.mark({"BTC": 8.9}, datetime(2024, 5, 2, 0, 0, tzinfo=UTC))
    assert POLICY.emergency_reason(p) is None


def test_loss_exactly_at_the_limit_is_not_yet_an_emergency() -> None:
    p = book_with_long()
    p.mark({"BTC": 9.0}, T0)
    assert p.daily_return == pytest.approx(-0.1)
    assert POLICY.emergency_reason(p) is None


@pytest.mark.parametrize(
    ("live", "backtest", "trades", "degraded"),
    [
        (0.004, 0.01, 30, True),
        (0.006, 0.01, 30, False),
        (0.005, 0.01, 30, False),
        (-0.05, 0.01, 9, False),
        (-0.016, -0.01, 30, True),
        (-0.014, -0.01, 30, False),
    ],
)
def test_degradation(live: float, backtest: float, trades: int, degraded: bool) -> None:
    assert POLICY.is_degraded(live, backtest, trades) is degraded


def test_degradation_refuses_nan() -> None:
    with pytest.raises(InvalidSignal):
        POLICY.is_degraded(math.nan, 0.01, 50)
