"""The market behind the fake Hyperliquid: a steppable clock, mid prices, and one candle store.

Ticks and seeded history write the same store that candleSnapshot reads, so a client that missed
WebSocket pushes can recover exactly what it missed over REST, as with the real venue. Prices are
rounded to 6 significant digits and rendered with repr(), so the strings served parse back to the
very floats stored and tests can compare frames for equality.
"""

from __future__ import annotations

import bisect
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

INTERVAL_MS: dict[str, int] = {
    "1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000, "1h": 3_600_000,
    "2h": 7_200_000, "4h": 14_400_000, "8h": 28_800_000, "12h": 43_200_000, "1d": 86_400_000,
}
DEFAULT_INTERVALS = ("1m", "5m", "15m", "30m", "1h", "4h", "1d")
DEFAULT_START = datetime(2024, 3, 1, tzinfo=UTC)
MINUTE_MS = 60_000


def round_price(x: float) -> float:
    return float(f"{x:.6g}")


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class FakeClock:
    """The fake venue's time; pass it to clients as their Clock so both agree on 'now'."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def move_to(self, moment: datetime) -> None:
        with self._lock:
            if moment > self._now:
                self._now = moment


@dataclass
class FakeCandle:
    coin: str
    interval: str
    t: int
    o: float
    h: float
    l: float  # noqa: E741 - Hyperliquid's field name
    c: float
    v: float
    n: int

    def to_json(self) -> dict[str, Any]:
        return {"t": self.t, "T": self.t + INTERVAL_MS[self.interval] - 1, "s": self.coin, "i": self.interval,
                "o": repr(self.o), "c": repr(self.c), "h": repr(self.h), "l": repr(self.l),
                "v": repr(self.v), "n": self.n}


class FakeMarket:
    """Not thread-safe by itself: the fake server calls it from its event loop only."""

    def __init__(self, mids: dict[str, float], start: datetime = DEFAULT_START,
                 intervals: Iterable[str] = DEFAULT_INTERVALS, seed: int = 7) -> None:
        self.clock = FakeClock(start)
        self.intervals = tuple(intervals)
        self.mids = {coin: round_price(price) for coin, price in mids.items()}
        self._rng = random.Random(seed)
        self._seed = seed
        self._times: dict[tuple[str, str], list[int]] = {}
        self._bars: dict[tuple[str, str], list[FakeCandle]] = {}

    @property
    def coins(self) -> list[str]:
        return list(self.mids)

    def tick(self, coin: str, price: float, volume: float = 1.0, at: datetime | None = None) -> list[FakeCandle]:
        """One trade: updates (or opens) the bar containing `at` in every interval; returns them."""
        if coin not in self.mids:
            raise KeyError(f"unknown coin {coin}")
        moment = at or self.clock.now()
        self.clock.move_to(moment)
        at_ms, price, volume = to_ms(moment), round_price(price), round(volume, 6)
        self.mids[coin] = price
        updated = []
        for interval in self.intervals:
            times, bars = self._series(coin, interval)
            bar_t = at_ms - at_ms % INTERVAL_MS[interval]
            if times and times[-1] > bar_t:
                raise ValueError(f"tick at {moment} is older than the {coin} {interval} bar at {times[-1]}")
            if times and times[-1] == bar_t:
                bar = bars[-1]
                bar.h, bar.l, bar.c = max(bar.h, price), min(bar.l, price), price
                bar.v = round(bar.v + volume, 6)
                bar.n += 1
            else:
                bar = FakeCandle(coin, interval, bar_t, price, price, price, price, volume, 1)
                times.append(bar_t)
                bars.append(bar)
            updated.append(bar)
        return updated

    def step(self, minutes: int = 1, coins: Iterable[str] | None = None) -> list[FakeCandle]:
        """Moves the clock minute by minute; every coin trades once at each new minute."""
        chosen = list(coins) if coins is not None else self.coins
        updated: list[FakeCandle] = []
        for _ in range(minutes):
            moment = self.clock.now() + timedelta(minutes=1)
            moment -= timedelta(microseconds=moment.microsecond, seconds=moment.second)
            for coin in chosen:
                price = self.mids[coin] * float(np.exp(self._rng.gauss(0.0, 0.002)))
                updated += self.tick(coin, price, self._rng.uniform(0.1, 10.0), moment)
        return updated

    def seed_history(self, minutes: int, coins: Iterable[str] | None = None) -> None:
        """`minutes` of 1m random-walk history ending at the clock, aggregated into every interval."""
        end_ms = to_ms(self.clock.now())
        end_ms -= end_ms % MINUTE_MS
        rng = np.random.default_rng(self._seed)
        for coin in (list(coins) if coins is not None else self.coins):
            if any(self._times.get((coin, i)) for i in self.intervals):
                raise ValueError(f"{coin} already has candles; seed before ticking")
            closes = self.mids[coin] * np.exp(np.cumsum(rng.normal(0.0, 0.002, minutes)))
            opens = np.r_[self.mids[coin], closes[:-1]]
            spread = 1 + np.abs(rng.normal(0.0, 0.001, (2, minutes)))
            one_min = pd.DataFrame({
                "o": opens, "c": closes,
                "h": np.maximum(opens, closes) * spread[0], "l": np.minimum(opens, closes) / spread[1],
                "v": np.round(rng.uniform(1.0, 100.0, minutes), 6), "n": rng.integers(1, 50, minutes),
            }, index=end_ms - MINUTE_MS * np.arange(minutes, 0, -1))
            for col in "ohlc":
                one_min[col] = [round_price(x) for x in one_min[col]]
            one_min["h"] = one_min[["o", "h", "l", "c"]].max(axis=1)
            one_min["l"] = one_min[["o", "h", "l", "c"]].min(axis=1)
            for interval in self.intervals:
                period = INTERVAL_MS[interval]
                bars = one_min.groupby(one_min.index - one_min.index % period).agg(
                    o=("o", "first"), h=("h", "max"), l=("l", "min"), c=("c", "last"), v=("v", "sum"), n=("n", "sum"))
                times, store = self._series(coin, interval)
                for t, row in zip(bars.index, bars.itertuples(index=False), strict=True):
                    times.append(int(t))
                    store.append(FakeCandle(coin, interval, int(t), float(row.o), float(row.h), float(row.l),
                                            float(row.c), round(float(row.v), 6), int(row.n)))
            self.mids[coin] = float(one_min["c"].iloc[-1])

    def snapshot(self, coin: str, interval: str, start_ms: int, end_ms: int, limit: int) -> list[FakeCandle]:
        """Bars overlapping [start_ms, end_ms], oldest first, at most `limit` (as candleSnapshot)."""
        times, bars = self._series(coin, interval)
        first = bisect.bisect_left(times, start_ms - INTERVAL_MS[interval] + 1)
        last = bisect.bisect_right(times, end_ms)
        return bars[first:min(last, first + limit)]

    def latest(self, coin: str, interval: str) -> FakeCandle | None:
        bars = self._bars.get((coin, interval))
        return bars[-1] if bars else None

    def frame(self, coin: str, interval: str) -> pd.DataFrame:
        """Every stored bar as a standard candle frame, to compare with what a client holds."""
        _, bars = self._series(coin, interval)
        index = pd.DatetimeIndex(pd.to_datetime([b.t for b in bars], unit="ms", utc=True), name="timestamp")
        return pd.DataFrame({"open": [b.o for b in bars], "high": [b.h for b in bars], "low": [b.l for b in bars],
                             "close": [b.c for b in bars], "volume": [b.v for b in bars]},
                            index=index.as_unit("ns"), dtype="float64")

    def _series(self, coin: str, interval: str) -> tuple[list[int], list[FakeCandle]]:
        key = (coin, interval)
        if key not in self._times:
            self._times[key], self._bars[key] = [], []
        return self._times[key], self._bars[key]
