"""What the exchange contract suite needs from each venue it runs against.

A harness owns one venue (the paper ledger on an event store, or the fake Hyperliquid server)
and the adapter under test. Every venue starts with the same market, so one suite of assertions
holds for all of them: BTC (szDecimals 5) at 60000 and ETH (szDecimals 4) at 3000, taker fee
0.00045 of notional, market orders filled at mid x (1 +/- 0.0005), subaccounts 1, 2 and 3
each funded with CAPITAL USDC.
"""

from __future__ import annotations

from typing import Protocol

from application.ports.exchange import Exchange
from domain.trading import Side

CAPITAL = 1000.0
FEE_RATE = 0.00045
SLIPPAGE = 0.0005
START_PRICES = {"BTC": 60000.0, "ETH": 3000.0}
SUBACCOUNTS = (1, 2, 3)


class ExchangeHarness(Protocol):
    name: str

    def exchange(self) -> Exchange:
        """The adapter under test (the same object until `restart`)."""
        ...

    def restart(self) -> Exchange:
        """Close the adapter and build a new one over the same venue state, as after a process restart."""
        ...

    def move_price(self, symbol: str, price: float) -> None:
        """The market trades to `price`, passing every price in between: triggers crossed on the way fire."""
        ...

    def trade_behind_back(self, subaccount: int, symbol: str, side: Side, size: float) -> None:
        """A market order on that subaccount placed by someone else (a person in the web UI)."""
        ...

    def close(self) -> None: ...
