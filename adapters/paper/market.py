"""What the paper venue knows of the market: prices and bars from the live candle cache.

The paper venue has no order book, so the newest bar's close stands for the mid: it is the
first price after a strategy's decision, the price a market order sent then would meet.

One venue call looks at prices many times (the triggers' bars, the mid, the margin of each
position); inside `pinned()` each symbol's bars are read from the cache once, so the call
sees one market, as an exchange's matching engine does, and pays for one read.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from application.ports.exchange import UnknownInstrument
from application.ports.market_data import LiveCandles, UnknownSymbol
from domain.candles import timeframe_delta
from domain.instruments import Instrument

MAX_DEFAULT_SZ_DECIMALS = 5
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc(moment: datetime) -> datetime:
    """Naive moments are UTC, as in the candle frame; aware ones compare as they are (no pandas:
    the paper venue compares times many times per call)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


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
    """Aware (UTC)."""
    open: float
    high: float
    low: float
    close: float


Instruments = Mapping[str, Instrument] | Callable[[], Mapping[str, Instrument]] | None
MAX_LEVERAGE = 50
"""Hyperliquid's highest leverage on any perp: the cap while a symbol's own is not known yet."""
_FIRST_READ = 3
"""Bars read first for bars_after: the placement bar, the last closed one and the forming one."""


@dataclass(frozen=True)
class _Read:
    bars: list[Bar]
    complete: bool
    """The cache held no more bars than these."""

    def covers(self, after: datetime | None) -> bool:
        """Holds the newest bar (after None), or every bar that opened after `after`."""
        if self.complete:
            return True
        if not self.bars:
            return False
        return after is None or self.bars[0].open_time <= utc(after)


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
        self._step = self.period.to_pytimedelta()
        self._lock = threading.Lock()
        self._loader = instruments if callable(instruments) else None
        self._instruments: dict[str, Instrument] = {} if callable(instruments) else dict(instruments or {})
        self._pins = threading.local()

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """Until the block ends, on this thread, each symbol's bars are read once; blocks nest."""
        if getattr(self._pins, "reads", None) is not None:
            yield
            return
        self._pins.reads = {}
        try:
            yield
        finally:
            self._pins.reads = None

    def leverage_cap(self, symbol: str) -> int:
        """The symbol's maximum leverage if known already, else Hyperliquid's highest; reads nothing."""
        with self._lock:
            known = self._instruments.get(symbol)
        return known.max_leverage if known is not None else MAX_LEVERAGE

    def latest_bar(self, symbol: str) -> Bar:
        bars = self._recent(symbol, None)
        if not bars:
            raise UnknownInstrument(f"{symbol}: no {self.timeframe} candles yet, so no price to trade at")
        return bars[-1]

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
        start = utc(after)
        bars = self._recent(symbol, start)
        if not bars:
            raise UnknownInstrument(f"{symbol}: no {self.timeframe} candles yet, so no price to trade at")
        return [bar for bar in bars if bar.open_time > start]

    def bar_open(self, moment: datetime) -> datetime:
        """The open time of the bar in progress at `moment`."""
        return _EPOCH + (utc(moment) - _EPOCH) // self._step * self._step

    def _recent(self, symbol: str, after: datetime | None) -> list[Bar]:
        """The newest bars, oldest first: at least the newest one (after None), or every one that
        opened after `after`; from this thread's pin when it holds them."""
        reads: dict[str, _Read] | None = getattr(self._pins, "reads", None)
        found = reads.get(symbol) if reads is not None else None
        if found is not None and found.covers(after):
            return found.bars
        count = 1 if after is None else _FIRST_READ
        if found is not None and found.bars and after is not None:
            count = self._span(found.bars[-1], after)
        for _ in range(3):  # a second read when the first was too short; a third if a bar came in between
            found = self._read(symbol, count)
            if found.covers(after) or after is None or not found.bars:
                break
            count = self._span(found.bars[-1], after)
        if reads is not None:
            reads[symbol] = found
        return found.bars

    def _span(self, newest: Bar, after: datetime) -> int:
        """Bars from the one at `after` to `newest`, when none is missing (with gaps, fewer are needed)."""
        return max(1, int((newest.open_time - utc(after)) / self._step) + 2)

    def _read(self, symbol: str, lookback: int) -> _Read:
        try:
            frame = self._prices.get_data(symbol, self.timeframe, lookback)
        except UnknownSymbol as exc:
            raise UnknownInstrument(f"{symbol} is not tradable on the paper venue: {exc}") from None
        return _Read(_bars(frame), complete=len(frame) < lookback)


_PRICE_COLUMNS = ("open", "high", "low", "close")


def _bars(frame: pd.DataFrame) -> list[Bar]:
    """By column position, through Python floats: selecting columns by a list of names, or
    converting numpy scalars one by one, costs several times more, on every order."""
    o, h, low, c = (frame.columns.get_loc(column) for column in _PRICE_COLUMNS)
    index = frame.index if isinstance(frame.index, pd.DatetimeIndex) else pd.DatetimeIndex(frame.index)
    rows = frame.to_numpy(dtype="float64").tolist()
    stamps = (index if index.tz is not None else index.tz_localize("UTC")).to_pydatetime()
    return [Bar(stamp, row[o], row[h], row[low], row[c]) for stamp, row in zip(stamps, rows, strict=True)]
