"""Facts of the paper venue that no other venue shares: bar semantics, replay, racing writers."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.read_models import InMemoryReadModels
from adapters.paper import PaperExchange
from adapters.paper.market import default_instrument
from adapters.paper.subaccount import MAX_ATTEMPTS, PaperSubaccount
from application.event_codec import decode
from application.ports.event_store import EventStoreUnavailable, NewEvent, WrongExpectedVersion
from application.ports.exchange import (
    ExchangeError,
    ExchangeUnavailable,
    MarketOrderRequest,
    OrderAck,
    OrderRejected,
    OrderStateUnknown,
    TriggerKind,
    TriggerOrderRequest,
)
from application.projections.read_models import ALL_PROJECTIONS
from application.projections.runner import ProjectionRunner
from domain.client_order_ids import client_order_id
from domain.instruments import Instrument
from domain.paper_events import PaperEvent
from domain.trading import Side
from tests.contract.exchange_harness import CAPITAL, FEE_RATE, SLIPPAGE, SUBACCOUNTS
from tests.contract.paper_harness import BAR, START, PaperHarness

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
BTC = Instrument("BTC", 5)


@pytest.fixture
def harness() -> PaperHarness:
    return PaperHarness("paper-memory", InMemoryEventStore())


@pytest.fixture
def sub(harness: PaperHarness) -> PaperSubaccount:
    return harness.exchange().subaccount(1)


def market(sub: PaperSubaccount, side: Side, size: float, symbol: str = "BTC", *, reduce_only: bool = False,
           tag: str = "", max_slippage: float = 0.01) -> OrderAck:
    return sub.market_order(MarketOrderRequest(
        client_order_id=client_order_id("unit", symbol, side, str(size), str(reduce_only), tag or "-"),
        symbol=symbol, side=side, size=size, max_slippage=max_slippage, reduce_only=reduce_only))


def trigger(sub: PaperSubaccount, kind: TriggerKind, price: float, size: float = 0.01, side: Side = "sell",
            symbol: str = "BTC", max_slippage: float = 0.05) -> OrderAck:
    return sub.trigger_order(TriggerOrderRequest(
        client_order_id=client_order_id("unit", symbol, kind, str(price), str(size)), symbol=symbol, side=side,
        size=size, trigger_price=price, kind=kind, max_slippage=max_slippage))


def bar(harness: PaperHarness, minutes: int, o: float, h: float, low: float, c: float, symbol: str = "BTC") -> None:
    """The bar opening `minutes` after START, with the clock 30s into it."""
    opened = START + minutes * BAR
    if harness.clock.now() < opened + BAR / 2:
        harness.clock.advance(opened + BAR / 2 - harness.clock.now())
    harness.candles.append(symbol, "1m", opened, o, h, low, c, 1.0)


def long_bracket(sub: PaperSubaccount, size: float = 0.01) -> tuple[OrderAck, OrderAck]:
    market(sub, "buy", size)
    return trigger(sub, "stop_loss", 58000.0, size), trigger(sub, "take_profit", 63000.0, size)


def status(sub: PaperSubaccount, ack: OrderAck) -> str:
    found = sub.order_status(ack.client_order_id)
    assert found is not None
    return found.status


def state(sub: PaperSubaccount, cloids: Sequence[str]) -> tuple[object, ...]:
    return (sub.account(), sub.positions(), sub.open_orders(), sub.fills_since(EPOCH),
            [sub.order_status(c) for c in cloids])


# --- instruments and prices -------------------------------------------------------------------


@pytest.mark.parametrize(("price", "decimals"), [(60000.0, 5), (3000.0, 4), (150.0, 3), (0.5, 0), (1e9, 5)])
def test_default_size_step_follows_the_price(price: float, decimals: int) -> None:
    assert default_instrument("X", price).sz_decimals == decimals


def test_given_instruments_win_over_the_default(harness: PaperHarness) -> None:
    venue = PaperExchange(harness.store, harness.candles, harness.clock, subaccounts=[1], capital=CAPITAL,
                          fee_rate=FEE_RATE, slippage=SLIPPAGE, instruments={"BTC": Instrument("BTC", 3)})
    assert venue.subaccount(1).market_order(MarketOrderRequest(
        client_order_id=client_order_id("unit", "step"), symbol="BTC", side="buy", size=0.0129,
        max_slippage=0.01)).filled_size == pytest.approx(0.012)


def test_a_slippage_cap_tighter_than_the_model_is_an_ioc_cancel(sub: PaperSubaccount) -> None:
    with pytest.raises(OrderRejected) as rejected:
        market(sub, "buy", 0.01, max_slippage=SLIPPAGE / 2)
    assert rejected.value.code == "IocCancel"
    assert sub.fills_since(EPOCH) == []


def test_malformed_requests_are_rejected_not_guessed(sub: PaperSubaccount) -> None:
    with pytest.raises(OrderRejected, match="max_slippage"):
        market(sub, "buy", 0.01, max_slippage=float("nan"))
    with pytest.raises(OrderRejected, match="side"):
        market(sub, "hold", 0.01)  # type: ignore[arg-type]
    with pytest.raises(OrderRejected, match="rounds to 0"):
        market(sub, "buy", 0.000001)
    market(sub, "buy", 0.01)
    with pytest.raises(OrderRejected, match="kind"):
        trigger(sub, "trailing", 58000.0)  # type: ignore[arg-type]
    assert len(sub.fills_since(EPOCH)) == 1


def test_account_marks_positions_at_the_newest_close(harness: PaperHarness, sub: PaperSubaccount) -> None:
    fill_price = market(sub, "buy", 0.01).average_price
    assert fill_price == BTC.round_price(60000 * (1 + SLIPPAGE))
    harness.move_price("BTC", 61000.0)
    account = sub.account()
    fee = FEE_RATE * 0.01 * fill_price
    assert account.account_value == pytest.approx(CAPITAL - fee + (61000.0 - fill_price) * 0.01)
    assert account.margin_used == pytest.approx(0.01 * 61000.0)
    assert account.withdrawable == pytest.approx(account.account_value - account.margin_used)
    assert sub.positions()[0].unrealized_pnl == pytest.approx((61000.0 - fill_price) * 0.01)


def test_a_reduce_only_order_is_cut_to_the_position(sub: PaperSubaccount) -> None:
    market(sub, "buy", 0.01)
    ack = market(sub, "sell", 0.05, reduce_only=True)
    assert (ack.size, ack.filled_size) == (0.05, 0.01)
    assert sub.positions() == []


def test_leverage_outside_the_instrument_range_is_refused(sub: PaperSubaccount) -> None:
    for bad in (0, 51, -2):
        with pytest.raises(ExchangeError, match="leverage"):
            sub.set_leverage("BTC", bad)
    sub.set_leverage("BTC", 50)
    assert sub.account().account_value == pytest.approx(CAPITAL)


def test_a_closed_exchange_refuses_calls(harness: PaperHarness, sub: PaperSubaccount) -> None:
    harness.exchange().close()
    with pytest.raises(ExchangeError, match="closed"):
        sub.account()


def test_the_constructor_refuses_nonsense(harness: PaperHarness) -> None:
    cases: list[dict[str, object]] = [{"subaccounts": [1, 1]}, {"subaccounts": []}, {"capital": 0.0},
                                       {"leverage": 0}, {"slippage": float("nan")}]
    for kwargs in cases:
        args: dict[str, object] = {"subaccounts": [1], "capital": CAPITAL, "fee_rate": FEE_RATE,
                                   "slippage": SLIPPAGE, **kwargs}
        with pytest.raises(ValueError):
            PaperExchange(harness.store, harness.candles, harness.clock, **args)  # type: ignore[arg-type]


# --- triggers from bars -----------------------------------------------------------------------


def test_a_gap_through_the_stop_fills_at_the_bar_open(harness: PaperHarness, sub: PaperSubaccount) -> None:
    long_bracket(sub)
    bar(harness, 1, 57000.0, 57500.0, 56900.0, 57200.0)
    exit_ = sub.fills_since(EPOCH)[-1]
    assert exit_.price == BTC.round_price(57000.0 * (1 - SLIPPAGE))
    assert sub.positions() == []


def test_a_gap_through_the_take_profit_fills_at_the_better_open(harness: PaperHarness,
                                                                sub: PaperSubaccount) -> None:
    long_bracket(sub)
    bar(harness, 1, 64000.0, 64500.0, 63900.0, 64200.0)
    assert sub.fills_since(EPOCH)[-1].price == BTC.round_price(64000.0 * (1 - SLIPPAGE))


def test_stop_and_take_profit_in_one_bar_the_stop_fires_first(harness: PaperHarness,
                                                               sub: PaperSubaccount) -> None:
    stop, take = long_bracket(sub)
    bar(harness, 1, 60000.0, 64000.0, 57000.0, 61000.0)
    assert sub.fills_since(EPOCH)[-1].price == BTC.round_price(58000.0 * (1 - SLIPPAGE))
    assert status(sub, stop) == "filled"
    assert status(sub, take) == "cancelled"


def test_the_bar_in_progress_at_placement_fires_only_beyond_its_range_then(harness: PaperHarness,
                                                                            sub: PaperSubaccount) -> None:
    bar(harness, 0, 60000.0, 60000.0, 57500.0, 60000.0)  # the bar in progress: it was at 57500 already
    long_bracket(sub)
    bar(harness, 0, 60000.0, 60000.0, 57600.0, 60000.0)  # a revision within that range: unknown order
    assert len(sub.positions()) == 1 and len(sub.open_orders()) == 2
    bar(harness, 1, 60000.0, 60500.0, 58500.0, 59000.0)  # reaches neither
    assert len(sub.positions()) == 1


def test_an_entry_at_a_bar_open_is_protected_inside_that_bar(harness: PaperHarness,
                                                             sub: PaperSubaccount) -> None:
    bar(harness, 0, 60000.0, 60000.0, 60000.0, 60000.0)  # the bar has only its open so far
    stop, _ = long_bracket(sub)
    bar(harness, 0, 60000.0, 60200.0, 57500.0, 57800.0)  # the rest of that bar: through the stop
    assert sub.positions() == []
    assert sub.fills_since(EPOCH)[-1].price == BTC.round_price(58000.0 * (1 - SLIPPAGE))
    assert status(sub, stop) == "filled"


def test_a_forming_bar_is_checked_again_as_it_grows(harness: PaperHarness, sub: PaperSubaccount) -> None:
    long_bracket(sub)
    bar(harness, 1, 60000.0, 60000.0, 59000.0, 59100.0)
    bar(harness, 2, 59100.0, 59100.0, 58500.0, 58600.0)
    assert len(sub.positions()) == 1  # bar 1 is closed and watched; bar 2 is still forming
    bar(harness, 2, 59100.0, 59100.0, 57500.0, 57600.0)
    assert sub.positions() == []


def test_a_partial_stop_leaves_the_rest_and_the_take_profit(harness: PaperHarness, sub: PaperSubaccount) -> None:
    market(sub, "buy", 0.01)
    trigger(sub, "stop_loss", 58000.0, size=0.004)
    take = trigger(sub, "take_profit", 63000.0, size=0.01)
    harness.move_price("BTC", 57000.0)
    assert sub.positions()[0].size == 0.006
    assert [o.client_order_id for o in sub.open_orders()] == [take.client_order_id]
    harness.move_price("BTC", 64000.0)
    assert sub.positions() == []
    assert sub.fills_since(EPOCH)[-1].size == 0.006  # cut to what was left


def test_a_trigger_needs_a_position_it_closes(sub: PaperSubaccount) -> None:
    with pytest.raises(OrderRejected) as rejected:
        trigger(sub, "stop_loss", 58000.0)
    assert rejected.value.code == "ReduceOnly"
    market(sub, "buy", 0.01)
    with pytest.raises(OrderRejected):
        trigger(sub, "stop_loss", 62000.0, side="buy")


def _bracket(kind: TriggerKind, price: float, tag: str = "") -> TriggerOrderRequest:
    return TriggerOrderRequest(client_order_id=client_order_id("unit-bracket", kind, str(price), tag or "-"),
                               symbol="BTC",
                               side="sell", size=0.01, trigger_price=price, kind=kind)


def test_a_stop_and_a_target_are_written_in_one_append(harness: PaperHarness, sub: PaperSubaccount,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    market(sub, "buy", 0.01)
    before = harness.store.stream_version("paper-1")
    appends: list[int] = []
    append = harness.store.append
    monkeypatch.setattr(harness.store, "append", lambda stream, events, expected: appends.append(len(events))
                        or append(stream, events, expected))
    stop, target = sub.trigger_orders([_bracket("stop_loss", 58000.0), _bracket("take_profit", 62000.0)])
    assert appends == [2] and harness.store.stream_version("paper-1") == before + 2
    assert stop.order_id != target.order_id
    assert sorted(o.order_id for o in sub.open_orders()) == sorted([stop.order_id, target.order_id])
    again = harness.exchange().subaccount(1).trigger_orders([_bracket("stop_loss", 58000.0),
                                                              _bracket("take_profit", 62000.0)])
    assert [a.order_id for a in again] == [stop.order_id, target.order_id]
    assert harness.store.stream_version("paper-1") == before + 2


def test_the_triggers_before_a_refusal_rest_and_the_refusal_is_raised(sub: PaperSubaccount) -> None:
    market(sub, "buy", 0.01)
    refused = TriggerOrderRequest(client_order_id=client_order_id("unit-bracket", "bad"), symbol="BTC", side="buy",
                                  size=0.01, trigger_price=62000.0, kind="take_profit")
    with pytest.raises(OrderRejected) as rejected:
        sub.trigger_orders([_bracket("stop_loss", 58000.0, "r"), refused, _bracket("take_profit", 63000.0, "r")])
    assert rejected.value.code == "ReduceOnly"
    assert [o.trigger_price for o in sub.open_orders()] == [58000.0]


def test_flipping_a_position_cancels_its_triggers(sub: PaperSubaccount) -> None:
    long_bracket(sub)
    market(sub, "sell", 0.02)
    assert sub.positions()[0].direction == "short"
    assert sub.open_orders() == []


def test_a_gap_beyond_the_trigger_slippage_cancels_it(harness: PaperHarness, sub: PaperSubaccount) -> None:
    market(sub, "buy", 0.01)
    stop = trigger(sub, "stop_loss", 58000.0, max_slippage=0.01)
    bar(harness, 1, 50000.0, 50000.0, 49000.0, 49500.0)
    assert status(sub, stop) == "cancelled"
    assert len(sub.positions()) == 1


# --- events: replay, neighbours, races --------------------------------------------------------


def test_replaying_the_stream_rebuilds_identical_state(harness: PaperHarness, sub: PaperSubaccount) -> None:
    stop, take = long_bracket(sub, 0.005)
    sub.set_leverage("ETH", 3)
    market(sub, "sell", 0.2, symbol="ETH")
    eth_stop = trigger(sub, "stop_loss", 3100.0, size=0.2, side="buy", symbol="ETH")
    harness.move_price("BTC", 57000.0)
    harness.move_price("ETH", 3050.0)
    market(sub, "buy", 0.001, tag="again")
    cloids = [stop.client_order_id, take.client_order_id, eth_stop.client_order_id]
    before = state(sub, cloids)
    replayed = harness.restart().subaccount(1)
    assert state(replayed, cloids) == before
    types = {decode(r).event_type() for r in harness.store.read_stream("paper-1")}
    assert types == {"PaperAccountOpened", "PaperOrderFilled", "PaperTriggerPlaced", "PaperOrdersCancelled",
                     "PaperLeverageSet"}
    assert all(isinstance(decode(r), PaperEvent) for r in harness.store.read_all())


def test_paper_streams_leave_the_projections_alone(harness: PaperHarness, sub: PaperSubaccount) -> None:
    long_bracket(sub)
    harness.move_price("BTC", 57000.0)
    read_models = InMemoryReadModels()
    result = ProjectionRunner(harness.store, read_models, ALL_PROJECTIONS).catch_up()
    assert result.events_seen == harness.store.head_position() > 0
    for table in ("strategies", "live_trades", "performance_snapshots"):
        assert read_models.rows(table) == []


class RacingStore(InMemoryEventStore):
    """Runs `before_next_append` just before the next append: another writer wins the race."""

    def __init__(self) -> None:
        super().__init__()
        self.before_next_append: list[object] = []
        self.conflicts = 0

    def append(self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None) -> int:
        while self.before_next_append:
            action = self.before_next_append.pop()
            action()  # type: ignore[operator]
        try:
            return super().append(stream_id, events, expected_version)
        except WrongExpectedVersion:
            self.conflicts += 1
            raise


def test_a_lost_race_is_decided_again_on_the_winners_state() -> None:
    store = RacingStore()
    harness = PaperHarness("paper-memory", store)
    ours, theirs = harness.exchange().subaccount(1), harness._build().subaccount(1)
    ours.account()
    theirs.account()
    cloid = client_order_id("unit", "shared")
    request = MarketOrderRequest(client_order_id=cloid, symbol="BTC", side="buy", size=0.01, max_slippage=0.01)
    store.before_next_append.append(lambda: theirs.market_order(request))
    ack = ours.market_order(request)
    assert store.conflicts == 1
    assert ack == theirs.order_status(cloid)
    assert len(ours.fills_since(EPOCH)) == 1
    assert [r.version for r in store.read_stream("paper-1")] == [1, 2]


class ConflictingStore(InMemoryEventStore):
    def append(self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None) -> int:
        if any(e.event_type == "PaperOrderFilled" for e in events):
            raise WrongExpectedVersion(stream_id, expected_version or 0, (expected_version or 0) + 1)
        return super().append(stream_id, events, expected_version)


def test_a_stream_that_keeps_changing_fails_loudly_having_written_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("adapters.paper.subaccount.RETRY_PAUSE_S", 0.0)
    harness = PaperHarness("paper-memory", ConflictingStore())
    sub = harness.exchange().subaccount(1)
    with pytest.raises(ExchangeUnavailable, match=f"{MAX_ATTEMPTS} races"):
        market(sub, "buy", 0.01)
    assert sub.fills_since(EPOCH) == []


class DownStore(InMemoryEventStore):
    def append(self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None) -> int:
        if any(e.event_type == "PaperOrderFilled" for e in events):
            raise EventStoreUnavailable("connection reset")
        return super().append(stream_id, events, expected_version)


def test_an_unwritable_ledger_leaves_the_order_state_unknown() -> None:
    sub = PaperHarness("paper-memory", DownStore()).exchange().subaccount(1)
    with pytest.raises(OrderStateUnknown):
        market(sub, "buy", 0.01)


def test_concurrent_writers_over_one_store_never_double_fill(harness: PaperHarness) -> None:
    venues = [harness.exchange(), harness._build()]
    cloids = [client_order_id("unit", "concurrent", str(n)) for n in range(12)]
    errors: list[BaseException] = []

    def send(venue: PaperExchange, offset: int) -> None:
        try:
            for n in range(len(cloids)):
                cloid = cloids[(n + offset) % len(cloids)]
                venue.subaccount(2).market_order(MarketOrderRequest(
                    client_order_id=cloid, symbol="ETH", side="buy", size=0.01, max_slippage=0.01))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(venues[n % 2], n * 3)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for venue in venues:
        assert len(venue.subaccount(2).fills_since(EPOCH)) == len(cloids)
        assert venue.subaccount(2).positions()[0].size == pytest.approx(0.01 * len(cloids))
    versions = [r.version for r in harness.store.read_stream("paper-2")]
    assert versions == list(range(1, len(cloids) + 2))


def test_reading_an_untouched_account_writes_nothing(harness: PaperHarness) -> None:
    for number in SUBACCOUNTS:
        sub = harness.exchange().subaccount(number)
        assert sub.account().account_value == CAPITAL
        assert (sub.positions(), sub.open_orders(), sub.fills_since(EPOCH)) == ([], [], [])
        assert sub.order_status(client_order_id("unit", "nothing")) is None
        assert sub.cancel_all() == []
        assert sub.close_all("unit-nothing", 0.01) == []
        sub.set_leverage("BTC", 1)  # the default already
    assert harness.store.head_position() == 0


def test_the_first_change_opens_the_subaccounts_own_stream(harness: PaperHarness) -> None:
    harness.clock.advance(timedelta(seconds=5))
    market(harness.exchange().subaccount(3), "buy", 0.01)
    assert [harness.store.stream_version(f"paper-{n}") for n in SUBACCOUNTS] == [0, 0, 2]
    opened, filled = (decode(r) for r in harness.store.read_stream("paper-3"))
    assert (opened.event_type(), filled.event_type()) == ("PaperAccountOpened", "PaperOrderFilled")
    assert opened.aggregate_id == filled.aggregate_id == "3"
    assert opened.occurred_at == START + timedelta(seconds=35)


def test_leverage_on_a_flat_symbol_needs_neither_a_price_nor_the_instrument_list() -> None:
    from adapters.memory.clock import ManualClock
    from adapters.memory.live_candles import MemoryLiveCandles
    from application.ports.exchange import ExchangeError, MarketOrderRequest

    loads: list[int] = []

    def instruments() -> dict[str, Instrument]:
        loads.append(1)
        return {"BTC": Instrument("BTC", 5, max_leverage=40)}

    candles = MemoryLiveCandles()
    clock = ManualClock(START)
    venue = PaperExchange(InMemoryEventStore(), candles, clock, subaccounts=(1,), capital=CAPITAL,
                          fee_rate=FEE_RATE, slippage=SLIPPAGE, instruments=instruments)
    account = venue.subaccount(1)
    account.set_leverage("BTC", 3)
    with pytest.raises(ExchangeError, match=r"\[1, 50\]"):
        account.set_leverage("BTC", 51)
    assert account.account().account_value == CAPITAL and not loads
    candles.append("BTC", "1m", START, 60000.0, 60000.0, 60000.0, 60000.0)
    account.market_order(MarketOrderRequest(client_order_id("lev", "1"), "BTC", "buy", 0.001, 0.01))
    assert loads == [1]
    with pytest.raises(ExchangeError, match=r"\[1, 40\]"):
        account.set_leverage("BTC", 45)
