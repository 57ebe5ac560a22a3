"""Who signed an /exchange request: the check the venue makes before it looks at the action.

Hyperliquid's L1 actions are signed as an EIP-712 "Agent" message whose connectionId is the
keccak of msgpack(action) + nonce + vault address (+ expiresAfter); mainnet and testnet differ
in the `source` field ("a"/"b"). Recovering the address from (v, r, s) over the same message
tells who signed: a signature over a different action, nonce or vault recovers some other
address, which is how a tampered or wrongly signed request is caught.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from hyperliquid.utils.signing import action_hash, construct_phantom_agent, l1_payload


def recover_signer(action: dict[str, Any], signature: dict[str, Any], vault_address: str | None, nonce: int,
                   expires_after: int | None, is_mainnet: bool = False) -> str:
    """The lower-case address whose key made `signature` over this action; raises ValueError
    for a signature that is not one (wrong length, bad v)."""
    connection_id = action_hash(action, vault_address, nonce, expires_after)
    message = encode_typed_data(full_message=l1_payload(construct_phantom_agent(connection_id, is_mainnet)))
    vrs = (int(signature["v"]), int(signature["r"], 16), int(signature["s"], 16))
    address: str = Account.recover_message(message, vrs=vrs)
    return address.lower()
