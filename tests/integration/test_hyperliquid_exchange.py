"""The Hyperliquid exchange adapter against the fake venue over real HTTP, through the official SDK:
vault routing, signatures, idempotent orders through lost replies, slow replies and 429/5xx,
rounding on the wire, error translation, and secrets kept out of reprs, errors and logs."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from eth_account import Account

from adapters.hyperliquid import subaccount as subaccount_module
from adapters.hyperliquid.exchange import HyperliquidExchange
from adapters.hyperliquid.ws_connection import Backoff
from application.ports.exchange import (
    ExchangeError,
    ExchangeUnavailable,
    InsufficientMargin,
    MarketOrderRequest,
    OrderAck,
    OrderRejected,
    OrderStateUnknown,
    SubaccountExchange,
    TriggerOrderRequest,
    UnknownInstrument,
    UnknownSubaccount,
)
from domain.client_order_ids import client_order_id
from domain.errors import InvalidOrder
from tests.contract.hyperliquid_harness import MASTER_KEY, SUBACCOUNT_ADDRESSES, HyperliquidHarness
from tests.fakes import hyperliquid_views

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
WRONG_KEY = "0x" + "22" * 32
ONE, TWO = SUBACCOUNT_ADDRESSES[1], SUBACCOUNT_ADDRESSES[2]
SECRET_LIKE = re.compile(r"[0-9a-fA-F]{40,}")


@pytest.fixture
def harness() -> Iterator[HyperliquidHarness]:
    built = HyperliquidHarness(timeout_s=0.5, retries=3)
    yield built
    built.close()


@pytest.fixture
def sub(harness: HyperliquidHarness) -> SubaccountExchange:
    return harness.exchange().subaccount(1)


def buy(sub: SubaccountExchange, size: float = 0.01, symbol: str = "BTC", *, tag: str = "x",
        max_slippage: float = 0.01, reduce_only: bool = False, side: str = "buy") -> object:
    return sub.market_order(MarketOrderRequest(client_order_id("it", symbol, side, str(size), tag), symbol,
                                               side, size, max_slippage, reduce_only))  # type: ignore[arg-type]


def order_wires(harness: HyperliquidHarness, user: str) -> list[dict[str, object]]:
    return [wire for a in harness.fake.recorded_actions(user) if a.type == "order" for wire in a.action["orders"]]


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


# --- routing and signatures -------------------------------------------------------------------


def test_orders_for_subaccount_2_land_in_vault_2_and_nowhere_else(harness: HyperliquidHarness) -> None:
    two = harness.exchange().subaccount(2)
    ack = buy(two)
    two.trigger_order(TriggerOrderRequest(client_order_id("it", "sl"), "BTC", "sell", 0.01, 58000.0, "stop_loss"))
    two.set_leverage("ETH", 5)
    actions = harness.fake.recorded_actions()
    assert [a.type for a in actions] == ["order", "order", "updateLeverage"]
    assert {(a.signer, a.vault, a.user) for a in actions} == {(harness.master, TWO, TWO)}
    assert harness.fake.position(TWO, "BTC") == pytest.approx(0.01)
    for other in (ONE, SUBACCOUNT_ADDRESSES[3]):
        assert harness.fake.position(other, "BTC") == 0.0
        assert harness.fake.fills(other) == [] and harness.fake.open_orders(other) == []
    assert harness.fake.orders_accepted == {TWO: 2}
    assert ack.status == "filled"  # type: ignore[attr-defined]


def test_a_wrong_key_is_refused_by_the_venue_and_surfaces_typed(harness: HyperliquidHarness) -> None:
    wrong = harness.build(WRONG_KEY).subaccount(1)
    with pytest.raises(OrderRejected) as rejected:
        buy(wrong)
    assert rejected.value.code == "UnknownSigner"
    with pytest.raises(ExchangeError, match="UnknownSigner"):
        wrong.set_leverage("BTC", 3)
    assert harness.fake.refused_signatures == 2
    assert harness.fake.recorded_actions() == [] and harness.fake.fills(ONE) == []
    assert not SECRET_LIKE.search(str(rejected.value))


def test_a_subaccount_mapped_to_the_master_trades_without_a_vault(harness: HyperliquidHarness) -> None:
    exchange = HyperliquidExchange(harness.fake.url, MASTER_KEY, {0: Account.from_key(MASTER_KEY).address, 1: ONE},
                                   requests_per_second=1000.0)
    exchange.subaccount(0).set_leverage("BTC", 3)
    exchange.subaccount(1).set_leverage("BTC", 4)
    assert [(a.vault, a.user) for a in harness.fake.recorded_actions()] == [(None, harness.master), (ONE, ONE)]
    assert exchange.subaccounts() == (0, 1) and exchange.mode == "live"


def test_concurrent_subaccounts_never_share_a_nonce(harness: HyperliquidHarness) -> None:
    exchange = harness.exchange()
    errors: list[BaseException] = []

    def trade(number: int) -> None:
        try:
            for i in range(8):
                buy(exchange.subaccount(number), 0.001, tag=str(i))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=trade, args=(n,)) for n in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    nonces = [a.nonce for a in harness.fake.recorded_actions()]
    assert len(nonces) == 24 == len(set(nonces))


# --- idempotency through failures -------------------------------------------------------------


def test_a_lost_reply_after_the_venue_accepted_is_one_order_and_one_fill(harness: HyperliquidHarness,
                                                                         sub: SubaccountExchange) -> None:
    harness.fake.lose_reply()
    ack = buy(sub)
    assert (ack.status, ack.filled_size) == ("filled", pytest.approx(0.01))  # type: ignore[attr-defined]
    assert ack.average_price == pytest.approx(60000 * 1.0005)  # type: ignore[attr-defined]
    assert harness.fake.faults_served["lose"] == 1
    assert len(order_wires(harness, ONE)) == 1 and len(harness.fake.fills(ONE)) == 1
    assert buy(sub) == ack  # asked again: the same answer, nothing sent
    assert len(order_wires(harness, ONE)) == 1


def _info_requests(harness: HyperliquidHarness) -> dict[str, int]:
    return dict(harness.fake.inspect(lambda _: dict(harness.fake.info_requests)))


def test_a_first_send_skips_the_status_check_and_a_given_mid_skips_the_price_request(
        harness: HyperliquidHarness, sub: SubaccountExchange) -> None:
    buy(sub, tag="warm")  # instruments and the first mid are cached by now
    before = _info_requests(harness)
    ack = sub.market_order(MarketOrderRequest(client_order_id("it", "first"), "BTC", "buy", 0.01, 0.01,
                                              first_send=True, reference_mid=60000.0))
    assert ack.status == "filled"
    after = _info_requests(harness)
    assert after.get("orderStatus", 0) == before.get("orderStatus", 0), "no status check for a first send"
    assert after.get("allMids", 0) == before.get("allMids", 0), "the mid given was used"
    [wire] = [w for w in order_wires(harness, ONE) if w.get("c") == client_order_id("it", "first")]
    assert float(str(wire["p"])) == pytest.approx(60000.0 * 1.01, rel=1e-4), "limit from the mid given"
    again = sub.market_order(MarketOrderRequest(client_order_id("it", "first"), "BTC", "buy", 0.01, 0.01))
    assert again == ack and len(harness.fake.fills(ONE)) == 2, "a resend is checked first and never doubles"


def test_a_first_send_whose_reply_is_lost_is_still_recovered_by_asking(harness: HyperliquidHarness,
                                                                       sub: SubaccountExchange) -> None:
    harness.fake.lose_reply()
    ack = sub.market_order(MarketOrderRequest(client_order_id("it", "lost-first"), "BTC", "buy", 0.01, 0.01,
                                              first_send=True))
    assert ack.status == "filled" and len(harness.fake.fills(ONE)) == 1
    assert len(order_wires(harness, ONE)) == 1


def test_a_first_sent_trigger_skips_the_status_check_and_a_lost_reply_still_leaves_one(
        harness: HyperliquidHarness, sub: SubaccountExchange) -> None:
    buy(sub)
    before = _info_requests(harness)
    stop = sub.trigger_order(TriggerOrderRequest(client_order_id("it", "sl-first"), "BTC", "sell", 0.01, 58000.0,
                                                 "stop_loss", first_send=True))
    assert stop.status == "resting"
    assert _info_requests(harness).get("orderStatus", 0) == before.get("orderStatus", 0)
    harness.fake.lose_reply()
    target = sub.trigger_order(TriggerOrderRequest(client_order_id("it", "tp-first"), "BTC", "sell", 0.01,
                                                   64000.0, "take_profit", first_send=True))
    assert target.status == "resting" and target.order_id is not None
    assert sorted(o.client_order_id or "" for o in sub.open_orders()) == sorted(
        [client_order_id("it", "sl-first"), client_order_id("it", "tp-first")])


def _pair(tag: str, first_send: bool = True) -> list[TriggerOrderRequest]:
    return [TriggerOrderRequest(client_order_id("it", tag, kind), "BTC", "sell", 0.01, price, kind,
                                first_send=first_send)
            for kind, price in (("stop_loss", 58000.0), ("take_profit", 64000.0))]


def test_a_stop_and_a_target_go_in_one_signed_action(harness: HyperliquidHarness, sub: SubaccountExchange) -> None:
    buy(sub)
    before = _info_requests(harness)
    acks = sub.trigger_orders(_pair("one"))
    assert [a.status for a in acks] == ["resting", "resting"]
    assert _info_requests(harness) == before, "a first send asks nothing"
    [action] = [a for a in harness.fake.recorded_actions(ONE) if a.type == "order" and len(a.action["orders"]) == 2]
    assert [w["c"] for w in action.action["orders"]] == [r.client_order_id for r in _pair("one")]
    assert action.action["grouping"] == "na", "each trigger stands on its own"


def test_a_lost_reply_to_a_batch_is_resolved_by_asking_and_never_doubles(harness: HyperliquidHarness,
                                                                         sub: SubaccountExchange) -> None:
    buy(sub)
    harness.fake.lose_reply()
    acks = sub.trigger_orders(_pair("lost"))
    assert [a.status for a in acks] == ["resting", "resting"] and all(a.order_id for a in acks)
    assert len([a for a in harness.fake.recorded_actions(ONE) if a.type == "order"]) == 2, "the entry and the pair"
    assert sorted(o.client_order_id or "" for o in sub.open_orders()) == sorted(
        r.client_order_id for r in _pair("lost"))


def test_a_batch_resent_after_a_restart_is_answered_from_the_venue(harness: HyperliquidHarness,
                                                                   sub: SubaccountExchange) -> None:
    buy(sub)
    first = sub.trigger_orders(_pair("again"))
    restarted = harness.restart().subaccount(1)
    again = restarted.trigger_orders(_pair("again", first_send=False))
    assert [a.order_id for a in again] == [a.order_id for a in first]
    assert len(restarted.open_orders()) == 2


def test_a_batch_with_one_refusal_raises_it(harness: HyperliquidHarness, sub: SubaccountExchange) -> None:
    buy(sub)
    good, _ = _pair("mixed")
    bad = TriggerOrderRequest(client_order_id("it", "mixed", "eth"), "ETH", "sell", 0.1, 2900.0, "stop_loss",
                              first_send=True)  # no ETH position to reduce
    with pytest.raises(OrderRejected):
        sub.trigger_orders([good, bad])
    assert [o.client_order_id for o in sub.open_orders()] == [good.client_order_id], "the first one rests"


def test_a_reversal_close_and_entry_go_in_one_signed_action(harness: HyperliquidHarness,
                                                             sub: SubaccountExchange) -> None:
    buy(sub)
    close = MarketOrderRequest(client_order_id("it", "rev", "close"), "BTC", "sell", 0.01, 0.01, reduce_only=True,
                               first_send=True, reference_mid=60000.0)
    entry = MarketOrderRequest(client_order_id("it", "rev", "entry"), "BTC", "sell", 0.01, 0.01, first_send=True,
                               reference_mid=60000.0)
    before = _info_requests(harness)
    outcomes = sub.market_orders([close, entry])
    assert [type(o).__name__ for o in outcomes] == ["OrderAck", "OrderAck"]
    assert _info_requests(harness) == before, "first sends with a mid given ask nothing"
    [action] = [a for a in harness.fake.recorded_actions(ONE) if a.type == "order" and len(a.action["orders"]) == 2]
    assert [w["c"] for w in action.action["orders"]] == [close.client_order_id, entry.client_order_id]
    assert harness.fake.position(ONE, "BTC") == pytest.approx(-0.01)


def test_a_lost_reply_to_a_reversal_is_resolved_by_asking_and_never_doubles(harness: HyperliquidHarness,
                                                                            sub: SubaccountExchange) -> None:
    buy(sub)
    close = MarketOrderRequest(client_order_id("it", "lost-rev", "close"), "BTC", "sell", 0.01, 0.01,
                               reduce_only=True, first_send=True)
    entry = MarketOrderRequest(client_order_id("it", "lost-rev", "entry"), "BTC", "sell", 0.01, 0.01,
                               first_send=True)
    harness.fake.lose_reply()
    outcomes = sub.market_orders([close, entry])
    assert [o.status for o in outcomes if isinstance(o, OrderAck)] == ["filled", "filled"]
    assert harness.fake.position(ONE, "BTC") == pytest.approx(-0.01)
    assert len(harness.fake.fills(ONE)) == 3, "the first buy, the close and the entry: nothing twice"


def test_a_batch_refuses_the_same_id_twice(sub: SubaccountExchange) -> None:
    stop, _ = _pair("twice")
    with pytest.raises(InvalidOrder):
        sub.trigger_orders([stop, stop])


@pytest.mark.parametrize("mid", [0.0, -1.0, float("nan"), float("inf")])
def test_a_reference_mid_that_is_not_a_price_is_refused_before_anything_is_sent(
        harness: HyperliquidHarness, sub: SubaccountExchange, mid: float) -> None:
    with pytest.raises(InvalidOrder, match="reference_mid"):
        sub.market_order(MarketOrderRequest(client_order_id("it", "bad-mid"), "BTC", "buy", 0.01, 0.01,
                                            reference_mid=mid))
    assert order_wires(harness, ONE) == []


def test_a_reply_held_until_the_timeout_is_recovered_the_same_way(harness: HyperliquidHarness,
                                                                  sub: SubaccountExchange) -> None:
    harness.fake.lose_reply(hang=True)
    ack = buy(sub)
    assert ack.status == "filled"  # type: ignore[attr-defined]
    assert len(order_wires(harness, ONE)) == 1 and len(harness.fake.fills(ONE)) == 1


def test_429_and_500_on_exchange_are_retried(harness: HyperliquidHarness, sub: SubaccountExchange) -> None:
    harness.fake.fail_exchange(429)
    harness.fake.fail_exchange(500)
    harness.fake.fail_exchange(502)
    assert buy(sub).status == "filled"  # type: ignore[attr-defined]
    assert harness.fake.faults_served["fail"] == 3
    assert len(order_wires(harness, ONE)) == 1 and len(harness.fake.fills(ONE)) == 1
    harness.fake.fail_exchange(500)
    sub.set_leverage("BTC", 7)
    assert sub.positions()[0].leverage == 7


def test_info_reads_are_retried_then_fail_as_unavailable(harness: HyperliquidHarness,
                                                         sub: SubaccountExchange) -> None:
    harness.fake.fail_info(429, times=2, kind="clearinghouseState")
    assert sub.account().account_value == pytest.approx(1000.0)
    harness.fake.fail_info(500, times=10, kind="clearinghouseState")
    with pytest.raises(ExchangeUnavailable):
        sub.positions()


def test_the_mid_and_the_account_are_read_together_and_a_failure_of_either_is_raised(
        harness: HyperliquidHarness, sub: SubaccountExchange) -> None:
    mid, account = sub.mid_and_account("BTC")
    assert mid == sub.mid_price("BTC") and account == sub.account()
    attempts = 4  # the fixture's 3 retries and the first try
    harness.fake.fail_info(500, times=attempts, kind="clearinghouseState")
    with pytest.raises(ExchangeUnavailable, match="clearinghouseState"):
        sub.mid_and_account("BTC")
    harness.fake.fail_info(500, times=attempts, kind="allMids")
    with pytest.raises(ExchangeUnavailable, match="allMids"):
        sub.mid_and_account("BTC")
    assert sub.mid_and_account("BTC")[1] == account
    with pytest.raises(UnknownInstrument):
        sub.mid_and_account("NOPE")


def test_an_order_refused_before_sending_when_the_venue_cannot_be_asked(harness: HyperliquidHarness,
                                                                        sub: SubaccountExchange) -> None:
    harness.fake.fail_info(502, times=10, kind="orderStatus")
    with pytest.raises(ExchangeUnavailable):
        buy(sub)
    assert harness.fake.recorded_actions() == []


def test_a_slow_reply_beyond_the_timeout_lands_once(harness: HyperliquidHarness, sub: SubaccountExchange) -> None:
    harness.fake.delay_exchange(1.0)  # processed 1s later; the adapter gives up after 0.5s and resends
    ack = buy(sub)
    assert ack.status == "filled"  # type: ignore[attr-defined]
    wait_until(lambda: len(harness.fake.recorded_actions(ONE)) == 2)  # the late original arrives ...
    late = harness.fake.recorded_actions(ONE)[-1]
    assert "Duplicate cloid" in late.reply["response"]["data"]["statuses"][0]["error"]  # ... and is refused
    assert len(harness.fake.fills(ONE)) == 1 and harness.fake.position(ONE, "BTC") == pytest.approx(0.01)


def test_an_order_never_confirmed_raises_state_unknown(harness: HyperliquidHarness) -> None:
    sub = harness.build(retries=1, timeout_s=0.2).subaccount(1)
    harness.fake.delay_exchange(0.6, times=2)
    with pytest.raises(OrderStateUnknown) as unknown:
        buy(sub)
    assert unknown.value.client_order_id == client_order_id("it", "BTC", "buy", "0.01", "x")
    wait_until(lambda: len(harness.fake.recorded_actions(ONE)) == 2)
    assert len(harness.fake.fills(ONE)) == 1  # both copies landed late: the second was refused
    assert sub.order_status(unknown.value.client_order_id).status == "filled"  # type: ignore[union-attr]


def test_closing_the_adapter_during_a_retry_leaves_the_order_unknown(harness: HyperliquidHarness) -> None:
    exchange = harness.build(timeout_s=0.2, backoff=Backoff(initial_s=5.0, max_s=5.0, jitter=0.0))
    harness.fake.delay_exchange(0.4)
    closer = threading.Timer(0.4, exchange.close)
    closer.start()
    started = time.monotonic()
    with pytest.raises(OrderStateUnknown, match="closed"):
        buy(exchange.subaccount(1))
    assert time.monotonic() - started < 2.0  # the 5s backoff was cut short
    closer.join()


def test_a_restarted_adapter_never_resends_a_known_order(harness: HyperliquidHarness,
                                                         sub: SubaccountExchange) -> None:
    first = buy(sub)
    again = harness.restart().subaccount(1)
    assert buy(again) == first  # read back from orderStatus + fills
    assert len(order_wires(harness, ONE)) == 1


def test_a_lost_cancel_reply_still_reports_the_cancelled_ids(harness: HyperliquidHarness,
                                                             sub: SubaccountExchange) -> None:
    buy(sub)
    stop = sub.trigger_order(TriggerOrderRequest(client_order_id("it", "sl"), "BTC", "sell", 0.01, 58000.0,
                                                 "stop_loss"))
    harness.fake.lose_reply()
    assert sub.cancel_all() == [stop.client_order_id]
    assert sub.open_orders() == []


def test_cancel_orders_sends_one_action_by_cloid_and_reads_nothing_first(harness: HyperliquidHarness,
                                                                         sub: SubaccountExchange) -> None:
    buy(sub)
    stop, take = (sub.trigger_order(TriggerOrderRequest(client_order_id("it", kind), "BTC", "sell", 0.01, price, kind))
                  for kind, price in (("stop_loss", 58000.0), ("take_profit", 63000.0)))
    before = _info_requests(harness)
    assert sub.cancel_orders("BTC", [stop.client_order_id, take.client_order_id]) == [
        stop.client_order_id, take.client_order_id]
    assert _info_requests(harness) == before, "no read of the open orders"
    [action] = [a for a in harness.fake.recorded_actions(ONE) if a.type == "cancelByCloid"]
    assert [c["cloid"] for c in action.action["cancels"]] == [stop.client_order_id, take.client_order_id]
    assert sub.open_orders() == []


def test_a_lost_cancel_by_cloid_reply_is_resolved_by_asking(harness: HyperliquidHarness,
                                                            sub: SubaccountExchange) -> None:
    buy(sub)
    stop = sub.trigger_order(TriggerOrderRequest(client_order_id("it", "sl"), "BTC", "sell", 0.01, 58000.0,
                                                 "stop_loss"))
    harness.fake.lose_reply()
    assert sub.cancel_orders("BTC", [stop.client_order_id, client_order_id("it", "never")]) == [
        stop.client_order_id]
    assert sub.open_orders() == []
    assert len([a for a in harness.fake.recorded_actions(ONE) if a.type == "cancelByCloid"]) == 1, \
        "the venue had done it: nothing sent again"


def test_cancel_orders_refuses_an_id_that_is_not_a_client_order_id(sub: SubaccountExchange) -> None:
    with pytest.raises(InvalidOrder):
        sub.cancel_orders("BTC", ["12345"])


# --- what goes on the wire --------------------------------------------------------------------


def test_sizes_and_prices_are_rounded_to_the_venue_grid(harness: HyperliquidHarness,
                                                        sub: SubaccountExchange) -> None:
    ack = buy(sub, 0.0012345)
    harness.move_price("BTC", 61234.5)
    buy(sub, 0.001, tag="grid")
    sub.trigger_order(TriggerOrderRequest(client_order_id("it", "sl"), "BTC", "sell", 0.002, 58123.456, "stop_loss",
                                          max_slippage=0.05))
    first, second, stop = order_wires(harness, ONE)
    assert first["s"] == "0.00123" and ack.size == 0.00123  # type: ignore[attr-defined]
    assert first["p"] == "60600" and first["t"] == {"limit": {"tif": "Ioc"}}
    assert second["p"] == "61847"  # 61234.5 x 1.01 = 61846.845 on the 5-significant-figure grid
    assert stop["t"] == {"trigger": {"isMarket": True, "triggerPx": "58123", "tpsl": "sl"}}
    assert stop["p"] == "55217" and stop["r"] is True  # 58123 x 0.95 = 55216.85


def test_fills_are_paged(harness: HyperliquidHarness, sub: SubaccountExchange,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hyperliquid_views, "FILLS_LIMIT", 3)
    monkeypatch.setattr(subaccount_module, "FILLS_PAGE", 3)
    for i in range(7):
        buy(sub, 0.001, tag=str(i))
    fills = sub.fills_since(EPOCH)
    assert len(fills) == 7 == len({f.fill_id for f in fills})
    assert [f.time for f in fills] == sorted(f.time for f in fills)


# --- errors -----------------------------------------------------------------------------------


def test_venue_refusals_become_typed_errors(harness: HyperliquidHarness, sub: SubaccountExchange) -> None:
    with pytest.raises(OrderRejected) as reduce_only:
        buy(sub, side="sell", reduce_only=True)
    assert reduce_only.value.code == "ReduceOnly"
    with pytest.raises(OrderRejected) as small:
        buy(sub, 0.0001)
    assert small.value.code == "MinTradeNtl"
    with pytest.raises(InsufficientMargin) as margin:
        buy(sub, 1.0)
    assert margin.value.code == "PerpMargin" and "Insufficient margin" in margin.value.reason
    with pytest.raises(OrderRejected) as no_match:
        buy(sub, tag="tight", max_slippage=0.0001)  # the fake fills 0.0005 away from the mid
    assert no_match.value.code == "IocCancel"
    with pytest.raises(OrderRejected) as again:  # the same intent later: rejected, never resent
        buy(sub, tag="tight", max_slippage=0.01)
    assert again.value.code == "IocCancel"
    with pytest.raises(OrderRejected) as tiny:
        buy(sub, 0.000001)
    assert tiny.value.code == "InvalidSize"
    with pytest.raises(UnknownInstrument):
        buy(sub, symbol="NOTACOIN")
    with pytest.raises(InvalidOrder):
        sub.market_order(MarketOrderRequest("order-1", "BTC", "buy", 0.01, 0.01))
    with pytest.raises(ExchangeError, match="Invalid leverage"):
        sub.set_leverage("BTC", 51)
    assert sub.positions() == [] and harness.fake.fills(ONE) == []
    assert harness.fake.order_statuses(ONE)[client_order_id("it", "BTC", "buy", "0.01", "tight")] == \
        "iocCancelRejected"


def test_secrets_never_show_in_reprs_errors_or_logs(harness: HyperliquidHarness,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    master = Account.from_key(MASTER_KEY).address
    secrets = [MASTER_KEY[2:], master[2:], master[2:].lower(), *(a[2:] for a in SUBACCOUNT_ADDRESSES.values())]
    exchange = harness.exchange()
    sub = exchange.subaccount(1)
    texts = [repr(exchange), str(exchange), repr(sub), repr(exchange.subaccount(2))]

    def failure(call: Callable[[], object]) -> None:
        with pytest.raises(ExchangeError) as caught:
            call()
        texts.append(str(caught.value))

    with pytest.raises(UnknownSubaccount) as unknown:
        exchange.subaccount(9)
    texts.append(str(unknown.value))
    failure(lambda: HyperliquidExchange(harness.fake.url, MASTER_KEY[:-2], SUBACCOUNT_ADDRESSES))
    failure(lambda: HyperliquidExchange(harness.fake.url, MASTER_KEY, {1: "0x1234"}))
    wrong = harness.build(WRONG_KEY).subaccount(1)
    failure(lambda: buy(wrong))
    failure(lambda: wrong.set_leverage("BTC", 2))
    buy(sub)
    sub.trigger_order(TriggerOrderRequest(client_order_id("it", "sl"), "BTC", "sell", 0.01, 58000.0, "stop_loss"))
    failure(wrong.cancel_all)
    failure(lambda: buy(sub, 1.0, tag="margin"))
    harness.fake.fail_info(500, times=4)  # every attempt of one read
    failure(sub.account)
    slow = harness.build(retries=0, timeout_s=0.2).subaccount(1)
    harness.fake.delay_exchange(0.4)
    failure(lambda: buy(slow, tag="slow"))
    texts += [record.getMessage() for record in caplog.records]
    for text in texts:
        assert not any(secret in text for secret in secrets), text
        assert not SECRET_LIKE.search(text), text
