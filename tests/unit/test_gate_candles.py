"""Research and classification read the candles the history download keeps, not only a hand-made folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from adapters.parquet.candle_store import ParquetCandleStore
from adapters.parquet.loader import load_candles
from entrypoints.generation import candle_folder, gate_candles
from entrypoints.market_data import candle_cache
from entrypoints.settings import Settings

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ohlcv"


def settings(data: Path) -> Settings:
    return Settings.model_validate({"system": {"data_dir": str(data)},
                                    "trading": {"symbols": ["BTC", "ETH"], "timeframes": ["1h"]}})


def real_btc() -> pd.DataFrame:
    return load_candles(SHARED / "BINANCEUSDM_BTCUSDT_1h.parquet").iloc[-500:]


def test_the_download_cache_under_data_dir_feeds_the_gate(tmp_path: Path) -> None:
    config = settings(tmp_path / "data")
    candle_cache(config).save("BTC", "1h", real_btc())
    source = gate_candles(config, config.system.data_dir, 30)
    loaded = source.load("BTC", "1h")
    pd.testing.assert_series_equal(loaded["close"], real_btc()["close"], check_freq=False, check_names=False)
    assert len(source.load("ETH", "1h")) > 0  # not downloaded: the synthetic market fills in


def test_a_folder_of_its_own_candle_files_wins_over_the_cache(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ParquetCandleStore(data / "binance").save("BTC", "1h", real_btc())
    ParquetCandleStore(data).save("BTC", "1h", real_btc().iloc[-100:])
    assert candle_folder(data) == data
    assert len(gate_candles(settings(data), str(data), 30).load("BTC", "1h")) == 100


def test_no_data_folder_at_all_is_the_synthetic_market(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert candle_folder(missing) == missing
    assert len(gate_candles(settings(missing), str(missing), 30).load("BTC", "1h")) > 0
