from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidOrder, InvalidTradingRecord
from domain.portfolio import Portfolio
from domain.trading import Fill, Order, Position, Side, Trade

T0 = datetime(2024, 3, 1, 12, tzinfo=UTC)


def fill(
    side: Side, size: float, price: float, fee: float = 0.0, *, at: datetime = T0, symbol: str = "BTC"
) -> Fill:
    return Fill(
        order_id=f"o-{side}-{size}-{price}",
        symbol=symbol,
        side=side,
        size=size,
        price=price,
        fee=fee,
        time=at,
    )


def book(cash: float = 10_000.0) -> Portfolio:
    return Portfolio(subaccount=2, cash=cash, at=T0, strategy_id="s-1")


# --- trading values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"size": 0.0},
        {"size": math.nan},
        {"side": "hold"},
        {"symbol": ""},
        {"id": " "},
        {"stop_loss": 0.0},
        {"stop_loss": 110.0, "take_profit": 100.0},
        {"reduce_only": True, "stop_loss": 90.0},
    ],
)
def test_order_refuses_invalid_values(changes: dict[str, Any]) -> None:
    args: dict[str, Any] = {"id": "o1", "symbol": "BTC", "side": "buy", "size": 1.0}
    with pytest.raises(InvalidOrder):
        Order(**{**args, **changes})


def test_sell_order_brackets_are_mirrored() -> None:
    order = Order(id="o1", symbol="ETH", side="sell", size=2.0, stop_loss=110.0, take_profit=90.0)
    event = order.to_event(subaccount=3, strategy_id="s-9", at=T0)
    assert (event.aggregate_id, event.order_id, event.side, event.stop_loss) == ("3", "o1", "sell", 110.0)


@pytest.mark.parametrize(
    "changes",
    [{"size": -1.0}, {"price": 0.0}, {"fee": math.inf}, {"time": datetime(2024, 1, 1)}, {"side": "long"}],
)
def test_fill_refuses_invalid_values(changes: dict[str, Any]) -> None:
    args: dict[str, Any] = {
        "order_id": "o",
        "symbol": "BTC",
        "side": "buy",
        "size": 1.0,
        "price": 1.0,
        "fee": 0.0,
    }
    with pytest.raises(InvalidTradingRecord):
        Fill(**{**args, "time": T0, **changes})


def test_fill_round_trips_through_its_event() -> None:
    original = fill("sell", 0.5, 101.0, fee=-0.01)
    event = original.to_event(subaccount=1, strategy_id="s")
    assert Fill.from_event(event) == original
    assert event.filled_at == T0


def test_trade_cannot_exit_before_it_enters() -> None:
    with pytest.raises(InvalidTradingRecord):
        Trade(
            id="t",
            symbol="BTC",
            direction="long",
            size=1.0,
            entry_price=1.0,
            exit_price=1.0,
            entry_time=T0,
            exit_time=T0 - timedelta(seconds=1),
            pnl=0.0,
            fees=0.0,
            exit_reason="signal",
        )


def test_position_unrealized_pnl_by_direction() -> None:
    long = Position(symbol="BTC", direction="long", size=2.0, entry_price=100.0, opened_at=T0)
    short = Position(symbol="BTC", direction="short", size=2.0, entry_price=100.0, opened_at=T0)
    assert long.unrealized_pnl(110.0) == 20.0
    assert short.unrealized_pnl(110.0) == -20.0
    with pytest.raises(InvalidTradingRecord):
        long.unrealized_pnl(math.nan)


# --- portfolio ----------------------------------------------------------------------------


def test_opening_moves_only_the_fee_out_of_cash() -> None:
    p = book()
    assert p.apply_fill(fill("buy", 2.0, 100.0, fee=1.0), stop_loss=95.0) == []
    position = p.position("BTC")
    assert position is not None
    assert (position.direction, position.size, position.entry_price, position.stop_loss) == (
        "long",
        2.0,
        100.0,
        95.0,
    )
    assert p.cash == 9_999.0 and p.equity == 9_999.0 and p.open_positions == 1


def test_adding_averages_the_entry_and_keeps_the_open_time() -> None:
    p = book()
    p.apply_fill(fill("buy", 1.0, 100.0))
    p.apply_fill(fill("buy", 3.0, 120.0, at=T0 + timedelta(hours=1)))
    position = p.position("BTC")
    assert position is not None
    assert (position.size, position.entry_price, position.opened_at) == (4.0, 115.0, T0)


def test_partial_close_realises_its_share_and_charges_fees_pro_rata() -> None:
    p = book()
    p.apply_fill(fill("buy", 2.0, 100.0, fee=2.0))
    trades = p.apply_fill(fill("sell", 1.0, 110.0, fee=1.0), reason="take_profit")
    assert len(trades) == 1
    trade = trades[0]
    assert (trade.size, trade.entry_price, trade.exit_price, trade.exit_reason) == (
        1.0,
        100.0,
        110.0,
        "take_profit",
    )
    assert trade.fees == pytest.approx(2.0) and trade.pnl == pytest.approx(8.0) and trade.gross_pnl == 10.0
    position = p.position("BTC")
    assert position is not None and position.size == 1.0 and position.entry_fees == pytest.approx(1.0)
    assert p.cash == pytest.approx(10_000 - 3 + 10)


def test_short_closed_at_a_loss() -> None:
    p = book()
    p.apply_fill(fill("sell", 1.0, 100.0))
    (trade,) = p.apply_fill(fill("buy", 1.0, 105.0, at=T0 + timedelta(minutes=5)), reason="stop_loss")
    assert (trade.direction, trade.pnl, trade.entry_time) == ("short", -5.0, T0)
    assert p.positions == {} and p.cash == 9_995.0 and p.realized_pnl == -5.0


def test_flip_closes_then_opens_the_rest_the_other_way() -> None:
    p = book()
    p.apply_fill(fill("buy", 1.0, 100.0))
    (trade,) = p.apply_fill(fill("sell", 3.0, 90.0, fee=3.0), reason="flip", stop_loss=95.0)
    assert trade.direction == "long" and trade.size == 1.0 and trade.pnl == pytest.approx(-11.0)
    position = p.position("BTC")
    assert position is not None
    assert (position.direction, position.size, position.entry_price) == ("short", 2.0, 90.0)
    assert position.entry_fees == pytest.approx(2.0) and position.stop_loss == 95.0


def test_equity_drawdown_and_peak_follow_marks() -> None:
    p = book(1_000.0)
    p.apply_fill(fill("buy", 10.0, 100.0))
    p.mark({"BTC": 110.0}, T0 + timedelta(hours=1))
    assert (p.unrealized_pnl, p.equity, p.peak_equity, p.drawdown) == (100.0, 1_100.0, 1_100.0, 0.0)
    p.mark({"BTC": 88.0}, T0 + timedelta(hours=2))
    assert p.equity == 880.0 and p.peak_equity == 1_100.0
    assert p.drawdown == pytest.approx(0.2)


def test_daily_pnl_resets_at_utc_midnight_from_the_timestamps_given() -> None:
    p = book(1_000.0)
    p.apply_fill(fill("buy", 10.0, 100.0))
    p.mark({"BTC": 95.0}, datetime(2024, 3, 1, 23, 59, tzinfo=UTC))
    assert p.daily_pnl == -50.0 and p.daily_return == pytest.approx(-0.05)
    p.mark({"BTC": 97.0}, datetime(2024, 3, 2, 0, 1, tzinfo=UTC))
    assert p.day_start_equity == 950.0 and p.daily_pnl == 20.0
    late = datetime(2024, 3, 1, 23, 0, tzinfo=UTC)
    p.mark({"BTC": 96.0}, late)
    assert p.day == datetime(2024, 3, 2).date() and p.daily_pnl == 10.0


def test_day_boundary_uses_utc_even_for_other_offsets() -> None:
    p = book(1_000.0)
    tokyo = datetime(2024, 3, 2, 8, 0, tzinfo=UTC).astimezone(ZoneInfo("Asia/Tokyo"))
    p.apply_fill(fill("buy", 1.0, 100.0, at=tokyo))
    assert p.day == datetime(2024, 3, 2).date()


def test_funding_is_not_profit_nor_drawdown() -> None:
    p = book(1_000.0)
    p.fund(500.0, T0)
    assert (p.equity, p.daily_pnl, p.realized_pnl, p.peak_equity) == (1_500.0, 0.0, 0.0, 1_500.0)
    p.fund(-1_000.0, T0)
    assert (p.equity, p.drawdown, p.daily_pnl) == (500.0, 0.0, 0.0)


def test_snapshot_reports_the_book() -> None:
    p = book(1_000.0)
    p.apply_fill(fill("buy", 10.0, 100.0, fee=1.0))
    p.mark({"BTC": 90.0}, T0)
    event = p.snapshot(T0 + timedelta(minutes=1))
    assert event.aggregate_id == "2" and event.strategy_id == "s-1"
    assert (event.equity, event.cash, event.unrealized_pnl, event.open_positions) == (899.0, 999.0, -100.0, 1)
    assert event.drawdown == pytest.approx(101 / 1_000) and event.daily_pnl == -101.0


def test_mark_refuses_bad_prices_and_naive_times() -> None:
    p = book()
    with pytest.raises(InvalidTradingRecord):
        p.mark({"BTC": 0.0}, T0)
    with pytest.raises(InvalidTradingRecord):
        p.mark({"BTC": 1.0}, datetime(2024, 1, 1))


def test_trade_converts_to_its_event() -> None:
    p = book()
    p.apply_fill(fill("buy", 1.0, 100.0))
    (trade,) = p.apply_fill(fill("sell", 1.0, 101.0, at=T0 + timedelta(hours=3)))
    event = trade.to_event(subaccount=p.subaccount, strategy_id="s-1")
    assert (event.trade_id, event.pnl, event.exit_time, event.occurred_at) == (
        trade.id,
        1.0,
        trade.exit_time,
        trade.exit_time,
    )


# --- properties ---------------------------------------------------------------------------

prices = st.floats(min_value=0.01, max_value=1e5, allow_nan=False, allow_infinity=False)
sizes = st.floats(min_value=1e-4, max_value=1e3, allow_nan=False, allow_infinity=False)
fees = st.floats(min_value=-1.0, max_value=5.0, allow_nan=False, allow_infinity=False)
fills = st.lists(st.tuples(st.sampled_from(["buy", "sell"]), sizes, prices, fees), min_size=1, max_size=25)


@given(side=st.sampled_from(["buy", "sell"]), size=sizes, price=prices, cash=st.floats(0, 1e7))
def test_round_trip_at_the_same_price_without_fees_leaves_cash_unchanged(
    side: Side, size: float, price: float, cash: float
) -> None:
    p = book(cash)
    p.apply_fill(fill(side, size, price))
    (trade,) = p.apply_fill(fill("sell" if side == "buy" else "buy", size, price))
    assert p.cash == cash and p.positions == {} and trade.pnl == 0.0


@given(steps=fills, mark=prices)
def test_accounting_identities_hold_for_any_fill_sequence(
    steps: list[tuple[Any, float, float, float]], mark: float
) -> None:
    p = book(10_000.0)
    closed: list[Trade] = []
    net = 0.0
    for side, size, price, fee in steps:
        closed += p.apply_fill(fill(side, size, price, fee))
        net += size if side == "buy" else -size
    p.mark({"BTC": mark}, T0)
    position = p.position("BTC")
    held = 0.0 if position is None else position.size * position.sign
    scale = sum(s for _, s, _, _ in steps)
    assert held == pytest.approx(net, abs=1e-9 * scale)
    assert p.equity == pytest.approx(p.cash + p.unrealized_pnl)
    open_fees = 0.0 if position is None else position.entry_fees
    money = max(1.0, sum(s * pr for _, s, pr, _ in steps))
    assert p.cash - 10_000.0 == pytest.approx(sum(t.pnl for t in closed) - open_fees, abs=1e-9 * money)
    assert p.fees_paid == pytest.approx(sum(f for _, _, _, f in steps))
    assert p.peak_equity >= p.equity and 0.0 <= p.drawdown
