"""The paper venue: Hyperliquid's rules, prices from the live candle cache, state in events.

Why events: a paper account must survive a restart exactly (positions, resting stops, the fills
already made), and two processes over one database must never double-fill an order. Each
subaccount is one `paper-<n>` stream appended with optimistic concurrency (see subaccount.py),
so the store is the only state; the adapter's memory is a cache of the replayed stream.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Literal

from adapters.paper.market import Instruments, PaperMarket
from adapters.paper.orders import PaperTerms
from adapters.paper.subaccount import PaperSubaccount
from application.ports.clock import Clock
from application.ports.event_store import EventStore
from application.ports.exchange import UnknownSubaccount
from application.ports.market_data import LiveCandles


class PaperExchange:
    """`capital` funds each subaccount the first time it is used; fees are fee_rate x notional;
    market orders fill at the newest `price_timeframe` close moved by `slippage` against the taker;
    `leverage` applies to symbols no set_leverage has changed; `instruments` give each symbol's
    size step (else one is derived from its first price, see market.default_instrument)."""

    def __init__(self, store: EventStore, prices: LiveCandles, clock: Clock, *, subaccounts: Sequence[int],
                 capital: float, fee_rate: float, slippage: float, min_notional: float = 10.0, leverage: int = 1,
                 price_timeframe: str = "1m", instruments: Instruments = None) -> None:
        numbers = tuple(sorted(set(subaccounts)))
        if not numbers or len(numbers) != len(subaccounts):
            raise ValueError(f"subaccounts must be distinct and at least one, got {list(subaccounts)}")
        _check("capital", capital, minimum=0.0, strict=True)
        _check("fee_rate", fee_rate, minimum=0.0)
        _check("slippage", slippage, minimum=0.0)
        _check("min_notional", min_notional, minimum=0.0)
        if isinstance(leverage, bool) or not isinstance(leverage, int) or leverage < 1:
            raise ValueError(f"leverage must be an int >= 1, got {leverage!r}")
        self._closed = threading.Event()
        market = PaperMarket(prices, price_timeframe, instruments)
        terms = PaperTerms(capital=capital, fee_rate=fee_rate, slippage=slippage, min_notional=min_notional,
                           leverage=leverage)
        self._subaccounts = {n: PaperSubaccount(n, store, market, clock, terms, self._closed) for n in numbers}

    @property
    def mode(self) -> Literal["paper", "live"]:
        return "paper"

    def subaccounts(self) -> tuple[int, ...]:
        return tuple(self._subaccounts)

    def subaccount(self, number: int) -> PaperSubaccount:
        try:
            return self._subaccounts[number]
        except KeyError:
            raise UnknownSubaccount(
                f"subaccount {number} is not configured; configured: {', '.join(map(str, self._subaccounts))}"
            ) from None

    def close(self) -> None:
        """Nothing to release (the store and prices belong to the caller); later calls are refused."""
        self._closed.set()


def _check(name: str, value: float, *, minimum: float, strict: bool = False) -> None:
    ok = (not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
          and (value > minimum if strict else value >= minimum))
    if not ok:
        raise ValueError(f"{name} must be a finite number {'>' if strict else '>='} {minimum}, got {value!r}")
