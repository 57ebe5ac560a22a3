from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain import execution_events as xe
from domain.errors import CorruptStream, InvalidTradingRecord
from domain.events import OrderFilled, StrategyGenerated, TradeClosed
from domain.subaccount_book import EXTERNAL, BookOrder, SubaccountBook
from domain.trading import Fill, Order, Position

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def _fill(order_id: str, side: str, size: float, price: float, minutes: int = 0) -> Fill:
    return Fill(order_id=order_id, symbol="BTC", side=side, size=size, price=price,  # type: ignore[arg-type]
                fee=size * price * 0.00045, time=T0 + timedelta(minutes=minutes))


def _opened() -> SubaccountBook:
    book = SubaccountBook(2)
    book.fund(1000.0, T0)
    book.assign("s1", "paper", 100.0, T0)
    book.place_order(Order(id="entry", symbol="BTC", side="buy", size=0.01, stop_loss=55000.0), "s1", T0)
    book.record_fill(_fill("entry", "buy", 0.01, 60000.0), "s1", "f1")
    book.place_protective(BookOrder("sl", "s1", "BTC", "stop_loss", "sell", 0.01, 55000.0, "77"), T0)
    return book


def test_a_book_rebuilt_from_its_events_is_the_book_that_wrote_them() -> None:
    book = _opened()
    events = book.pull_events()
    replayed = SubaccountBook.replay(2, events)
    assert replayed.strategy_id == "s1" and replayed.capital == 100.0
    assert replayed.positions["BTC"].size == pytest.approx(0.01)
    assert set(replayed.open_orders) == {"sl"} and replayed.fill_ids == {"f1"}
    assert replayed.portfolio is not None and book.portfolio is not None
    assert replayed.portfolio.cash == pytest.approx(book.portfolio.cash)
    assert replayed.version == book.version == len(events)


def test_a_fill_is_booked_once_and_a_stop_fill_closes_with_its_reason() -> None:
    book = _opened()
    book.pull_events()
    stop = _fill("sl", "sell", 0.01, 55000.0, minutes=5)
    assert book.record_fill(stop, "s1", "f2") is True
    assert book.record_fill(stop, "s1", "f2") is False
    events = book.pull_events()
    trades = [e for e in events if isinstance(e, TradeClosed)]
    assert len(trades) == 1 and trades[0].exit_reason == "stop_loss" and trades[0].pnl < -49
    assert next(e for e in events if isinstance(e, OrderFilled)).fill_id == "f2"
    changed = [e for e in events if isinstance(e, xe.PositionChanged)]
    assert changed[-1].size == 0.0 and changed[-1].direction is None
    assert not book.positions and "sl" not in book.open_orders


def test_the_same_order_is_never_recorded_twice() -> None:
    book = _opened()
    again = Order(id="entry", symbol="BTC", side="buy", size=0.01)
    assert book.place_order(again, "s1", T0) is False


def test_reconciliation_adopts_the_venue_and_records_the_difference() -> None:
    book = _opened()
    book.pull_events()
    venue = Position(symbol="ETH", direction="short", size=0.5, entry_price=3000.0, opened_at=T0)
    assert book.reconcile_position("ETH", venue, T0) == "unexpected"
    assert book.reconcile_position("BTC", None, T0) == "missing"
    assert book.reconcile_position("ETH", venue, T0) is None
    events = book.pull_events()
    kinds = [e.difference for e in events if isinstance(e, xe.PositionReconciled)]
    assert kinds == ["unexpected", "missing"]
    assert set(book.positions) == {"ETH"} and book.owners["ETH"] == EXTERNAL
    rebuilt = SubaccountBook.replay(2, [*_opened().pull_events(), *events])
    assert set(rebuilt.positions) == {"ETH"} and rebuilt.positions["ETH"].direction == "short"


def test_size_and_direction_differences_are_found() -> None:
    book = _opened()
    bigger = Position(symbol="BTC", direction="long", size=0.02, entry_price=60000.0, opened_at=T0)
    flipped = Position(symbol="BTC", direction="short", size=0.02, entry_price=60000.0, opened_at=T0)
    assert book.reconcile_position("BTC", bigger, T0) == "size"
    assert book.reconcile_position("BTC", flipped, T0) == "direction"


def test_orders_missing_on_the_venue_or_unexpected_there_are_recorded() -> None:
    book = _opened()
    book.reconcile_order("sl", "BTC", "missing", T0)
    book.reconcile_order("0xabc", "ETH", "unexpected", T0, {"kind": "limit", "side": "buy", "size": 1.0})
    assert set(book.open_orders) == {"0xabc"} and book.open_orders["0xabc"].strategy_id == EXTERNAL


def test_cancelled_orders_are_matched_by_client_or_venue_id() -> None:
    book = _opened()
    book.cancel_orders(["77"], "stop", T0)
    assert not book.open_orders


def test_assignment_rules() -> None:
    book = _opened()
    with pytest.raises(InvalidTradingRecord, match="already runs strategy s1"):
        book.assign("s2", "paper", 100.0, T0)
    book.unassign("done", T0)
    assert book.is_free
    with pytest.raises(InvalidTradingRecord, match="runs no strategy"):
        book.unassign("again", T0)
    with pytest.raises(InvalidTradingRecord, match="capital"):
        book.assign("s2", "paper", float("nan"), T0)


def test_a_foreign_event_corrupts_the_stream() -> None:
    generated = StrategyGenerated(aggregate_id="s1", name="n", strategy_type="MOM", timeframe="1h", code="x",
                                  generator="g")
    with pytest.raises(CorruptStream):
        SubaccountBook.replay(2, [generated])
    other = xe.LeverageSet(aggregate_id="3", symbol="BTC", leverage=2)
    with pytest.raises(CorruptStream, match="not about subaccount 2"):
        SubaccountBook.replay(2, [other])
