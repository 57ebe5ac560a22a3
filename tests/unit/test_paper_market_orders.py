"""A paper reversal (close, then entry) is one append, decided as two market orders in turn would be;
a lost race, a store that fails the write or an error on the second order leaves no half-known state."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from adapters.memory.event_store import InMemoryEventStore
from application.ports.event_store import EventStoreUnavailable, NewEvent
from application.ports.exchange import (
    ExchangeError,
    MarketOrderRequest,
    OrderAck,
    OrderRejected,
    OrderStateUnknown,
    SubaccountExchange,
)
from domain.client_order_ids import client_order_id
from tests.contract.paper_harness import PaperHarness
from tests.unit.test_paper_exchange import EPOCH, market
from tests.unit.test_paper_writes import CountingStore


class FailingOnce(InMemoryEventStore):
    def __init__(self) -> None:
        super().__init__()
        self.fail_next_append = False

    def append(self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None) -> int:
        if self.fail_next_append:
            self.fail_next_append = False
            raise EventStoreUnavailable("the database did not answer")
        return super().append(stream_id, events, expected_version)


def _reversal(tag: str = "r1", size: float = 0.01, symbol: str = "BTC") -> list[MarketOrderRequest]:
    return [MarketOrderRequest(client_order_id(tag, "close"), symbol, "sell", size, 0.01, reduce_only=True),
            MarketOrderRequest(client_order_id(tag, "entry"), symbol, "sell", size, 0.01)]


def _state(sub: SubaccountExchange) -> tuple[object, ...]:
    fills = [(f.client_order_id, f.side, f.size, f.price) for f in sub.fills_since(EPOCH)]
    return sub.account(), sub.positions(), fills


def test_close_and_entry_are_one_append_and_end_as_the_two_orders_in_turn_would() -> None:
    store = CountingStore()
    batched = PaperHarness("paper-memory", store).exchange().subaccount(1)
    in_turn = PaperHarness("paper-memory", InMemoryEventStore()).exchange().subaccount(1)
    for sub in (batched, in_turn):
        market(sub, "buy", 0.01)
    store.reads = store.appends = 0

    outcomes = batched.market_orders(_reversal())

    assert (store.appends, store.reads) == (1, 0)
    assert [type(o) for o in outcomes] == [OrderAck, OrderAck]
    assert [in_turn.market_order(r) for r in _reversal()] == outcomes
    assert _state(batched) == _state(in_turn)
    assert [(p.symbol, p.direction, p.size) for p in batched.positions()] == [("BTC", "short", pytest.approx(0.01))]
    assert batched.market_orders(_reversal()) == outcomes and store.appends == 1, "sent again: answered, not redone"


def test_a_refused_close_is_kept_as_the_value_and_the_entry_still_written_once() -> None:
    store = CountingStore()
    sub = PaperHarness("paper-memory", store).exchange().subaccount(1)
    sub.account()
    store.reads = store.appends = 0
    refused, entered = sub.market_orders(_reversal())  # nothing held: the reduce-only close is refused
    assert isinstance(refused, OrderRejected) and refused.code == "ReduceOnly"
    assert isinstance(entered, OrderAck) and entered.filled_size == pytest.approx(0.01)
    assert store.appends == 1


def test_a_race_lost_to_another_writer_is_decided_again_on_their_ledger() -> None:
    harness = PaperHarness("paper-memory", InMemoryEventStore())
    ours, theirs = harness.exchange().subaccount(1), harness._build().subaccount(1)
    ours.account()
    market(theirs, "buy", 0.01)  # ours has not seen the long: its close would be refused

    closed, entered = ours.market_orders(_reversal())

    assert isinstance(closed, OrderAck) and closed.filled_size == pytest.approx(0.01)
    assert isinstance(entered, OrderAck)
    assert _state(ours) == _state(theirs)
    assert [(p.symbol, p.direction, p.size) for p in theirs.positions()] == [("BTC", "short", pytest.approx(0.01))]


def test_a_write_the_store_failed_is_unknown_then_the_same_batch_goes_through_once() -> None:
    store = FailingOnce()
    sub = PaperHarness("paper-memory", store).exchange().subaccount(1)
    market(sub, "buy", 0.01)
    store.fail_next_append = True
    with pytest.raises(OrderStateUnknown):
        sub.market_orders(_reversal())
    assert [(p.symbol, p.direction) for p in sub.positions()] == [("BTC", "long")], "nothing half-applied"

    closed, entered = sub.market_orders(_reversal())

    assert isinstance(closed, OrderAck) and isinstance(entered, OrderAck)
    assert len(sub.fills_since(EPOCH)) == 3
    assert [(p.symbol, p.direction, p.size) for p in sub.positions()] == [("BTC", "short", pytest.approx(0.01))]


def test_another_error_on_the_second_order_writes_the_first_then_is_raised() -> None:
    store = CountingStore()
    sub = PaperHarness("paper-memory", store).exchange().subaccount(1)
    market(sub, "buy", 0.01)
    store.appends = 0
    batch = [_reversal()[0], MarketOrderRequest(client_order_id("r1", "nowhere"), "NOWHERE", "buy", 1.0, 0.01)]
    with pytest.raises(ExchangeError) as raised:
        sub.market_orders(batch)
    assert not isinstance(raised.value, OrderRejected)
    assert store.appends == 1 and sub.positions() == [], "the close before it was written"
    assert sub.order_status(batch[0].client_order_id) is not None
