"""Candles and funding for backtests from Parquet files a person points at (adapters/candle_files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adapters.candle_files.source import FileCandleSource, FileFundingSource
from application.ports.market_data import UnknownSymbol


def write(path: Path, start: str, bars: int = 10, price: float = 100.0) -> None:
    stamps = pd.date_range(start, periods=bars, freq="15min", tz="UTC")
    pd.DataFrame({"timestamp": stamps.as_unit("ms").asi8, "open": price, "high": price, "low": price,
                  "close": price, "volume": 1.0}).to_parquet(path)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write(tmp_path / "BINANCE_BTCUSDT_15m.parquet", "2025-01-01", price=1.0)
    write(tmp_path / "BINANCEUSDM_BTCUSDT_15m.parquet", "2025-02-01", price=2.0)
    write(tmp_path / "ETH_15m.parquet", "2025-03-01", price=3.0)
    write(tmp_path / "BINANCE_SOLUSDT_1h.parquet", "2025-04-01")
    (tmp_path / "notes.txt").write_text("not candles")
    return tmp_path


def test_symbols_resolve_by_coin_file_symbol_or_exchange_and_perpetuals_win(folder: Path) -> None:
    source = FileCandleSource(folder, defaults=["BTC", "DOGE"])
    assert source.load("BTC", "15m")["close"].iloc[0] == 2.0                   # the perpetual file
    assert source.load("BINANCE_BTCUSDT", "15m")["close"].iloc[0] == 1.0       # asked by exchange
    assert source.load("eth", "15m")["close"].iloc[0] == 3.0                   # the cache's naming
    assert isinstance(source.load("BTCUSDT", "15m").index, pd.DatetimeIndex)
    assert source.default_symbols("15m") == ["BTC"]                            # configured ones found
    assert FileCandleSource(folder).default_symbols("1h") == ["SOLUSDT"]       # else what is there


def test_a_missing_symbol_names_what_there_is(folder: Path) -> None:
    with pytest.raises(UnknownSymbol, match=r"XRP 15m: no candle file .* there is: BTCUSDT 15m, ETH 15m"):
        FileCandleSource(folder).load("XRP", "15m")
    with pytest.raises(FileNotFoundError):
        FileCandleSource(folder / "missing").load("BTC", "15m")


def test_a_single_file_is_its_own_default_symbol(folder: Path) -> None:
    source = FileCandleSource(folder / "BINANCE_BTCUSDT_15m.parquet")
    assert source.default_symbols("15m") == ["BTCUSDT"] and len(source.load("BTC", "15m")) == 10


def test_funding_rates_are_read_by_symbol(tmp_path: Path) -> None:
    stamps = pd.date_range("2025-01-01", periods=3, freq="8h", tz="UTC")
    pd.DataFrame({"timestamp": stamps.as_unit("ms").asi8, "rate": [0.0001, -0.0002, 0.0003]}).to_parquet(
        tmp_path / "BINANCEUSDM_BTCUSDT_8h_funding.parquet")
    rates = FileFundingSource(tmp_path).rates("BTC")
    assert rates is not None and rates.index.equals(stamps) and np.allclose(rates, [0.0001, -0.0002, 0.0003])
    assert FileFundingSource(tmp_path).rates("ETH") is None
