"""Our L1 signer (adapters/hyperliquid/l1_signing.py) signs exactly as the SDK's sign_l1_action:
the same signature for every kind of action we send, vault or none, mainnet or testnet, any
nonce and expiry, and the SDK's own recovery finds the signer."""

from __future__ import annotations

import random
from typing import Any

import pytest
from eth_account import Account
from hyperliquid.utils import signing as sdk

from adapters.hyperliquid.l1_signing import L1Signer

WALLET = Account.from_key("0x" + "5a" * 32)
OTHER = Account.from_key("0x" + "3c" * 32)
VAULT = "0x" + "ab" * 20


def _order(rng: random.Random) -> dict[str, Any]:
    wire = sdk.order_request_to_order_wire({
        "coin": "BTC", "is_buy": rng.random() < 0.5, "sz": round(rng.uniform(0.001, 2), 5),
        "limit_px": round(rng.uniform(10_000, 100_000), 0), "reduce_only": rng.random() < 0.5,
        "order_type": ({"limit": {"tif": "Ioc"}} if rng.random() < 0.5 else
                       {"trigger": {"triggerPx": round(rng.uniform(10_000, 100_000), 0), "isMarket": True,
                                    "tpsl": rng.choice(["sl", "tp"])}}),
        "cloid": sdk.Cloid.from_str("0x" + "".join(rng.choice("0123456789abcdef") for _ in range(32)))}, 0)
    return sdk.order_wires_to_order_action([wire], None, "na")


ACTIONS = [
    {"type": "cancel", "cancels": [{"a": 0, "o": 123456}, {"a": 1, "o": 7}]},
    {"type": "cancelByCloid", "cancels": [{"asset": 0, "cloid": "0x" + "0f" * 16}]},
    {"type": "updateLeverage", "asset": 3, "isCross": True, "leverage": 5},
]


@pytest.mark.parametrize("is_mainnet", [False, True])
@pytest.mark.parametrize("vault", [None, VAULT])
def test_signatures_equal_the_sdks(is_mainnet: bool, vault: str | None) -> None:
    rng = random.Random(7)
    for action in [*ACTIONS, *(_order(rng) for _ in range(40))]:
        nonce = rng.randrange(1_700_000_000_000, 1_900_000_000_000)
        for wallet in (WALLET, OTHER):
            ours = L1Signer(wallet).sign(action, vault, nonce, None, is_mainnet)
            assert ours == sdk.sign_l1_action(wallet, action, vault, nonce, None, is_mainnet)
            recovered = sdk.recover_agent_or_user_from_l1_action(action, ours, vault, nonce, None, is_mainnet)
            assert recovered == wallet.address


def test_an_expiry_is_signed_as_the_sdk_signs_it() -> None:
    signer, action = L1Signer(WALLET), ACTIONS[0]
    assert signer.sign(action, VAULT, 1, 1_800_000_000_000, False) == sdk.sign_l1_action(
        WALLET, action, VAULT, 1, 1_800_000_000_000, False)
    assert signer.sign(action, VAULT, 1, None, False) != signer.sign(action, VAULT, 2, None, False)


def test_many_random_keys_sign_as_the_sdk() -> None:
    """Leading zero bytes in r or s, and both recovery ids, come up among a few hundred signatures."""
    rng = random.Random(11)
    for _ in range(300):
        wallet = Account.from_key("0x" + rng.randbytes(32).hex())
        nonce = rng.randrange(1, 2**63)
        assert L1Signer(wallet).sign(ACTIONS[1], None, nonce, None, False) == sdk.sign_l1_action(
            wallet, ACTIONS[1], None, nonce, None, False)


def test_the_signer_never_shows_its_key() -> None:
    assert WALLET.key.hex().removeprefix("0x") not in repr(L1Signer(WALLET))
