"""`sixbtc data download | status | check` as a user runs them, against the local Binance fake."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.parquet.candle_store import ParquetCandleStore
from adapters.synthetic.market import synthetic_candles
from tests.conftest import SHARED_DATA
from tests.fakes.binance import FakeBinanceFutures

REPO = Path(__file__).resolve().parents[2]


def sixbtc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIXBTC_")}
    return subprocess.run([sys.executable, "-m", "entrypoints.cli.main", *args], capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(REPO)}, cwd=cwd, timeout=180)


@pytest.fixture
def fake() -> Iterator[FakeBinanceFutures]:
    now = datetime.now(UTC)
    frames = {(f"{coin}USDT", "1h"): synthetic_candles(coin, "1h", now - timedelta(days=20), now, seed=5)
              for coin in ("BTC", "ETH")}
    with FakeBinanceFutures(data_dir=None, frames=frames) as server:
        yield server


@pytest.fixture
def workdir(tmp_path: Path, fake: FakeBinanceFutures) -> Path:
    config = (REPO / "config" / "config.yaml").read_text()
    config = config.replace('binance_base_url: ""', f'binance_base_url: "{fake.url}"')
    config = config.replace("file: logs/sixbtc.log", 'file: ""')
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(config)
    return tmp_path


def test_download_then_status_then_incremental(workdir: Path, fake: FakeBinanceFutures) -> None:
    first = sixbtc("data", "download", "--symbols", "BTC,ETH", "--timeframes", "1h", "--days", "5", cwd=workdir)
    assert first.returncode == 0, first.stderr
    store = ParquetCandleStore(workdir / "data" / "binance")
    assert {(e.symbol, e.timeframe) for e in store.entries()} == {("BTC", "1h"), ("ETH", "1h")}
    assert all(e.rows >= 5 * 24 - 1 and e.gaps == 0 for e in store.entries())

    status = sixbtc("data", "status", cwd=workdir)
    assert status.returncode == 0 and "BTC" in status.stdout and "ETH" in status.stdout

    fake.reset_log()
    again = sixbtc("data", "download", "--symbols", "BTC", "--timeframes", "1h", "--days", "5", cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert len(fake.kline_requests) <= 1  # only the bar(s) that closed since the first run


def test_unknown_symbol_and_timeframe_are_clear_errors(workdir: Path) -> None:
    bad_symbol = sixbtc("data", "download", "--symbols", "NOPE", "--timeframes", "1h", "--days", "1", cwd=workdir)
    assert bad_symbol.returncode == 2 and "NOPE" in bad_symbol.stderr and "BTC" in bad_symbol.stderr
    bad_tf = sixbtc("data", "download", "--symbols", "BTC", "--timeframes", "7m", "--days", "1", cwd=workdir)
    assert bad_tf.returncode == 2 and "7m" in bad_tf.stderr and "15m" in bad_tf.stderr


@pytest.mark.skipif(not (SHARED_DATA / "ohlcv").is_dir(), reason="../shared/data/ohlcv is not beside the repo")
def test_check_reports_the_quality_of_real_files(tmp_path: Path) -> None:
    good = sixbtc("data", "check", str(SHARED_DATA / "ohlcv" / "BINANCEUSDM_BTCUSDT_1h.parquet"), "--timeframe", "1h",
                  cwd=REPO)
    assert good.returncode == 0 and "yes" in good.stdout
    gappy = sixbtc("data", "check", str(SHARED_DATA / "ohlcv" / "BINANCE_ADABTC_5m.parquet"), "--timeframe", "5m",
                   cwd=REPO)
    assert gappy.returncode == 1 and "gap" in gappy.stdout
