"""The fake Hyperliquid /exchange itself, driven by the plain SDK: who may sign for which account,
nonces, the reply formats, triggers fired along the price path, and the account /info types."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.signing import sign_l1_action
from hyperliquid.utils.types import Cloid

from tests.fakes.hyperliquid import recorded
from tests.fakes.hyperliquid_exchange import FakeHyperliquidExchange
from tests.fakes.hyperliquid_signing import recover_signer, recover_signer_slowly

SPOT: dict[str, list[Any]] = {"universe": [], "tokens": []}
MASTER = Account.from_key("0x" + "11" * 32)
OTHER_MASTER = Account.from_key("0x" + "33" * 32)
STRANGER = Account.from_key("0x" + "22" * 32)
SUB = "0x" + "a1" * 20
OTHER_SUB = "0x" + "b1" * 20
IOC = {"limit": {"tif": "Ioc"}}


@pytest.fixture
def fake() -> Iterator[FakeHyperliquidExchange]:
    with FakeHyperliquidExchange(prices={"BTC": 60000.0, "ETH": 3000.0}) as server:
        server.add_master(MASTER.address, usdc=500.0)
        server.add_subaccount(MASTER.address, SUB, 1000.0)
        server.add_master(OTHER_MASTER.address)
        server.add_subaccount(OTHER_MASTER.address, OTHER_SUB, 1000.0)
        yield server


def client(fake: FakeHyperliquidExchange, wallet: Any = MASTER, vault: str | None = SUB) -> Exchange:
    meta = Info(fake.url, skip_ws=True, spot_meta=SPOT).meta()
    return Exchange(wallet, fake.url, meta=meta, vault_address=vault, spot_meta=SPOT)


def statuses(reply: dict[str, Any]) -> list[Any]:
    assert reply["status"] == "ok", reply
    return list(reply["response"]["data"]["statuses"])


# --- signatures and nonces --------------------------------------------------------------------


def test_the_recovered_signer_is_the_key_that_signed() -> None:
    action = {"type": "updateLeverage", "asset": 0, "isCross": True, "leverage": 3}
    signature = sign_l1_action(MASTER, action, SUB, 1234, None, False)
    assert recover_signer(action, signature, SUB, 1234, None) == MASTER.address.lower()
    assert recover_signer(action, signature, SUB, 1235, None) != MASTER.address.lower()  # other nonce
    assert recover_signer(action | {"leverage": 4}, signature, SUB, 1234, None) != MASTER.address.lower()
    assert recover_signer(action, signature, SUB, 1234, None, is_mainnet=True) != MASTER.address.lower()


def test_the_fast_recovery_agrees_with_the_eip712_encoders_end_to_end() -> None:
    rng = random.Random(5)
    for n in range(60):
        action = {"type": "updateLeverage", "asset": n % 3, "isCross": True, "leverage": 1 + n % 20}
        vault, nonce, mainnet = (SUB if n % 2 else None), rng.randrange(1, 2**63), n % 3 == 0
        signature = sign_l1_action(MASTER if n % 4 else STRANGER, action, vault, nonce, None, mainnet)
        for tampered_nonce in (nonce, nonce + 1):
            assert recover_signer(action, signature, vault, tampered_nonce, None, mainnet) == recover_signer_slowly(
                action, signature, vault, tampered_nonce, None, mainnet)
    bad = dict(sign_l1_action(MASTER, {"type": "cancel", "cancels": []}, None, 1, None, False), v=29)
    with pytest.raises(ValueError):
        recover_signer({"type": "cancel", "cancels": []}, bad, None, 1, None)


def test_only_the_master_may_sign_for_its_subaccount(fake: FakeHyperliquidExchange) -> None:
    assert client(fake).update_leverage(5, "BTC") == {"status": "ok", "response": {"type": "default"}}
    for wallet, vault in ((STRANGER, SUB), (OTHER_MASTER, SUB), (MASTER, OTHER_SUB), (STRANGER, None)):
        reply = client(fake, wallet, vault).update_leverage(5, "BTC")
        assert reply == {"status": "err", "response": f"User or API Wallet {wallet.address.lower()} does not exist."}
    assert fake.refused_signatures == 4
    assert [(a.signer, a.vault, a.user) for a in fake.recorded_actions()] == [(MASTER.address.lower(), SUB, SUB)]


def test_a_master_trades_its_own_account_without_a_vault(fake: FakeHyperliquidExchange) -> None:
    [status] = statuses(client(fake, vault=None).order("ETH", True, 0.01, 3100.0, IOC))
    assert "filled" in status
    assert fake.position(MASTER.address, "ETH") == pytest.approx(0.01)
    assert fake.position(SUB, "ETH") == 0.0


def test_a_nonce_is_accepted_once_per_signer(fake: FakeHyperliquidExchange, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hyperliquid.exchange.get_timestamp_ms", lambda: 1_700_000_000_000)
    assert client(fake).update_leverage(5, "BTC")["status"] == "ok"
    assert client(fake).update_leverage(6, "BTC") == {"status": "err",
                                                     "response": "Invalid nonce: duplicate nonce 1700000000000"}
    assert client(fake, OTHER_MASTER, OTHER_SUB).update_leverage(6, "BTC")["status"] == "ok"  # another signer


# --- orders -----------------------------------------------------------------------------------


def test_reply_formats_and_checks(fake: FakeHyperliquidExchange) -> None:
    ex = client(fake)
    cloid = Cloid.from_str("0x" + "01" * 16)
    [filled] = statuses(ex.order("BTC", True, 0.02, 60100.0, IOC, cloid=cloid))
    assert filled == {"filled": {"totalSz": "0.02", "avgPx": repr(60000 * 1.0005), "oid": filled["filled"]["oid"]}}
    [duplicate] = statuses(ex.order("BTC", True, 0.02, 60100.0, IOC, cloid=cloid))
    assert duplicate == {"error": "Duplicate cloid. asset=0"}
    [resting] = statuses(ex.order("BTC", True, 0.001, 50000.0, {"limit": {"tif": "Gtc"}}))
    assert set(resting) == {"resting"}
    errors = [statuses(ex.order("BTC", True, sz, px, IOC, reduce_only=ro))[0]["error"] for sz, px, ro in (
        (0.01, 60000.5, False), (0.0000001, 60100.0, False), (0.0001, 60100.0, False), (0.02, 60100.0, True),
        (1.0, 60100.0, False), (0.01, 59000.0, False))]
    assert errors == ["Price must be divisible by tick size. asset=0", "Order has invalid size. asset=0",
                      "Order must have minimum value of $10. asset=0",
                      "Reduce only order would increase position. asset=0",
                      "Insufficient margin to place order. asset=0",
                      "Order could not immediately match against any resting orders. asset=0"]
    oid = resting["resting"]["oid"]
    assert ex.cancel("BTC", oid)["response"] == {"type": "cancel", "data": {"statuses": ["success"]}}
    assert statuses(ex.cancel("BTC", oid)) == [{"error": "Order was never placed, already canceled, or filled. "
                                                         "asset=0"}]
    assert fake.balance(SUB) == pytest.approx(1000.0 - 0.02 * 60000 * 1.0005 * 0.00045)


def test_account_info_has_the_recorded_shapes(fake: FakeHyperliquidExchange) -> None:
    ex = client(fake)
    cloid = Cloid.from_str("0x" + "02" * 16)
    ex.order("ETH", False, 0.5, 2900.0, IOC, cloid=cloid)
    ex.order("ETH", True, 0.5, 2730.0, {"trigger": {"triggerPx": 2600.0, "isMarket": True, "tpsl": "tp"}},
             reduce_only=True)
    info = Info(fake.url, skip_ws=True, spot_meta=SPOT)
    state = info.user_state(SUB)
    recorded_state = recorded("info_clearinghouseState")
    assert set(recorded_state) <= set(state)
    assert set(recorded_state["assetPositions"][0]["position"]) - {"maxTradeSzs"} <= set(
        state["assetPositions"][0]["position"])
    assert state["assetPositions"][0]["position"]["szi"] == "-0.5"
    [order] = info.frontend_open_orders(SUB)
    assert set(recorded("info_frontendOpenOrders")[0]) <= set(order)
    assert (order["orderType"], order["triggerCondition"], order["side"]) == (
        "Take Profit Market", "Price below 2600.0", "B")
    [fill] = info.user_fills(SUB)
    assert set(recorded("info_userFills")[0]) <= set(fill) and fill["cloid"] == str(cloid)
    assert info.query_order_by_cloid(SUB, cloid)["order"]["status"] == "filled"
    assert info.query_order_by_oid(SUB, 1) == {"status": "unknownOid"}
    assert info.user_fills_by_time(SUB, fill["time"] + 1) == []
    assert info.user_state(STRANGER.address) == recorded_state  # an account the fake does not know


# --- triggers ---------------------------------------------------------------------------------


def bracket(ex: Exchange, coin: str, is_buy: bool, size: float, stop: float, take: float) -> None:
    statuses(ex.order(coin, is_buy, size, 70000.0 if is_buy else 50000.0, IOC))
    for tpsl, px in (("sl", stop), ("tp", take)):
        limit = px * (0.95 if is_buy else 1.05)
        statuses(ex.order(coin, not is_buy, size, round(limit), {
            "trigger": {"triggerPx": px, "isMarket": True, "tpsl": tpsl}}, reduce_only=True))


def test_a_jump_fires_the_stop_at_its_price_and_cancels_the_take_profit(fake: FakeHyperliquidExchange) -> None:
    bracket(client(fake), "BTC", True, 0.01, 58000.0, 63000.0)
    fake.set_mid("BTC", 50000.0)  # one tick far below the stop: the path passed 58000
    assert fake.position(SUB, "BTC") == 0.0
    exit_ = fake.fills(SUB)[-1]
    assert (exit_["side"], float(exit_["px"]), exit_["dir"]) == ("A", pytest.approx(58000 * 0.9995), "Close Long")
    assert sorted(fake.order_statuses(SUB).values()) == ["filled", "filled", "reduceOnlyCanceled"]
    assert fake.open_orders(SUB) == []


def test_short_brackets_mirror(fake: FakeHyperliquidExchange) -> None:
    bracket(client(fake), "BTC", False, 0.01, 61000.0, 59000.0)
    fake.push_tick("BTC", 60900.0)
    fake.push_tick("BTC", 59100.0)
    assert fake.position(SUB, "BTC") == pytest.approx(-0.01)
    fake.push_tick("BTC", 58000.0)
    assert fake.position(SUB, "BTC") == 0.0
    assert float(fake.fills(SUB)[-1]["px"]) == pytest.approx(59000 * 1.0005)


def test_random_walk_steps_check_triggers_too(fake: FakeHyperliquidExchange) -> None:
    bracket(client(fake), "BTC", True, 0.01, 59950.0, 60050.0)
    fake.advance(60, coins=["BTC"])
    assert fake.position(SUB, "BTC") == 0.0
    assert len(fake.fills(SUB)) == 2
