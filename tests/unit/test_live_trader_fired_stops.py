"""A stop or target the venue fired since the last bar, found by the close that would have closed
its position: the trade is booked with the trigger's reason, nothing is closed twice, and the
entry that was to be a reversal is a fresh one. When slots are contended the fired stops are
looked for before any entry instead, so which entry gets a slot never depends on the order."""

from __future__ import annotations

from typing import Any

from application.event_codec import decode
from application.live_trader import Decision, LiveStrategy
from application.subaccount_ledger import subaccount_stream
from domain.events import TradeClosed
from tests.unit.test_live_trader_bars import ALWAYS_LONG, _close_hour, _desk, _trader
from tests.unit.test_live_trader_cancels import BRACKETED, NotingVenue

EXITS_ON_ODD_HOURS = BRACKETED.replace('"exit": np.zeros(n, dtype=bool)', '"exit": ~even').replace(
    '"short_entry": ~even', '"short_entry": np.zeros(n, dtype=bool)')


def _trades(desk: Any, subaccount: int = 1) -> list[str]:
    return [e.exit_reason for e in map(decode, desk.store.read_stream(subaccount_stream(subaccount)))
            if isinstance(e, TradeClosed)]


def _actions(decisions: list[Decision]) -> list[tuple[str, str]]:
    return [(d.strategy_id, d.action) for d in decisions]


def _market_orders(desk: Any, subaccount: int = 1) -> int:
    return len({f.client_order_id for f in desk.exchange.subaccount(subaccount).fills_since(desk.clock.now().replace(
        year=2000))})


def test_a_reversal_whose_stop_fired_books_the_stop_and_enters_afresh() -> None:
    desk = _desk(1)
    venue = NotingVenue(desk.exchange)
    trader = _trader(desk, max_open=1, venue=venue)
    live = [LiveStrategy("strat-1", BRACKETED, "1h", 1)]
    for hour in range(1, 3):
        closed = _close_hour(desk, hour)
    assert _actions(trader.on_bar_close(live, closed)) == [("strat-1", "entered")]  # long at hour 2
    desk.move("BTC", 58000.0)  # through the 2% stop
    assert desk.exchange.subaccount(1).positions() == []
    orders_before = _market_orders(desk)
    assert _actions(trader.on_bar_close(live, _close_hour(desk, 3))) == [("strat-1", "entered")]
    assert _trades(desk) == ["stop_loss"]
    assert _market_orders(desk) == orders_before + 1, "the entry only: no close of a position already gone"
    assert [p.direction for p in desk.exchange.subaccount(1).positions()] == ["short"]
    book = desk.ledger.load(1)
    assert [p.direction for p in book.positions.values()] == ["short"] and not book.pending_orders
    resting = {o.client_order_id or o.order_id for o in desk.exchange.subaccount(1).open_orders()}
    assert set(book.open_orders) == resting and len(resting) == 2, "the sibling the venue cancelled is not kept"


def test_an_exit_whose_target_fired_closes_nothing() -> None:
    desk = _desk(1)
    trader = _trader(desk, max_open=1)
    live = [LiveStrategy("strat-1", EXITS_ON_ODD_HOURS, "1h", 1)]
    for hour in range(1, 3):
        closed = _close_hour(desk, hour)
    assert _actions(trader.on_bar_close(live, closed)) == [("strat-1", "entered")]
    desk.move("BTC", 63000.0)  # through the 4% target
    orders_before = _market_orders(desk)
    decisions = trader.on_bar_close(live, _close_hour(desk, 3))
    assert _actions(decisions) == [("strat-1", "none")] and "target" in decisions[0].detail
    assert _trades(desk) == ["take_profit"] and _market_orders(desk) == orders_before
    book = desk.ledger.load(1)
    assert not book.positions and not book.open_orders and not book.pending_orders


def test_with_slots_contended_a_fired_stop_frees_its_slot_before_any_entry() -> None:
    desk = _desk(2)
    trader = _trader(desk, max_open=1, parallel=2)
    stopped = LiveStrategy("strat-1", BRACKETED, "1h", 1)
    for hour in range(1, 3):
        closed = _close_hour(desk, hour)
    assert _actions(trader.on_bar_close([stopped], closed)) == [("strat-1", "entered")]
    desk.move("BTC", 58000.0)
    fresh = LiveStrategy("strat-2", ALWAYS_LONG, "1h", 2)
    decisions = trader.on_bar_close([fresh, stopped], _close_hour(desk, 3))
    assert _actions(decisions) == [("strat-2", "entered"), ("strat-1", "refused")], decisions
    assert desk.exchange.subaccount(1).positions() == [] and _trades(desk) == ["stop_loss"]
