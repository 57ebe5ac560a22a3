"""What the paper venue knows of the market: prices and bars from the live candle cache.

The paper venue has no order book, so the newest bar's close stands for the mid: it is the
first price after a strategy's decision, the price a market order sent then would meet.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from application.ports.exchange import UnknownInstrument
from application.ports.market_data import LiveCandles, UnknownSymbol
from domain.candles import timeframe_delta, to_utc
from domain.instruments import Instrument

MAX_DEFAULT_SZ_DECIMALS = 5


def default_instrument(symbol: str, price: float) -> Instrument:
    """Hyperliquid-like size step from the price: BTC at 60000 -> 5 decimals, ETH at 3000 -> 4.

    An approximation for symbols the configuration gives no instrument for; the real
    szDecimals (Hyperliquid's meta) should be passed in wherever they are known.
    """
    decimals = math.ceil(math.log10(price)) if price > 0 else 0
    return Instrument(symbol=symbol, sz_decimals=min(max(decimals, 0), MAX_DEFAULT_SZ_DECIMALS))


@dataclass(frozen=True)
class Bar:
    open_time: datetime
    open: float
    high: float
    low: float
    close: float


Instruments = Mapping[str, Instrument] | Callable[[], Mapping[str, Instrument]] | None
MAX_LEVERAGE = 50
"""Hyperliquid's highest leverage on any perp: the cap while a symbol's own is not known yet."""


class PaperMarket:
    """Prices of `timeframe` bars; instruments as given, else fixed from the first price seen.

    `instruments` may be a loader (Hyperliquid's meta over the network): it is called on the
    first order, never for a leverage change on a symbol without a position, so deploying on
    paper needs neither a price nor the network.
    """

    def __init__(self, prices: LiveCandles, timeframe: str, instruments: Instruments) -> None:
        self._prices = prices
        self.timeframe = timeframe
        self.period = timeframe_delta(timeframe)
        self._lock = threading.Lock()
        self._loader = instruments if callable(instruments) else None
        self._instruments: dict[str, Instrument] = {} if callable(instruments) else dict(instruments or {})

    def leverage_cap(self, symbol: str) -> int:
        """The symbol's maximum leverage if known already, else Hyperliquid's highest; reads nothing."""
        with self._lock:
            known = self._instruments.get(symbol)
        return known.max_leverage if known is not None else MAX_LEVERAGE

    def latest_bar(self, symbol: str) -> Bar:
        frame = self._frame(symbol, 1)
        if len(frame) == 0:
            raise UnknownInstrument(f"{symbol}: no {self.timeframe} candles yet, so no price to trade at")
        return _bars(frame)[-1]

    def mid(self, symbol: str) -> float:
        return self.latest_bar(symbol).close

    def instrument(self, symbol: str) -> Instrument:
        with self._lock:
            if self._loader is not None:
                loader, self._loader = self._loader, None
                self._instruments = {**loader(), **self._instruments}
            known = self._instruments.get(symbol)
        if known is not None:
            return known
        found = default_instrument(symbol, self.mid(symbol))
        with self._lock:
            return self._instruments.setdefault(symbol, found)

    def bars_after(self, symbol: str, after: datetime) -> list[Bar]:
        """Bars that opened after `after`, oldest first; the last one may still be forming."""
        latest = self.latest_bar(symbol)
        start = to_utc(after)
        if to_utc(latest.open_time) <= start:
            return []
        count = int((to_utc(latest.open_time) - start) / self.period) + 1
        frame = self._frame(symbol, count)
        return [bar for bar in _bars(frame) if to_utc(bar.open_time) > start]

    def bar_open(self, moment: datetime) -> datetime:
        """The open time of the bar in progress at `moment`."""
        opened: datetime = to_utc(moment).floor(self.period).to_pydatetime()
        return opened

    def _frame(self, symbol: str, lookback: int) -> pd.DataFrame:
        try:
            return self._prices.get_data(symbol, self.timeframe, lookback)
        except UnknownSymbol as exc:
            raise UnknownInstrument(f"{symbol} is not tradable on the paper venue: {exc}") from None


_PRICE_COLUMNS = ("open", "high", "low", "close")


def _bars(frame: pd.DataFrame) -> list[Bar]:
    """By column position: selecting columns by a list of names costs 40 times more, on every order."""
    positions = [frame.columns.get_loc(column) for column in _PRICE_COLUMNS]
    values = frame.to_numpy(dtype="float64")[:, positions]
    stamps = pd.DatetimeIndex(frame.index).to_pydatetime()
    return [
        Bar(stamp, float(o), float(h), float(low), float(c))
        for stamp, (o, h, low, c) in zip(stamps, values, strict=True)
    ]
