"""Who signed an /exchange request: the check the venue makes before it looks at the action.

Hyperliquid's L1 actions are signed as an EIP-712 "Agent" message whose connectionId is the
keccak of msgpack(action) + nonce + vault address (+ expiresAfter); mainnet and testnet differ
in the `source` field ("a"/"b"). Recovering the address from (v, r, s) over the same message
tells who signed: a signature over a different action, nonce or vault recovers some other
address, which is how a tampered or wrongly signed request is caught.

The domain separator and the Agent type hash come from eth_account's EIP-712 encoder, once; per
request only the Agent struct is hashed and libsecp256k1 recovers the key (the encoder's full
walk cost ~0.7 ms of the fake's CPU per request, on the cores the benchmarked client uses).
`recover_signer_slowly` is the encoder's own path end to end, which the tests hold this equal to.
"""

from __future__ import annotations

from typing import Any

import coincurve
from eth_account import Account
from eth_account._utils.encode_typed_data.encoding_and_hashing import hash_domain, hash_type
from eth_account.messages import encode_typed_data
from eth_utils import keccak
from hyperliquid.utils.signing import action_hash, construct_phantom_agent, l1_payload

_PAYLOAD = l1_payload(construct_phantom_agent(bytes(32), False))
_DOMAIN = hash_domain(_PAYLOAD["domain"])
_AGENT = hash_type("Agent", _PAYLOAD["types"])
_CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def recover_signer(action: dict[str, Any], signature: dict[str, Any], vault_address: str | None, nonce: int,
                   expires_after: int | None, is_mainnet: bool = False) -> str:
    """The lower-case address whose key made `signature` over this action; raises ValueError
    for a signature that is not one (wrong length, bad v)."""
    v, r, s = int(signature["v"]), int(signature["r"], 16), int(signature["s"], 16)
    if v not in (27, 28) or not (0 < r < _CURVE_ORDER and 0 < s < _CURVE_ORDER):
        raise ValueError(f"not a signature: v={v}")
    connection_id = action_hash(action, vault_address, nonce, expires_after)
    agent = keccak(_AGENT + keccak(b"a" if is_mainnet else b"b") + connection_id)
    digest = keccak(b"\x19\x01" + _DOMAIN + agent)
    try:
        key = coincurve.PublicKey.from_signature_and_message(
            r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v - 27]), digest, hasher=None)
    except Exception as exc:  # coincurve raises a bare Exception for a point that does not recover
        raise ValueError(f"not a signature: {exc}") from None
    return "0x" + keccak(key.format(compressed=False)[1:])[-20:].hex()


def recover_signer_slowly(action: dict[str, Any], signature: dict[str, Any], vault_address: str | None,
                          nonce: int, expires_after: int | None, is_mainnet: bool = False) -> str:
    connection_id = action_hash(action, vault_address, nonce, expires_after)
    message = encode_typed_data(full_message=l1_payload(construct_phantom_agent(connection_id, is_mainnet)))
    vrs = (int(signature["v"]), int(signature["r"], 16), int(signature["s"], 16))
    address: str = Account.recover_message(message, vrs=vrs)
    return address.lower()
