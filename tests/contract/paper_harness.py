"""The paper venue under the exchange contract: PaperExchange over an event store, 1m bars in memory."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from adapters.memory.clock import ManualClock
from adapters.memory.live_candles import MemoryLiveCandles
from adapters.paper import PaperExchange
from application.ports.event_store import EventStore
from application.ports.exchange import MarketOrderRequest
from domain.trading import Side
from tests.contract.exchange_harness import CAPITAL, FEE_RATE, SLIPPAGE, START_PRICES, SUBACCOUNTS

START = datetime(2024, 1, 1, tzinfo=UTC)
BAR = timedelta(minutes=1)


class PaperHarness:
    """Every move is one new 1m bar for every symbol (the moved one spans old and new price), and
    the clock stays 30s into the newest bar, so each bar is the one in progress when it lands."""

    def __init__(self, name: str, store: EventStore) -> None:
        self.name = name
        self.store = store
        self.clock = ManualClock(START + BAR / 2)
        self.candles = MemoryLiveCandles(clock=self.clock)
        self._bar = START
        self._last = dict(START_PRICES)
        for symbol, price in self._last.items():
            self.candles.append(symbol, "1m", START, price, price, price, price, 1.0)
        self._exchange = self._build()

    def _build(self) -> PaperExchange:
        return PaperExchange(self.store, self.candles, self.clock, subaccounts=SUBACCOUNTS, capital=CAPITAL,
                             fee_rate=FEE_RATE, slippage=SLIPPAGE)

    def exchange(self) -> PaperExchange:
        return self._exchange

    def restart(self) -> PaperExchange:
        self._exchange.close()
        self._exchange = self._build()
        return self._exchange

    def move_price(self, symbol: str, price: float) -> None:
        self._bar += BAR
        self.clock.advance(BAR)
        for name, last in self._last.items():
            close = price if name == symbol else last
            self.candles.append(name, "1m", self._bar, last, max(last, close), min(last, close), close, 1.0)
        self._last[symbol] = price

    def trade_behind_back(self, subaccount: int, symbol: str, side: Side, size: float) -> None:
        other = self._build()
        try:
            other.subaccount(subaccount).market_order(MarketOrderRequest(
                client_order_id="0x" + uuid.uuid4().hex, symbol=symbol, side=side, size=size, max_slippage=0.05))
        finally:
            other.close()

    def close(self) -> None:
        self._exchange.close()
