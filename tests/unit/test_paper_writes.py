"""What a paper venue call costs and what it sees: a write of the only writer reads nothing, a write
on a ledger someone else has moved is decided on theirs, and one call reads each symbol's bars once
yet sees every bar since it last looked."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

from adapters.memory.event_store import InMemoryEventStore
from adapters.paper import PaperExchange
from adapters.paper.ledger import PaperLedger
from application.ports.event_store import NewEvent, RecordedEvent
from domain.paper_events import PaperAccountOpened, PaperOrderFilled
from tests.contract.exchange_harness import CAPITAL, FEE_RATE, SLIPPAGE, SUBACCOUNTS
from tests.contract.paper_harness import START, PaperHarness
from tests.unit.test_paper_exchange import EPOCH, long_bracket, market


@pytest.fixture
def harness() -> PaperHarness:
    return PaperHarness("paper-memory", InMemoryEventStore())


class CountingStore(InMemoryEventStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.appends = 0

    def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        self.reads += 1
        return super().read_stream(stream_id, from_version)

    def append(self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None) -> int:
        self.appends += 1
        return super().append(stream_id, events, expected_version)


def test_trading_calls_of_the_only_writer_read_nothing_and_append_once_each() -> None:
    store = CountingStore()
    sub = PaperHarness("paper-memory", store).exchange().subaccount(1)
    sub.set_leverage("BTC", 2)  # the first write reads the stream once
    store.reads = store.appends = 0
    long_bracket(sub)
    cancelled = sub.cancel_all("BTC")
    assert len(cancelled) == 2
    assert (store.reads, store.appends) == (0, 4)
    sub.fills_since(EPOCH)
    assert store.reads == 1, "a reading call catches up: someone else may have written"


def test_writes_on_a_ledger_someone_else_moved_are_decided_on_theirs(harness: PaperHarness) -> None:
    ours = harness.exchange().subaccount(1)
    ours.account()
    theirs = harness._build().subaccount(1)
    stop, target = long_bracket(theirs)
    # nothing rests on our ledger as last seen: the empty answer is checked against the stream
    assert sorted(ours.cancel_all("BTC")) == sorted([stop.client_order_id, target.client_order_id])
    market(theirs, "buy", 0.1, symbol="ETH")
    # a reduce-only close is refused on our ledger (no ETH position there), then decided on theirs
    closed = market(ours, "sell", 0.1, symbol="ETH", reduce_only=True)
    assert closed.filled_size == pytest.approx(0.1)
    again = market(theirs, "buy", 0.001, tag="shared")
    assert market(ours, "buy", 0.001, tag="shared") == again, "an order the other filled is answered, not sent"
    assert len(theirs.fills_since(EPOCH)) == len(ours.fills_since(EPOCH)) == 4
    assert [p.symbol for p in ours.positions()] == ["BTC"]
    assert ours.positions()[0].size == pytest.approx(0.011)


class CountingCandles:
    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.reads: list[tuple[str, int]] = []

    def get_data(self, symbol: str, timeframe: str, lookback: int) -> pd.DataFrame:
        self.reads.append((symbol, lookback))
        return self._inner.get_data(symbol, timeframe, lookback)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_one_call_reads_each_symbols_bars_once_and_sees_every_bar_since_it_last_looked(
        harness: PaperHarness) -> None:
    candles = CountingCandles(harness.candles)
    sub = PaperExchange(harness.store, candles, harness.clock, subaccounts=SUBACCOUNTS, capital=CAPITAL,
                        fee_rate=FEE_RATE, slippage=SLIPPAGE).subaccount(1)
    stop, _ = long_bracket(sub)
    candles.reads.clear()
    sub.account()
    assert [symbol for symbol, _ in candles.reads] == ["BTC"]
    for _ in range(9):
        harness.move_price("BTC", 60000.0)
    harness.move_price("BTC", 57000.0)  # through the stop, 10 bars after the last look
    for _ in range(20):
        harness.move_price("BTC", 60000.0)
    candles.reads.clear()
    assert sub.positions() == []
    assert [symbol for symbol, _ in candles.reads] == ["BTC", "BTC"], "a first short read, then the rest"
    (fill,) = [f for f in sub.fills_since(EPOCH) if f.client_order_id == stop.client_order_id]
    assert fill.time == START + timedelta(minutes=10)


def _fill(cloid: str, minutes: int) -> PaperOrderFilled:
    at = START + timedelta(minutes=minutes)
    return PaperOrderFilled(aggregate_id="1", occurred_at=at, client_order_id=cloid, venue_order_id=f"v-{cloid}",
                            fill_id=f"f-{cloid}", symbol="BTC", side="buy", size=0.01, price=60000.0, fee=0.0,
                            reduce_only=False, kind="market", filled_at=at)


def test_fills_since_a_moment_come_oldest_first_and_equal_moments_in_the_order_recorded() -> None:
    ledger = PaperLedger(1)
    ledger.apply(PaperAccountOpened(aggregate_id="1", occurred_at=START, capital=CAPITAL))
    for cloid, minutes in (("a", 5), ("b", 2), ("c", 5), ("d", 9), ("e", 2)):
        ledger.apply(_fill(cloid, minutes))
    assert [f.client_order_id for f in ledger.fills_since(START)] == ["b", "e", "a", "c", "d"]
    assert [f.client_order_id for f in ledger.fills_since(START + timedelta(minutes=5))] == ["a", "c", "d"]
    assert ledger.fills_since(START + timedelta(minutes=10)) == []
