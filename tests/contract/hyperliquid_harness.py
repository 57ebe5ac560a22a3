"""The Hyperliquid adapter under the exchange contract: the real SDK against the local fake venue.

The fake runs on 127.0.0.1 with the contract's market (BTC 60000, ETH 3000, fee and slippage as
in exchange_harness), a master account for a fixed test key (never a real one) and subaccounts
1..3 funded with CAPITAL. Fills are stamped with strictly increasing milliseconds so fills_since
can tell two fills apart even when they land in the same millisecond of wall-clock time.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from eth_account import Account
from hyperliquid.exchange import Exchange as SdkExchange
from hyperliquid.info import Info

from adapters.hyperliquid.exchange import HyperliquidExchange
from adapters.hyperliquid.ws_connection import Backoff
from domain.trading import Side
from tests.contract.exchange_harness import CAPITAL, FEE_RATE, SLIPPAGE, START_PRICES, SUBACCOUNTS
from tests.fakes.hyperliquid_exchange import FakeHyperliquidExchange

MASTER_KEY = "0x" + "11" * 32  # a well-known test key: never holds anything
SUBACCOUNT_ADDRESSES = {n: "0x" + f"{0xa0 + n:02x}" * 20 for n in SUBACCOUNTS}
EMPTY_SPOT_META: dict[str, list[Any]] = {"universe": [], "tokens": []}
FAST = Backoff(initial_s=0.01, max_s=0.05, factor=2.0, jitter=0.1)


class StrictMillis:
    """Wall-clock milliseconds, never the same value twice; `advance` moves them on ahead of the wall
    clock (the benchmark runs an hour's bar in a tenth of a second, and fill times must keep up)."""

    def __init__(self) -> None:
        self._last = 0
        self._offset_ms = 0
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            self._last = max(time.time_ns() // 1_000_000 + self._offset_ms, self._last + 1)
            return self._last

    def advance(self, milliseconds: int) -> None:
        with self._lock:
            self._offset_ms += milliseconds


class HyperliquidHarness:
    name = "hyperliquid"

    def __init__(self, *, timeout_s: float = 2.0, retries: int = 3) -> None:
        self.fake = FakeHyperliquidExchange(prices=START_PRICES, fee_rate=FEE_RATE, slippage=SLIPPAGE,
                                            now_ms=StrictMillis()).start()
        self.master = Account.from_key(MASTER_KEY).address.lower()
        self.fake.add_master(self.master)
        for address in SUBACCOUNT_ADDRESSES.values():
            self.fake.add_subaccount(self.master, address, CAPITAL)
        self._timeout_s = timeout_s
        self._retries = retries
        self._exchange = self.build()

    def build(self, key: str = MASTER_KEY, **overrides: Any) -> HyperliquidExchange:
        options: dict[str, Any] = {"timeout_s": self._timeout_s, "retries": self._retries, "backoff": FAST,
                                   "requests_per_second": 1000.0} | overrides
        return HyperliquidExchange(self.fake.url, key, SUBACCOUNT_ADDRESSES, **options)

    def exchange(self) -> HyperliquidExchange:
        return self._exchange

    def restart(self) -> HyperliquidExchange:
        self._exchange.close()
        self._exchange = self.build()
        return self._exchange

    def move_price(self, symbol: str, price: float) -> None:
        self.fake.set_mid(symbol, price)

    def trade_behind_back(self, subaccount: int, symbol: str, side: Side, size: float) -> None:
        """A market order from another client of the same key (the web UI): the plain SDK."""
        meta = Info(self.fake.url, skip_ws=True, spot_meta=EMPTY_SPOT_META).meta()
        other = SdkExchange(Account.from_key(MASTER_KEY), self.fake.url, meta=meta,
                            vault_address=SUBACCOUNT_ADDRESSES[subaccount], spot_meta=EMPTY_SPOT_META)
        for _ in range(3):  # its clock nonce may meet one our adapter used in the same millisecond
            time.sleep(0.002)
            reply = other.market_open(symbol, side == "buy", size, slippage=0.05)
            if reply.get("status") == "ok":
                break
        statuses = reply["response"]["data"]["statuses"] if reply.get("status") == "ok" else [reply]
        if not all("filled" in s for s in statuses):
            raise AssertionError(f"the order behind the adapter's back did not fill: {reply}")

    def close(self) -> None:
        self._exchange.close()
        self.fake.stop()
