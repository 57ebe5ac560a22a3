"""Before a close, the live loop cancels the stop and target it left resting by the ids its book
holds (no read of the venue's open orders), and reads the venue instead while the book may miss
one: after a failed decision, until each symbol has been cancelled that way once."""

from __future__ import annotations

from typing import Any

from application.live_trader import LiveStrategy, LiveTrader
from application.ports.exchange import ExchangeUnavailable, TriggerOrderRequest
from domain.client_order_ids import client_order_id
from tests.unit.test_live_trader_bars import ALTERNATING, _close_hour, _desk, _trader

BRACKETED = ALTERNATING.replace('np.full(n, np.nan), "tp_pct": np.full(n, np.nan)',
                                'np.full(n, 0.02), "tp_pct": np.full(n, 0.04)')


class NotingVenue:
    """The venue, noting which cancel calls and open-order reads are made; `fail_mids` mid reads fail."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.fail_mids = 0

    def subaccount(self, number: int) -> Any:
        outer, inner = self, self._inner.subaccount(number)

        class Noting:
            def cancel_all(self, symbol: str | None = None) -> list[str]:
                outer.calls.append(("cancel_all", (symbol,)))
                return list(inner.cancel_all(symbol))

            def cancel_orders(self, symbol: str, ids: list[str]) -> list[str]:
                outer.calls.append(("cancel_orders", (symbol, tuple(ids))))
                return list(inner.cancel_orders(symbol, ids))

            def open_orders(self) -> Any:
                outer.calls.append(("open_orders", ()))
                return inner.open_orders()

            def mid_price(self, symbol: str) -> float:
                if outer.fail_mids:
                    outer.fail_mids -= 1
                    raise ExchangeUnavailable("the venue did not answer")
                return float(inner.mid_price(symbol))

            def mid_and_account(self, symbol: str) -> Any:
                return self.mid_price(symbol), self.account()

            def __getattr__(self, name: str) -> Any:
                return getattr(inner, name)

        return Noting()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _resting(desk: Any) -> list[str]:
    return sorted(o.client_order_id or o.order_id for o in desk.exchange.subaccount(1).open_orders())


def _started() -> tuple[Any, NotingVenue, LiveTrader, list[LiveStrategy]]:
    desk = _desk(1)
    venue = NotingVenue(desk.exchange)
    trader = _trader(desk, 10, venue=venue)
    live = [LiveStrategy("strat-1", BRACKETED, "1h", 1)]
    for hour in range(1, 4):
        closed = _close_hour(desk, hour)
    assert [d.action for d in trader.on_bar_close(live, closed)] == ["entered"]
    return desk, venue, trader, live


def test_a_reversal_cancels_the_old_stop_and_target_by_the_ids_the_book_holds() -> None:
    desk, venue, trader, live = _started()
    old = _resting(desk)
    assert len(old) == 2
    venue.calls.clear()
    assert [d.action for d in trader.on_bar_close(live, _close_hour(desk, 4))] == ["reversed"]
    [(name, (symbol, ids))] = venue.calls
    assert (name, symbol, sorted(ids)) == ("cancel_orders", "BTC", old)
    new = _resting(desk)
    assert len(new) == 2 and not set(new) & set(old)
    assert set(desk.ledger.load(1).open_orders) == set(new), "the book holds the new pair only"


def test_after_a_failed_decision_the_next_close_reads_the_venue_and_cancels_an_order_the_book_misses() -> None:
    desk, venue, trader, live = _started()
    orphan = client_order_id("sent", "booking lost")
    assert [p.direction for p in desk.exchange.subaccount(1).positions()] == ["short"]
    desk.exchange.subaccount(1).trigger_order(TriggerOrderRequest(orphan, "BTC", "buy", 0.001, 70000.0, "stop_loss"))
    venue.fail_mids = 1
    assert [d.action for d in trader.on_bar_close(live, _close_hour(desk, 4))] == ["failed"]
    assert [d.action for d in trader.on_bar_close(live, _close_hour(desk, 5))] == ["held"]
    venue.calls.clear()
    assert [d.action for d in trader.on_bar_close(live, _close_hour(desk, 6))] == ["reversed"]
    assert [name for name, _ in venue.calls] == ["cancel_all"]
    assert orphan not in _resting(desk) and len(_resting(desk)) == 2
    venue.calls.clear()
    assert [d.action for d in trader.on_bar_close(live, _close_hour(desk, 7))] == ["reversed"]
    assert [name for name, _ in venue.calls] == ["cancel_orders"], "trusted again once the venue was read"


def _appends_to(desk: Any, stream: str, monkeypatch: Any) -> list[list[str]]:
    """The event types of each append to `stream` from now on."""
    seen: list[list[str]] = []
    append = desk.store.append

    def noting(stream_id: str, events: Any, expected_version: Any = None) -> int:
        if stream_id == stream:
            seen.append([e.event_type for e in events])
        return int(append(stream_id, events, expected_version))

    monkeypatch.setattr(desk.store, "append", noting)
    return seen


def test_a_reversal_books_its_cancels_in_the_append_of_its_orders(monkeypatch: Any) -> None:
    desk, _, trader, live = _started()
    appends = _appends_to(desk, "subaccount-1", monkeypatch)
    assert [d.action for d in trader.on_bar_close(live, _close_hour(desk, 4))] == ["reversed"]
    assert appends[0] == ["OrdersCancelled", "OrderPlaced", "OrderPlaced"], appends
    assert sum("OrdersCancelled" in a for a in appends) == 1


def test_a_reversal_that_fails_after_its_cancels_still_books_them(monkeypatch: Any) -> None:
    desk, _, trader, live = _started()
    old = _resting(desk)

    def unreachable(*_: Any, **__: Any) -> Any:
        raise ExchangeUnavailable("the venue did not answer")

    monkeypatch.setattr(trader._opener, "open", unreachable)
    assert [d.action for d in trader.on_bar_close(live, _close_hour(desk, 4))] == ["failed"]
    assert _resting(desk) == []
    book = desk.ledger.load(1)
    assert not set(book.open_orders) & set(old), "the cancels made on the venue are in the book"
