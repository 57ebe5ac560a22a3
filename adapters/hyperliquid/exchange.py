"""The Hyperliquid venue behind the exchange port (mode "live"): one key, numbered subaccounts.

One private key (the master account's, or an API wallet's acting for `main_address`) signs for
every configured subaccount; each subaccount is a Hyperliquid sub-account whose address goes
into every action as `vaultAddress`. A subaccount mapped to the master's own address trades the
master account itself (no vault). The key becomes an eth_account LocalAccount once, here, and is
never shown: not in repr, not in errors, not in logs (nor are addresses or signatures).

Nothing touches the network until the first call: the SDK clients are built lazily
(exchange_transport), so the composition root can build this offline.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

import eth_account
from eth_account.signers.local import LocalAccount

from adapters.hyperliquid.exchange_transport import HyperliquidTransport
from adapters.hyperliquid.subaccount import HyperliquidSubaccount
from adapters.hyperliquid.ws_connection import Backoff
from application.ports.exchange import ExchangeError, SubaccountExchange, UnknownSubaccount

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


class HyperliquidExchange:
    def __init__(self, base_url: str, private_key: str, subaccounts: Mapping[int, str], *,
                 timeout_s: float = 10.0, retries: int = 4, backoff: Backoff | None = None,
                 requests_per_second: float = 8.0, main_address: str | None = None) -> None:
        """`subaccounts` maps our subaccount numbers to Hyperliquid addresses; `main_address` is
        the account the key acts for when the key is an API wallet's (default: the key's own)."""
        wallet = _wallet(private_key)
        if main_address is not None and not _ADDRESS.fullmatch(main_address):
            raise ExchangeError("main_address is not a 0x address of 40 hex digits")
        main = (main_address or wallet.address).lower()
        self._transport = HyperliquidTransport(
            base_url, wallet, timeout_s=timeout_s, retries=retries,
            backoff=backoff or Backoff(initial_s=0.5, max_s=8.0), requests_per_second=requests_per_second)
        self._accounts: dict[int, HyperliquidSubaccount] = {}
        for number, address in sorted(subaccounts.items()):
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                raise ExchangeError(f"subaccount numbers are non-negative ints, got {number!r}")
            if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
                raise ExchangeError(f"subaccount {number}: the address is not 0x + 40 hex digits")
            user = address.lower()
            vault = None if user == main else user
            self._accounts[number] = HyperliquidSubaccount(
                number, user, self._transport,
                lambda vault=vault: self._transport.sdk_exchange(vault, main))  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"HyperliquidExchange({self._transport.base_url!r}, subaccounts={self.subaccounts()})"

    @property
    def mode(self) -> Literal["paper", "live"]:
        return "live"

    def subaccounts(self) -> tuple[int, ...]:
        return tuple(sorted(self._accounts))

    def subaccount(self, number: int) -> SubaccountExchange:
        found = self._accounts.get(number)
        if found is None:
            raise UnknownSubaccount(f"subaccount {number!r} is not configured (configured: {self.subaccounts()})")
        return found

    def close(self) -> None:
        self._transport.close()


def _wallet(private_key: str) -> LocalAccount:
    """The signer, built once; a bad key fails here with a message that does not repeat it."""
    try:
        account: LocalAccount = eth_account.Account.from_key(private_key)
    except (ValueError, TypeError, AttributeError):
        raise ExchangeError("the Hyperliquid private key is not a valid secp256k1 key (0x + 64 hex digits)") from None
    return account
