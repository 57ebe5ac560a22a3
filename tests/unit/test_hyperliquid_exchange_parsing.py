"""The Hyperliquid exchange adapter's pure parts on recorded payloads: account parsing, error
translation against the venue's documented messages, scrubbing, the token bucket, nonces."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from adapters.hyperliquid import order_wire
from adapters.hyperliquid.exchange_errors import (
    error_code,
    order_rejected,
    rejected_from_status,
    rejected_status_code,
    scrub,
)
from adapters.hyperliquid.rate_limit import NonceSource, TokenBucket
from application.ports.exchange import ExchangeError, InsufficientMargin, OrderRejected
from tests.conftest import SHARED_DATA

HL = SHARED_DATA / "hyperliquid"


def recorded(name: str) -> object:
    return json.loads((HL / "sdk_recorded" / f"{name}.json").read_text())["response"]


def test_recorded_clearinghouse_state_parses() -> None:
    state = recorded("info_clearinghouseState")
    account = order_wire.account_state(2, state)  # type: ignore[arg-type]
    assert (account.subaccount, account.account_value, account.margin_used, account.withdrawable) == (
        2, 1182.312496, 171.740766, 1010.57173)
    held = order_wire.positions(state)  # type: ignore[arg-type]
    assert [p.symbol for p in held] == sorted(p.symbol for p in held) and len(held) == 12
    btc = next(p for p in held if p.symbol == "BTC")
    assert (btc.direction, btc.size, btc.entry_price, btc.leverage) == ("short", 0.00785, 26951.0, 20)
    assert next(p for p in held if p.symbol == "ETH").direction == "long"


def test_recorded_frontend_open_orders_parse_with_their_kinds() -> None:
    orders = order_wire.open_orders(recorded("info_frontendOpenOrders"))  # type: ignore[arg-type]
    assert [(o.order_id, o.kind, o.side, o.reduce_only, o.trigger_price) for o in orders] == [
        ("3184595905", "limit", "buy", False, None),
        ("3184595906", "stop_loss", "sell", True, 9.995),
        ("3184595907", "take_profit", "sell", True, 10.004),
    ]
    assert orders[0].limit_price == 10.0 and orders[0].client_order_id is None


def test_recorded_fills_parse() -> None:
    raw = json.loads((HL / "http_user_fills_dust_conversion.json").read_text())
    fills = order_wire.fills(raw)
    assert [f.time for f in fills] == sorted(f.time for f in fills)
    arb = next(f for f in fills if f.symbol == "ARB")
    assert (arb.fill_id, arb.order_id, arb.side, arb.size, arb.price, arb.fee) == (
        "17679709382320", "481029459465", "buy", 8552.3, 0.07482, 0.0)
    assert arb.time == datetime(2026, 6, 27, tzinfo=UTC) + timedelta(milliseconds=1782526679879 - 1782518400000)
    liquidation = json.loads((HL / "ws_user_fill_liquidation.json").read_text())["data"]["fills"]
    [fill] = order_wire.fills(liquidation)
    assert fill.client_order_id == "0xe8d5fd7ebbb4c3cff4d1803472a11463" and fill.side == "sell"


def test_recorded_fills_without_trade_ids_keep_distinct_ids() -> None:
    fills = order_wire.fills(recorded("info_userFills"))  # type: ignore[arg-type]
    assert len({f.fill_id for f in fills}) == len(fills) == 500


def test_recorded_historical_statuses_map() -> None:
    kinds = [order_wire.status_kind(o["status"]) for o in recorded("info_historicalOrders")]  # type: ignore[attr-defined]
    assert kinds == ["rejected", "rejected", "rejected", "cancelled", "cancelled"]
    assert [order_wire.status_kind(s) for s in ("open", "filled", "triggered", "reduceOnlyCanceled")] == [
        "resting", "filled", "filled", "cancelled"]
    with pytest.raises(ValueError):
        order_wire.status_kind("somethingNew")


def test_a_malformed_payload_is_an_exchange_error() -> None:
    with pytest.raises(ExchangeError, match="clearinghouseState"):
        order_wire.parse("clearinghouseState", {"assetPositions": "nope"}, order_wire.positions)


def test_every_documented_order_error_maps_to_its_type() -> None:
    documented = json.loads((HL / "exchange_error_messages.json").read_text())["errors"]
    for entry in documented:
        message = entry["message"].replace("{bbo}", "(1.0, 1.1)").replace("{quote_token}", "USDC") + " asset=3"
        code = error_code(message)
        if entry["type"] == "PositionFlipAtOpenInterestCap":  # same words as PositionIncreaseAtOpenInterestCap
            assert code == "PositionIncreaseAtOpenInterestCap"
        elif entry["type"] == "InsufficientSpotBalance":  # spot only: SixBTC never trades spot
            assert code is None
        else:
            assert code == entry["type"], message
    margin = order_rejected("0x" + "ab" * 16, "Insufficient margin to place order. asset=0")
    assert isinstance(margin, InsufficientMargin) and margin.code == "PerpMargin"
    other = order_rejected("0x" + "ab" * 16, "Something new")
    assert type(other) is OrderRejected and other.code is None


def test_rejected_statuses_name_the_error_type() -> None:
    assert rejected_status_code("perpMarginRejected") == "PerpMargin"
    assert rejected_status_code("iocCancelRejected") == "IocCancel"
    assert rejected_status_code("rejected") is None
    assert isinstance(rejected_from_status("0x" + "cd" * 16, "perpMarginRejected"), InsufficientMargin)


def test_scrub_blanks_addresses_keys_and_signatures_but_keeps_cloids() -> None:
    cloid = "0x" + "ab" * 16
    text = f"User or API Wallet 0x{'12' * 20} does not exist; key {'11' * 32}; cloid {cloid}"
    cleaned = scrub(text)
    assert "12" * 20 not in cleaned and "11" * 32 not in cleaned and cloid in cleaned
    assert len(scrub("x" * 1000)) == 300


def test_token_bucket_paces_after_the_burst() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(4, clock=lambda: now[0], sleep=sleep)
    assert [bucket.acquire() for _ in range(4)] == [0.0] * 4
    assert bucket.acquire() == pytest.approx(0.25)
    now[0] += 10.0
    assert [bucket.acquire() for _ in range(4)] == [0.0] * 4  # refilled, but never beyond the capacity
    assert bucket.acquire() == pytest.approx(0.25)
    with pytest.raises(ValueError):
        TokenBucket(0)


def test_nonces_are_unique_across_threads_even_within_one_millisecond() -> None:
    source = NonceSource(clock_ms=lambda: 1_000)
    got: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        mine = [source.next() for _ in range(500)]
        with lock:
            got.extend(mine)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(1_000, 3_000))
