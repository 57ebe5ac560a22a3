"""What only the Parquet adapters promise: file names, file format, crash safety, corrupt files."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adapters.local import atomic_file as atomic_file_module
from adapters.parquet.candle_store import ParquetCandleStore
from adapters.parquet.loader import (
    CandleFileName,
    UnrecognisedFileName,
    load_candles,
    load_folder,
    parse_name,
)
from application.ports.market_data import CorruptCacheFile, MarketDataError
from tests.contract.test_candle_store import T0_MS, bars


@pytest.mark.parametrize(("name", "parts"), [
    ("BINANCEUSDM_BTCUSDT_1h.parquet", ("BINANCEUSDM", "BTCUSDT", "1h")),
    ("PERP_BTC_1m.parquet", ("PERP", "BTC", "1m")),
    ("/some/dir/BINANCE_1000PEPE_USDT_15m.parquet", ("BINANCE", "1000PEPE_USDT", "15m")),
])
def test_file_names_split_into_exchange_symbol_timeframe(name: str, parts: tuple[str, str, str]) -> None:
    assert parse_name(name) == CandleFileName(*parts)


@pytest.mark.parametrize("name", ["BINANCEUSDM_BTCUSDT_8h_funding.parquet", "BTCUSDT_1h.parquet",
                                  "BINANCE_BTCUSDT_7m.parquet", "BINANCE_BTCUSDT_1h.csv"])
def test_other_names_are_refused(name: str) -> None:
    with pytest.raises(UnrecognisedFileName, match=name.split("/")[-1]):
        parse_name(name)


def test_store_files_are_plain_parquet_named_symbol_timeframe(tmp_path: Path) -> None:
    ParquetCandleStore(tmp_path).save("BTCUSDT", "1h", bars([1, 0]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["BTCUSDT_1h.parquet"]
    table = pq.read_table(tmp_path / "BTCUSDT_1h.parquet")
    assert table.schema.field("timestamp").type == pa.int64()
    assert table.column("timestamp").to_pylist() == [T0_MS, T0_MS + 3_600_000]
    assert all(table.schema.field(c).type == pa.float64() for c in ("open", "high", "low", "close", "volume"))


def test_loader_reads_timestamps_stored_as_arrow_timestamps(tmp_path: Path) -> None:
    frame = bars([0, 1])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="ms", utc=True)
    frame.rename(columns={"close": "Close"}).to_parquet(tmp_path / "X_BTC_1h.parquet")
    loaded = load_candles(tmp_path / "X_BTC_1h.parquet")
    assert loaded.index[0] == pd.Timestamp("2025-01-01", tz="UTC") and loaded["close"].tolist() == [100.0, 101.0]


def test_load_folder_keys_by_name_and_skips_other_files(tmp_path: Path) -> None:
    bars([0]).to_parquet(tmp_path / "BINANCE_BTCUSDT_1h.parquet")
    bars([0, 1]).to_parquet(tmp_path / "PERP_BTC_1m.parquet")
    pd.DataFrame({"timestamp": [T0_MS], "rate": [0.0001]}).to_parquet(tmp_path / "BINANCE_BTCUSDT_8h_funding.parquet")
    frames = load_folder(tmp_path)
    assert set(frames) == {("BINANCE", "BTCUSDT", "1h"), ("PERP", "BTC", "1m")}
    assert len(frames["PERP", "BTC", "1m"]) == 2


def test_a_file_without_candle_columns_is_reported_as_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "BINANCE_BTCUSDT_1h.parquet"
    bars([0]).drop(columns=["low"]).to_parquet(path)
    with pytest.raises(CorruptCacheFile, match=r"BINANCE_BTCUSDT_1h\.parquet.*low"):
        load_candles(path)


def test_a_missing_file_is_not_called_corrupt(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_candles(tmp_path / "BINANCE_BTCUSDT_1h.parquet")


def test_a_corrupt_cache_file_is_reported_and_never_overwritten(tmp_path: Path) -> None:
    store = ParquetCandleStore(tmp_path)
    store.save("BTCUSDT", "1h", bars([0, 1, 2]))
    path = store.path_for("BTCUSDT", "1h")
    damaged = path.read_bytes()[: path.stat().st_size // 2]
    path.write_bytes(damaged)
    with pytest.raises(CorruptCacheFile, match=r"BTCUSDT_1h\.parquet") as caught:
        store.load("BTCUSDT", "1h")
    assert caught.value.path == str(path) and isinstance(caught.value, MarketDataError)
    with pytest.raises(CorruptCacheFile):
        store.save("BTCUSDT", "1h", bars([3]))
    with pytest.raises(CorruptCacheFile):
        store.entries()
    assert path.read_bytes() == damaged


def test_a_crash_while_writing_leaves_the_old_file_and_no_debris(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    store = ParquetCandleStore(tmp_path)
    store.save("BTCUSDT", "1h", bars([0, 1]))
    before = store.path_for("BTCUSDT", "1h").read_bytes()

    def power_cut(fd: int) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(atomic_file_module.os, "fsync", power_cut)
    with pytest.raises(OSError, match="disk gone"):
        store.save("BTCUSDT", "1h", bars([2, 3]))
    monkeypatch.undo()
    assert store.path_for("BTCUSDT", "1h").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["BTCUSDT_1h.parquet"]
    assert len(store.load("BTCUSDT", "1h")) == 2


def test_readers_never_see_a_half_written_file(tmp_path: Path) -> None:
    store = ParquetCandleStore(tmp_path)
    store.save("BTCUSDT", "1m", bars([0]))
    failures: list[BaseException] = []
    done = threading.Event()

    def read_until_done() -> None:
        while not done.is_set():
            try:
                store.load("BTCUSDT", "1m")
                store.entries()
            except Exception as exc:
                failures.append(exc)
                return

    readers = [threading.Thread(target=read_until_done) for _ in range(3)]
    for r in readers:
        r.start()
    for i in range(1, 40):
        store.save("BTCUSDT", "1m", bars(list(range(i * 50, i * 50 + 50))))
    done.set()
    for r in readers:
        r.join()
    assert failures == []
    assert store.entries()[0].rows == 1 + 39 * 50


def test_store_files_keep_their_permissions_readable(tmp_path: Path) -> None:
    store = ParquetCandleStore(tmp_path)
    store.save("BTCUSDT", "1h", bars([0]))
    assert os.stat(store.path_for("BTCUSDT", "1h")).st_mode & 0o444 == 0o444
    assert np.isfinite(store.load("BTCUSDT", "1h").to_numpy()).all()
