"""MemoryLiveCandles: the LiveCandles port from frames held in memory."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from adapters.memory.clock import ManualClock
from adapters.memory.live_candles import MemoryLiveCandles
from application.ports.market_data import UnknownSymbol
from domain.candles import COLUMNS, INDEX_DTYPE, TIMESTAMP, normalize_candles

T0 = datetime(2024, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def frame(closes: list[float], start: datetime = T0) -> pd.DataFrame:
    index = pd.date_range(start, periods=len(closes), freq="1min", tz="UTC")
    return pd.DataFrame({"timestamp": index, "open": closes, "high": closes, "low": closes, "close": closes,
                         "volume": 1.0})


def test_frames_given_at_construction_come_back_in_the_standard_form() -> None:
    candles = MemoryLiveCandles({("BTC", "1m"): frame([1.0, 2.0, 3.0])})
    out = candles.get_data("BTC", "1m", 2)
    assert list(out.columns) == list(COLUMNS)
    assert out.index.name == TIMESTAMP and str(out.index.dtype) == INDEX_DTYPE
    assert out["close"].tolist() == [2.0, 3.0]
    assert len(candles.get_data("BTC", "1m", 100)) == 3


def test_readers_get_copies() -> None:
    candles = MemoryLiveCandles({("BTC", "1m"): frame([1.0, 2.0])})
    out = candles.get_data("BTC", "1m", 2)
    out.loc[:, "close"] = 99.0
    assert candles.get_data("BTC", "1m", 2)["close"].tolist() == [1.0, 2.0]


def test_append_adds_bars_and_updates_the_forming_one() -> None:
    clock = ManualClock(T0)
    candles = MemoryLiveCandles(clock=clock)
    candles.append("ETH", "1m", T0, 10.0, 11.0, 9.0, 10.5, 3.0)
    clock.advance(MINUTE)
    candles.append("ETH", "1m", T0 + MINUTE, 10.5, 10.6, 10.4, 10.6)
    candles.append("ETH", "1m", T0 + MINUTE, 10.5, 12.0, 10.4, 11.9)
    out = candles.get_data("ETH", "1m", 5)
    assert out.index.tolist() == [pd.Timestamp(T0), pd.Timestamp(T0 + MINUTE)]
    assert out.iloc[-1].tolist() == [10.5, 12.0, 10.4, 11.9, 0.0]
    assert candles.last_update("ETH", "1m") == T0 + MINUTE
    assert out.equals(normalize_candles(out))


def test_a_late_bar_is_merged_in_order() -> None:
    candles = MemoryLiveCandles({("BTC", "1m"): frame([1.0, 3.0])})
    candles.append("BTC", "1m", T0, 5.0, 5.0, 5.0, 5.0)
    assert candles.get_data("BTC", "1m", 5)["close"].tolist() == [5.0, 3.0]


def test_put_replaces_and_max_rows_bounds_a_series() -> None:
    candles = MemoryLiveCandles(max_rows=2)
    candles.put("BTC", "5m", frame([1.0, 2.0, 3.0]))
    assert candles.get_data("BTC", "5m", 10)["close"].tolist() == [2.0, 3.0]
    candles.append("BTC", "5m", T0 + 10 * MINUTE, 4.0, 4.0, 4.0, 4.0)
    assert candles.get_data("BTC", "5m", 10)["close"].tolist() == [3.0, 4.0]


def test_unknown_keys_and_bad_lookbacks_are_refused() -> None:
    candles = MemoryLiveCandles({("BTC", "1m"): frame([1.0])})
    with pytest.raises(UnknownSymbol, match="BTC 1m"):
        candles.get_data("ETH", "1m", 1)
    with pytest.raises(UnknownSymbol):
        candles.last_update("BTC", "1h")
    with pytest.raises(ValueError):
        candles.get_data("BTC", "1m", 0)


def test_concurrent_appends_and_reads_stay_consistent() -> None:
    candles = MemoryLiveCandles()
    candles.append("BTC", "1m", T0, 1.0, 1.0, 1.0, 1.0)
    errors: list[BaseException] = []

    def write() -> None:
        for n in range(1, 200):
            candles.append("BTC", "1m", T0 + n * MINUTE, n, n, n, n)

    def read() -> None:
        try:
            for _ in range(200):
                out = candles.get_data("BTC", "1m", 10)
                assert out.index.is_monotonic_increasing and out.index.is_unique
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write), *(threading.Thread(target=read) for _ in range(3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(candles.get_data("BTC", "1m", 1000)) == 200
