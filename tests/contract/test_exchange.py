"""The exchange port's contract: one suite, every venue (tests/contract/exchange_harness.py).

Assertions are on end state any venue shows (account, positions, open orders, fills), with the
shared market: BTC at 60000 (szDecimals 5), ETH at 3000 (szDecimals 4), CAPITAL per subaccount.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from adapters.memory.event_store import InMemoryEventStore
from adapters.postgres.event_store import PostgresEventStore
from application.ports.exchange import (
    Exchange,
    InsufficientMargin,
    MarketOrderRequest,
    OrderAck,
    OrderRejected,
    SubaccountExchange,
    TriggerKind,
    TriggerOrderRequest,
    UnknownInstrument,
    UnknownSubaccount,
)
from domain.client_order_ids import client_order_id
from domain.trading import Side
from tests.contract.exchange_harness import CAPITAL, FEE_RATE, SLIPPAGE, START_PRICES, SUBACCOUNTS, ExchangeHarness
from tests.contract.hyperliquid_harness import HyperliquidHarness
from tests.contract.paper_harness import PaperHarness

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PRICE = pytest.approx  # prices sit on a 5-significant-figure grid: compare with rel=1e-4

HarnessFactory = Callable[[pytest.FixtureRequest], ExchangeHarness]


def _paper_memory(request: pytest.FixtureRequest) -> ExchangeHarness:
    return PaperHarness("paper-memory", InMemoryEventStore())


def _paper_postgres(request: pytest.FixtureRequest) -> ExchangeHarness:
    engine: Engine = request.getfixturevalue("clean_pg")
    return PaperHarness("paper-postgres", PostgresEventStore(engine))


HARNESSES: dict[str, HarnessFactory] = {
    "paper-memory": _paper_memory,
    "paper-postgres": _paper_postgres,
    "hyperliquid": lambda request: HyperliquidHarness(),
}


@pytest.fixture(params=list(HARNESSES))
def harness(request: pytest.FixtureRequest) -> Iterator[ExchangeHarness]:
    built = HARNESSES[request.param](request)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def exchange(harness: ExchangeHarness) -> Exchange:
    return harness.exchange()


@pytest.fixture
def sub(exchange: Exchange) -> SubaccountExchange:
    return exchange.subaccount(1)


def market(sub: SubaccountExchange, side: Side, size: float, symbol: str = "BTC", *, reduce_only: bool = False,
           cloid: str | None = None, tag: str = "x") -> OrderAck:
    cloid = cloid or client_order_id("contract", symbol, side, str(size), str(reduce_only), tag)
    return sub.market_order(MarketOrderRequest(client_order_id=cloid, symbol=symbol, side=side, size=size,
                                               max_slippage=0.01, reduce_only=reduce_only))


def trigger(sub: SubaccountExchange, kind: TriggerKind, side: Side, price: float, size: float,
            symbol: str = "BTC") -> OrderAck:
    return sub.trigger_order(TriggerOrderRequest(
        client_order_id=client_order_id("contract", symbol, kind, str(price)), symbol=symbol, side=side,
        size=size, trigger_price=price, kind=kind))


def expected_fill(symbol: str, side: Side) -> float:
    return START_PRICES[symbol] * (1 + SLIPPAGE if side == "buy" else 1 - SLIPPAGE)


def status(sub: SubaccountExchange, ack: OrderAck) -> str:
    found = sub.order_status(ack.client_order_id)
    assert found is not None, f"the venue forgot order {ack.client_order_id}"
    return found.status


def assert_flat(sub: SubaccountExchange) -> None:
    assert sub.positions() == []
    assert sub.open_orders() == []


# --- a fresh venue ----------------------------------------------------------------------------


def test_fresh_subaccounts_hold_capital_and_nothing_else(exchange: Exchange) -> None:
    assert exchange.subaccounts() == SUBACCOUNTS
    for number in SUBACCOUNTS:
        sub = exchange.subaccount(number)
        assert sub.subaccount == number
        state = sub.account()
        assert state.account_value == pytest.approx(CAPITAL)
        assert state.margin_used == pytest.approx(0.0)
        assert state.withdrawable == pytest.approx(CAPITAL)
        assert_flat(sub)
        assert sub.fills_since(EPOCH) == []


def test_mid_price_is_the_market_price(sub: SubaccountExchange) -> None:
    for symbol, price in START_PRICES.items():
        assert sub.mid_price(symbol) == PRICE(price, rel=1e-4)


def test_the_mid_and_the_account_read_together_are_what_each_read_says(sub: SubaccountExchange) -> None:
    market(sub, "buy", 0.01)
    mid, account = sub.mid_and_account("ETH")
    assert mid == pytest.approx(sub.mid_price("ETH"))
    assert account.account_value == pytest.approx(sub.account().account_value)
    assert account.margin_used == pytest.approx(sub.account().margin_used)
    with pytest.raises(UnknownInstrument):
        sub.mid_and_account("NOPE")


def test_unknown_subaccount_and_symbol_are_typed_errors(exchange: Exchange, sub: SubaccountExchange) -> None:
    with pytest.raises(UnknownSubaccount):
        exchange.subaccount(99)
    with pytest.raises(UnknownInstrument):
        market(sub, "buy", 1.0, symbol="NOTACOIN")
    with pytest.raises(UnknownInstrument):
        sub.mid_price("NOTACOIN")


# --- market orders ----------------------------------------------------------------------------


def test_market_buy_fills_at_mid_plus_slippage_and_opens_a_long(sub: SubaccountExchange) -> None:
    ack = market(sub, "buy", 0.01)
    price = expected_fill("BTC", "buy")
    assert ack.status == "filled"
    assert ack.filled_size == pytest.approx(0.01)
    assert ack.average_price == PRICE(price, rel=1e-4)
    [position] = sub.positions()
    assert (position.symbol, position.direction, position.size) == ("BTC", "long", pytest.approx(0.01))
    assert position.entry_price == PRICE(price, rel=1e-4)
    [fill] = sub.fills_since(EPOCH)
    assert (fill.symbol, fill.side, fill.size, fill.order_id) == ("BTC", "buy", pytest.approx(0.01), ack.order_id)
    assert fill.price == PRICE(price, rel=1e-4)
    assert fill.fee == pytest.approx(FEE_RATE * 0.01 * fill.price, rel=1e-3)
    state = sub.account()
    mark_loss = (sub.mid_price("BTC") - fill.price) * 0.01
    assert state.account_value == pytest.approx(CAPITAL - fill.fee + mark_loss, abs=0.05)
    assert state.margin_used > 0


def test_market_sell_opens_a_short(sub: SubaccountExchange) -> None:
    ack = market(sub, "sell", 0.1, symbol="ETH")
    assert ack.average_price == PRICE(expected_fill("ETH", "sell"), rel=1e-4)
    [position] = sub.positions()
    assert (position.symbol, position.direction, position.size) == ("ETH", "short", pytest.approx(0.1))


def test_positions_are_sorted_by_symbol(sub: SubaccountExchange) -> None:
    market(sub, "sell", 0.1, symbol="ETH")
    market(sub, "buy", 0.001, symbol="BTC")
    assert [p.symbol for p in sub.positions()] == ["BTC", "ETH"]


def test_the_same_client_order_id_twice_is_one_order(sub: SubaccountExchange) -> None:
    cloid = client_order_id("contract", "retry")
    first = market(sub, "buy", 0.01, cloid=cloid)
    second = market(sub, "buy", 0.01, cloid=cloid)
    assert first == second
    assert len(sub.fills_since(EPOCH)) == 1
    [position] = sub.positions()
    assert position.size == pytest.approx(0.01)
    assert sub.order_status(cloid) == first


def test_order_status_of_an_unknown_id_is_none(sub: SubaccountExchange) -> None:
    assert sub.order_status(client_order_id("contract", "never sent")) is None


def test_sizes_are_rounded_down_to_sz_decimals(sub: SubaccountExchange) -> None:
    ack = market(sub, "buy", 0.0012345)
    assert ack.size == pytest.approx(0.00123, abs=1e-12)
    assert ack.filled_size == pytest.approx(0.00123, abs=1e-12)
    assert sub.positions()[0].size == pytest.approx(0.00123, abs=1e-12)


def test_fills_since_filters_by_time(harness: ExchangeHarness, sub: SubaccountExchange) -> None:
    market(sub, "buy", 0.001, tag="first")
    harness.move_price("BTC", 60100.0)
    market(sub, "buy", 0.002, tag="second")
    first, second = sub.fills_since(EPOCH)
    assert first.time <= second.time
    assert first.fill_id != second.fill_id
    assert sub.fills_since(second.time) == [second]


# --- rejections -------------------------------------------------------------------------------


def test_an_order_below_min_notional_is_rejected(sub: SubaccountExchange) -> None:
    with pytest.raises(OrderRejected) as rejected:
        market(sub, "buy", 0.0001)  # 6 USDC
    assert rejected.value.code == "MinTradeNtl"
    assert_flat(sub)
    assert sub.fills_since(EPOCH) == []


def test_reduce_only_never_opens_or_increases(sub: SubaccountExchange) -> None:
    with pytest.raises(OrderRejected) as opening:
        market(sub, "sell", 0.01, reduce_only=True)
    assert opening.value.code == "ReduceOnly"
    assert sub.positions() == []
    market(sub, "buy", 0.01)
    with pytest.raises(OrderRejected) as increasing:
        market(sub, "buy", 0.01, reduce_only=True)
    assert increasing.value.code == "ReduceOnly"
    assert sub.positions()[0].size == pytest.approx(0.01)


def test_reduce_only_below_min_notional_still_closes(sub: SubaccountExchange) -> None:
    market(sub, "buy", 0.001)
    market(sub, "sell", 0.0001, reduce_only=True)  # 6 USDC: closes part, allowed
    assert sub.positions()[0].size == pytest.approx(0.0009)


def test_an_order_beyond_the_margin_is_rejected(sub: SubaccountExchange) -> None:
    sub.set_leverage("BTC", 1)
    with pytest.raises(InsufficientMargin) as rejected:
        market(sub, "buy", 0.1)  # 6000 USDC at 1x with 1000
    assert rejected.value.code == "PerpMargin"
    assert_flat(sub)


def test_leverage_sets_the_margin_an_order_needs(sub: SubaccountExchange) -> None:
    sub.set_leverage("BTC", 2)
    with pytest.raises(InsufficientMargin):
        market(sub, "buy", 0.04)  # 2400 USDC at 2x: 1200 of margin, more than the capital
    market(sub, "buy", 0.03)  # 1800 USDC at 2x: 900 of margin, more notional than capital
    [position] = sub.positions()
    assert position.size == pytest.approx(0.03)
    assert position.leverage in (None, 2)
    assert sub.account().margin_used == pytest.approx(0.03 * 60000 / 2, rel=0.01)
    with pytest.raises(InsufficientMargin):
        market(sub, "buy", 0.01, tag="more")  # 300 more at 2x: only ~100 free


# --- triggers ---------------------------------------------------------------------------------


def bracket(sub: SubaccountExchange, size: float = 0.01) -> tuple[OrderAck, OrderAck]:
    market(sub, "buy", size)
    stop = trigger(sub, "stop_loss", "sell", 58000.0, size)
    take = trigger(sub, "take_profit", "sell", 63000.0, size)
    return stop, take


def test_trigger_orders_rest_until_reached(sub: SubaccountExchange) -> None:
    stop, take = bracket(sub)
    assert stop.status == take.status == "resting"
    orders = sub.open_orders()
    assert sorted((o.kind, o.trigger_price, o.side, o.reduce_only) for o in orders) == [
        ("stop_loss", PRICE(58000.0, rel=1e-4), "sell", True),
        ("take_profit", PRICE(63000.0, rel=1e-4), "sell", True),
    ]
    assert {o.order_id for o in orders} == {stop.order_id, take.order_id}


def test_stop_loss_on_a_long_fires_when_the_price_falls_through(harness: ExchangeHarness,
                                                                sub: SubaccountExchange) -> None:
    stop, take = bracket(sub)
    harness.move_price("BTC", 57000.0)
    assert_flat(sub)
    _entry, exit_ = sub.fills_since(EPOCH)
    assert (exit_.side, exit_.size) == ("sell", pytest.approx(0.01))
    assert 58000.0 * 0.99 <= exit_.price <= 58000.0
    assert status(sub, stop) == "filled"
    assert status(sub, take) == "cancelled"


def test_take_profit_on_a_long_fires_when_the_price_rises_through(harness: ExchangeHarness,
                                                                  sub: SubaccountExchange) -> None:
    stop, take = bracket(sub)
    harness.move_price("BTC", 64000.0)
    assert_flat(sub)
    exit_ = sub.fills_since(EPOCH)[-1]
    assert exit_.side == "sell"
    assert 63000.0 * 0.99 <= exit_.price <= 63000.0 * 1.01
    assert status(sub, take) == "filled"
    assert status(sub, stop) == "cancelled"


def test_stop_loss_on_a_short_fires_when_the_price_rises_through(harness: ExchangeHarness,
                                                                 sub: SubaccountExchange) -> None:
    market(sub, "sell", 0.1, symbol="ETH")
    trigger(sub, "stop_loss", "buy", 3100.0, 0.1, symbol="ETH")
    harness.move_price("ETH", 3050.0)
    assert sub.positions()[0].direction == "short"
    harness.move_price("ETH", 3200.0)
    assert_flat(sub)
    exit_ = sub.fills_since(EPOCH)[-1]
    assert (exit_.side, exit_.size) == ("buy", pytest.approx(0.1))
    assert 3100.0 <= exit_.price <= 3100.0 * 1.01


def test_a_price_short_of_the_triggers_fires_nothing(harness: ExchangeHarness, sub: SubaccountExchange) -> None:
    bracket(sub)
    harness.move_price("BTC", 58500.0)
    harness.move_price("BTC", 62500.0)
    assert sub.positions()[0].size == pytest.approx(0.01)
    assert len(sub.open_orders()) == 2
    assert len(sub.fills_since(EPOCH)) == 1


def test_cancel_all_returns_the_ids_and_leaves_nothing_open(harness: ExchangeHarness,
                                                            sub: SubaccountExchange) -> None:
    stop, take = bracket(sub)
    market(sub, "sell", 0.1, symbol="ETH")
    eth_stop = trigger(sub, "stop_loss", "buy", 3100.0, 0.1, symbol="ETH")
    cancelled = sub.cancel_all("ETH")
    assert set(cancelled) in ({eth_stop.client_order_id}, {eth_stop.order_id})
    assert {o.symbol for o in sub.open_orders()} == {"BTC"}
    cancelled = sub.cancel_all()
    assert set(cancelled) in ({stop.client_order_id, take.client_order_id}, {stop.order_id, take.order_id})
    assert sub.open_orders() == []
    harness.move_price("BTC", 57000.0)
    assert {p.symbol for p in sub.positions()} == {"BTC", "ETH"}


def test_trigger_orders_places_a_stop_and_a_target_at_once_and_only_once(harness: ExchangeHarness,
                                                                          sub: SubaccountExchange) -> None:
    market(sub, "buy", 0.01)
    pair = [TriggerOrderRequest(client_order_id("contract", "batch", kind), "BTC", "sell", 0.01, price, kind)
            for kind, price in (("stop_loss", 58000.0), ("take_profit", 63000.0))]
    stop, take = sub.trigger_orders(pair)
    assert (stop.client_order_id, take.client_order_id) == (pair[0].client_order_id, pair[1].client_order_id)
    assert stop.status == take.status == "resting"
    assert sub.trigger_orders(pair) == [stop, take] or [a.order_id for a in sub.trigger_orders(pair)] == [
        stop.order_id, take.order_id], "sent again: the same two orders"
    assert sorted((o.kind, o.trigger_price) for o in sub.open_orders()) == [
        ("stop_loss", PRICE(58000.0, rel=1e-4)), ("take_profit", PRICE(63000.0, rel=1e-4))]
    assert sub.trigger_orders([]) == []
    harness.move_price("BTC", 57000.0)
    assert_flat(sub)
    assert status(sub, stop) == "filled" and status(sub, take) == "cancelled"


def test_market_orders_close_then_enter_in_the_order_given(sub: SubaccountExchange) -> None:
    market(sub, "buy", 0.01)
    close = MarketOrderRequest(client_order_id("contract", "rev", "close"), "BTC", "sell", 0.01, 0.01,
                               reduce_only=True)
    entry = MarketOrderRequest(client_order_id("contract", "rev", "entry"), "BTC", "sell", 0.005, 0.01)
    closed, entered = sub.market_orders([close, entry])
    assert isinstance(closed, OrderAck) and isinstance(entered, OrderAck)
    assert closed.filled_size == pytest.approx(0.01) and entered.filled_size == pytest.approx(0.005)
    [position] = sub.positions()
    assert (position.direction, position.size) == ("short", pytest.approx(0.005))
    again = sub.market_orders([close, entry])
    assert [a.order_id for a in again if isinstance(a, OrderAck)] == [closed.order_id, entered.order_id]
    assert sub.positions()[0].size == pytest.approx(0.005), "sent again: the same two orders, not two more"


def test_a_refused_order_in_market_orders_does_not_stop_the_next(sub: SubaccountExchange) -> None:
    close = MarketOrderRequest(client_order_id("contract", "nothing", "close"), "BTC", "sell", 0.01, 0.01,
                               reduce_only=True)  # nothing held: nothing to reduce
    entry = MarketOrderRequest(client_order_id("contract", "nothing", "entry"), "BTC", "sell", 0.01, 0.01)
    refused, entered = sub.market_orders([close, entry])
    assert isinstance(refused, OrderRejected) and refused.client_order_id == close.client_order_id
    assert isinstance(entered, OrderAck) and entered.filled_size == pytest.approx(0.01)
    assert [p.direction for p in sub.positions()] == ["short"]
    assert sub.market_orders([]) == []


def test_a_refused_trigger_in_a_batch_raises(sub: SubaccountExchange) -> None:
    with pytest.raises(OrderRejected):  # nothing to reduce: no position
        sub.trigger_orders([TriggerOrderRequest(client_order_id("contract", "orphan"), "BTC", "sell", 0.01,
                                                58000.0, "stop_loss")])
    assert sub.open_orders() == []


def test_cancel_orders_cancels_the_named_ones_only(harness: ExchangeHarness, sub: SubaccountExchange) -> None:
    stop, take = bracket(sub)
    market(sub, "sell", 0.1, symbol="ETH")
    eth_stop = trigger(sub, "stop_loss", "buy", 3100.0, 0.1, symbol="ETH")
    never_placed = client_order_id("contract", "never placed")
    assert sub.cancel_orders("BTC", []) == []
    assert sub.cancel_orders("BTC", [stop.client_order_id, never_placed, eth_stop.client_order_id]) == [
        stop.client_order_id], "another symbol's order and an unknown id are left out"
    assert sorted(o.client_order_id or o.order_id for o in sub.open_orders()) == sorted(
        [take.client_order_id, eth_stop.client_order_id])
    assert status(sub, stop) == "cancelled"
    assert sub.cancel_orders("BTC", [stop.client_order_id]) == [], "cancelled before: left out"
    harness.move_price("BTC", 64000.0)  # the target fires
    assert sub.cancel_orders("BTC", [take.client_order_id]) == [], "filled: left out"
    assert [p.symbol for p in sub.positions()] == ["ETH"]
    with pytest.raises(UnknownInstrument):
        sub.cancel_orders("NOPE", [eth_stop.client_order_id])
    assert [o.symbol for o in sub.open_orders()] == ["ETH"]


def test_a_decision_in_one_moment_trades_as_call_by_call(sub: SubaccountExchange) -> None:
    """A reversal inside one_moment (nested, as the live loop may): the same fills, stops and
    account as without it."""
    with sub.one_moment():
        entry = market(sub, "buy", 0.01)
        stop = trigger(sub, "stop_loss", "sell", 58000.0, 0.01)
        with sub.one_moment():
            assert sub.cancel_all("BTC") == [stop.client_order_id]
            close = market(sub, "sell", 0.01, reduce_only=True)
        mid = sub.mid_price("BTC")
        short = market(sub, "sell", 0.01, tag="short")
        target = trigger(sub, "take_profit", "buy", 57000.0, 0.01)
    assert entry.average_price == PRICE(expected_fill("BTC", "buy"))
    assert close.average_price == short.average_price == PRICE(expected_fill("BTC", "sell"))
    assert mid == PRICE(START_PRICES["BTC"], rel=1e-4)
    assert [(p.symbol, p.direction) for p in sub.positions()] == [("BTC", "short")]
    assert [o.client_order_id for o in sub.open_orders()] == [target.client_order_id]
    assert len(sub.fills_since(EPOCH)) == 3


def test_close_all_flattens_once_per_intent(sub: SubaccountExchange) -> None:
    market(sub, "buy", 0.01)
    market(sub, "sell", 0.1, symbol="ETH")
    trigger(sub, "stop_loss", "sell", 58000.0, 0.01)
    acks = sub.close_all("contract-shutdown", max_slippage=0.01)
    assert {a.symbol for a in acks} == {"BTC", "ETH"}
    assert all(a.status == "filled" for a in acks)
    assert_flat(sub)
    assert len(sub.fills_since(EPOCH)) == 4
    sub.close_all("contract-shutdown", max_slippage=0.01)
    assert sub.positions() == []  # never the opposite way
    assert len(sub.fills_since(EPOCH)) == 4
    market(sub, "buy", 0.01, tag="reopened")
    sub.close_all("contract-shutdown", max_slippage=0.01)
    assert sub.positions()[0].size == pytest.approx(0.01)  # that intent already closed BTC once


def test_subaccounts_are_isolated(exchange: Exchange) -> None:
    two = exchange.subaccount(2)
    market(two, "buy", 0.01)
    trigger(two, "stop_loss", "sell", 58000.0, 0.01)
    for number in (1, 3):
        other = exchange.subaccount(number)
        assert_flat(other)
        assert other.fills_since(EPOCH) == []
        assert other.account().account_value == pytest.approx(CAPITAL)
    assert len(two.positions()) == 1


# --- restarts and other writers ---------------------------------------------------------------


def test_a_restarted_adapter_sees_the_same_account(harness: ExchangeHarness, sub: SubaccountExchange) -> None:
    stop, _ = bracket(sub)
    market(sub, "sell", 0.1, symbol="ETH")
    before = (sub.account(), sub.positions(), sub.open_orders(), sub.fills_since(EPOCH),
              sub.order_status(stop.client_order_id))
    again = harness.restart().subaccount(1)
    after = (again.account(), again.positions(), again.open_orders(), again.fills_since(EPOCH),
             again.order_status(stop.client_order_id))
    assert after[0].account_value == pytest.approx(before[0].account_value)
    assert after[1:] == before[1:]


def test_a_trigger_fires_once_across_restarts(harness: ExchangeHarness, sub: SubaccountExchange) -> None:
    stop, _ = bracket(sub)
    restarted = harness.restart().subaccount(1)
    harness.move_price("BTC", 57000.0)
    assert_flat(restarted)
    fills = restarted.fills_since(EPOCH)
    assert [f.order_id for f in fills].count(stop.order_id) == 1
    again = harness.restart().subaccount(1)
    harness.move_price("BTC", 56000.0)
    assert again.fills_since(EPOCH) == fills
    assert_flat(again)


def test_a_trade_behind_our_back_shows_up(harness: ExchangeHarness, sub: SubaccountExchange) -> None:
    assert sub.positions() == []
    harness.trade_behind_back(1, "ETH", "buy", 0.1)
    [position] = sub.positions()
    assert (position.symbol, position.direction, position.size) == ("ETH", "long", pytest.approx(0.1))
    [fill] = sub.fills_since(EPOCH)
    assert (fill.symbol, fill.side, fill.size) == ("ETH", "buy", pytest.approx(0.1))
