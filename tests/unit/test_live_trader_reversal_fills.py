"""A reversal sends its close and its entry in one request and books both from one read of the
venue's fills; when the entry is refused the close goes alone, when the venue rejects the entry
the close is still booked, so the book never keeps a position the venue closed; an error before
anything is sent leaves the old position as it was, on both sides."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from application.event_codec import decode
from application.live_trader import LiveStrategy
from application.ports.exchange import ExchangeUnavailable, OrderRejected, market_orders_in_turn
from application.subaccount_ledger import subaccount_stream
from domain.events import TradeClosed
from tests.unit.test_live_trader_bars import ALTERNATING, _close_hour, _desk, _trader

LIVE = [LiveStrategy("strat-1", ALTERNATING, "1h", 1)]


class Venue:
    """Subaccount 1 counting its fills reads; entries (orders that are not reduce-only) or account
    reads fail while asked to."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.fills_reads = 0
        self.batches = 0
        self.reject_entries = False
        self.account_down = False
        self.no_equity = False

    def subaccount(self, number: int) -> Any:
        outer, inner = self, self._inner.subaccount(number)

        class Wrapped:
            def fills_since(self, since: Any) -> Any:
                outer.fills_reads += 1
                return inner.fills_since(since)

            def market_order(self, request: Any) -> Any:
                if outer.reject_entries and not request.reduce_only:
                    raise OrderRejected(request.client_order_id, "no liquidity", code="IocCancel")
                return inner.market_order(request)

            def market_orders(self, requests: Any) -> Any:
                outer.batches += 1
                return market_orders_in_turn(self.market_order, requests)

            def account(self) -> Any:
                if outer.account_down:
                    raise ExchangeUnavailable("the venue did not answer")
                state = inner.account()
                return replace(state, account_value=0.0) if outer.no_equity else state

            def mid_and_account(self, symbol: str) -> Any:
                return self.mid_price(symbol), self.account()

            def __getattr__(self, name: str) -> Any:
                return getattr(inner, name)

        return Wrapped()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _started(max_open: int = 10) -> tuple[Any, Venue, Any]:
    desk = _desk(1)
    venue = Venue(desk.exchange)
    trader = _trader(desk, max_open, venue=venue)
    for hour in range(1, 3):
        closed = _close_hour(desk, hour)
    assert [d.action for d in trader.on_bar_close(LIVE, closed)] == ["entered"]
    return desk, venue, trader


def _trades(desk: Any) -> list[TradeClosed]:
    return [e for e in map(decode, desk.store.read_stream(subaccount_stream(1))) if isinstance(e, TradeClosed)]


def test_a_reversal_reads_the_fills_once_for_its_close_and_its_entry() -> None:
    desk, venue, trader = _started()
    venue.fills_reads = 0
    assert [d.action for d in trader.on_bar_close(LIVE, _close_hour(desk, 3))] == ["reversed"]
    assert venue.fills_reads == 1 and venue.batches == 1
    book = desk.ledger.load(1)
    assert [p.direction for p in book.positions.values()] == ["short"] and not book.pending_orders
    assert [p.direction for p in desk.exchange.subaccount(1).positions()] == ["short"]
    assert [t.exit_reason for t in _trades(desk)] == ["reverse"]


@pytest.mark.parametrize("failure", ["rejected", "refused"])
def test_a_close_whose_entry_never_filled_is_booked_and_gives_its_slot_back(failure: str) -> None:
    desk, venue, trader = _started(max_open=1)
    venue.reject_entries = failure == "rejected"
    venue.no_equity = failure == "refused"  # the risk policy sizes nothing on no equity
    decisions = trader.on_bar_close(LIVE, _close_hour(desk, 3))
    assert [d.action for d in decisions] == [failure]
    assert desk.exchange.subaccount(1).positions() == []
    book = desk.ledger.load(1)
    assert not book.positions and not book.pending_orders, "the close the venue took is booked"
    assert [t.exit_reason for t in _trades(desk)] == ["reverse"]


def test_an_error_before_anything_is_sent_keeps_the_old_position_on_both_sides() -> None:
    desk, venue, trader = _started(max_open=1)
    venue.account_down = True
    assert [d.action for d in trader.on_bar_close(LIVE, _close_hour(desk, 3))] == ["failed"]
    assert [p.direction for p in desk.exchange.subaccount(1).positions()] == ["long"]
    book = desk.ledger.load(1)
    assert [p.direction for p in book.positions.values()] == ["long"] and not book.pending_orders
    venue.account_down = False
    assert [d.action for d in trader.on_bar_close(LIVE, _close_hour(desk, 5))] == ["reversed"]
    assert [p.direction for p in desk.exchange.subaccount(1).positions()] == ["short"]
