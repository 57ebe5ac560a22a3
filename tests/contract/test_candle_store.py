"""The CandleStore contract, run against every adapter: memory and Parquet files."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adapters.memory.candle_store import InMemoryCandleStore
from adapters.parquet.candle_store import ParquetCandleStore
from application.ports.market_data import CacheEntry, CandleStore, UnknownSymbol
from domain.candles import COLUMNS, InvalidCandles, UnknownTimeframe, normalize_candles

T0 = datetime(2025, 1, 1, tzinfo=UTC)
T0_MS = 1_735_689_600_000
HOUR_MS = 3_600_000


@pytest.fixture(params=["memory", "parquet"])
def candle_store(request: pytest.FixtureRequest, tmp_path: Path) -> CandleStore:
    if request.param == "memory":
        return InMemoryCandleStore()
    return ParquetCandleStore(tmp_path / "binance")


def bars(hours: list[int], close: float = 100.0) -> pd.DataFrame:
    """Raw hourly bars as an exchange client hands them over: epoch-ms timestamps."""
    c = close + np.asarray(hours, dtype=float)
    return pd.DataFrame({"timestamp": [T0_MS + h * HOUR_MS for h in hours],
                         "open": c, "high": c + 1, "low": c - 1, "close": c, "volume": np.ones(len(hours))})


def hour(h: float) -> pd.Timestamp:
    return pd.Timestamp(T0) + pd.Timedelta(hours=h)


def test_saved_bars_load_back_in_the_standard_form(candle_store: CandleStore) -> None:
    candle_store.save("BTCUSDT", "1h", bars([2, 0, 1]))
    loaded = candle_store.load("BTCUSDT", "1h")
    pd.testing.assert_frame_equal(loaded, normalize_candles(bars([0, 1, 2])))


def test_save_merges_and_new_rows_win(candle_store: CandleStore) -> None:
    candle_store.save("BTCUSDT", "1h", bars([0, 1, 2, 3]))
    candle_store.save("BTCUSDT", "1h", bars([3, 4, 5], close=1_000.0))
    loaded = candle_store.load("BTCUSDT", "1h")
    assert list(loaded.index) == [hour(h) for h in range(6)]
    assert loaded["close"].tolist() == [100.0, 101.0, 102.0, 1_003.0, 1_004.0, 1_005.0]


def test_older_bars_can_be_prepended(candle_store: CandleStore) -> None:
    candle_store.save("BTCUSDT", "1h", bars([10, 11]))
    candle_store.save("BTCUSDT", "1h", bars([8, 9]))
    assert list(candle_store.load("BTCUSDT", "1h").index) == [hour(h) for h in (8, 9, 10, 11)]


def test_load_range_is_half_open_and_naive_bounds_are_utc(candle_store: CandleStore) -> None:
    candle_store.save("BTCUSDT", "1h", bars(list(range(10))))
    assert list(candle_store.load("BTCUSDT", "1h", start=hour(3), end=hour(6)).index) == [hour(3), hour(4), hour(5)]
    assert list(candle_store.load("BTCUSDT", "1h", start=datetime(2025, 1, 1, 8)).index) == [hour(8), hour(9)]
    assert list(candle_store.load("BTCUSDT", "1h", end=hour(1.5)).index) == [hour(0), hour(1)]
    empty = candle_store.load("BTCUSDT", "1h", start=hour(20))
    assert len(empty) == 0 and list(empty.columns) == list(COLUMNS)


def test_entries_describe_every_series_with_its_gaps(candle_store: CandleStore) -> None:
    candle_store.save("ETHUSDT", "1h", bars([0, 1, 2, 5, 6, 9]))
    candle_store.save("BTCUSDT", "1h", bars([0, 1]))
    candle_store.save("BTCUSDT", "5m", bars([0]))
    assert candle_store.entries() == [
        CacheEntry("BTCUSDT", "5m", T0, T0, 1, 0),
        CacheEntry("BTCUSDT", "1h", T0, hour(1).to_pydatetime(), 2, 0),
        CacheEntry("ETHUSDT", "1h", T0, hour(9).to_pydatetime(), 6, 2),
    ]


def test_unknown_series_raise_and_list_what_is_cached(candle_store: CandleStore) -> None:
    with pytest.raises(UnknownSymbol, match="cached: nothing"):
        candle_store.load("BTCUSDT", "1h")
    candle_store.save("BTCUSDT", "1h", bars([0]))
    with pytest.raises(UnknownSymbol, match="cached: BTCUSDT 1h"):
        candle_store.load("DOGEUSDT", "1h")
    with pytest.raises(UnknownSymbol, match="BTCUSDT 4h"):
        candle_store.load("BTCUSDT", "4h")


def test_invalid_input_is_refused_and_changes_nothing(candle_store: CandleStore) -> None:
    candle_store.save("BTCUSDT", "1h", bars([0]))
    with pytest.raises(InvalidCandles):
        candle_store.save("BTCUSDT", "1h", bars([1]).drop(columns=["volume"]))
    with pytest.raises(UnknownTimeframe):
        candle_store.save("BTCUSDT", "7m", bars([1]))
    assert len(candle_store.load("BTCUSDT", "1h")) == 1
    assert [e.timeframe for e in candle_store.entries()] == ["1h"]


def test_saving_nothing_stores_nothing(candle_store: CandleStore) -> None:
    candle_store.save("BTCUSDT", "1h", bars([]))
    assert candle_store.entries() == []


def test_loaded_frames_are_copies(candle_store: CandleStore) -> None:
    candle_store.save("BTCUSDT", "1h", bars([0, 1]))
    loaded = candle_store.load("BTCUSDT", "1h")
    loaded.iloc[0, 0] = -1.0
    loaded["close"] = 0.0
    assert candle_store.load("BTCUSDT", "1h")["open"].tolist() == [100.0, 101.0]


def test_saved_frames_are_copies(candle_store: CandleStore) -> None:
    frame = normalize_candles(bars([0, 1]))
    candle_store.save("BTCUSDT", "1h", frame)
    frame.iloc[0, 0] = -1.0
    assert candle_store.load("BTCUSDT", "1h")["open"].tolist() == [100.0, 101.0]


def test_symbols_with_exchange_punctuation_round_trip(candle_store: CandleStore) -> None:
    candle_store.save("BTC/USDT:USDT", "1h", bars([0]))
    candle_store.save("1000PEPE_USDT", "1h", bars([0]))
    assert [e.symbol for e in candle_store.entries()] == ["1000PEPE_USDT", "BTC/USDT:USDT"]
    assert len(candle_store.load("BTC/USDT:USDT", "1h")) == 1


def test_the_synthetic_label_survives_the_store(candle_store: CandleStore) -> None:
    frame = bars([0, 1])
    frame.attrs.update(synthetic=True, source="synthetic")
    candle_store.save("BTCUSDT", "1h", frame)
    candle_store.save("BTCUSDT", "1h", bars([2]))
    loaded = candle_store.load("BTCUSDT", "1h", start=hour(1))
    assert loaded.attrs["synthetic"] is True and loaded.attrs["source"] == "synthetic"


def test_concurrent_saves_to_one_series_lose_nothing(candle_store: CandleStore) -> None:
    chunks = [list(range(i * 10, i * 10 + 10)) for i in range(8)]
    threads = [threading.Thread(target=candle_store.save, args=("BTCUSDT", "1h", bars(c))) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert candle_store.entries() == [CacheEntry("BTCUSDT", "1h", T0, hour(79).to_pydatetime(), 80, 0)]
