"""Every real candle file in the shared data folder loads and is exactly as ohlcv/SOURCES.md says.

Clean files must pass every quality check; the documented defects (gaps in the 2018 excerpts,
zero-volume flat bars on Binance USDⓈ-M) must be found exactly, no more and no fewer.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from adapters.parquet.loader import load_candles, load_folder, parse_name
from domain.candle_quality import quality_report
from domain.candles import COLUMNS, INDEX_DTYPE

FOLDER = Path(__file__).resolve().parents[3] / "shared" / "data" / "ohlcv"
SOURCES = FOLDER / "SOURCES.md"
FILES = sorted(FOLDER.glob("*.parquet")) if FOLDER.is_dir() else []
# The venue-wide trading pauses that SOURCES.md describes in prose, as bar open times (UTC).
PAUSES = {
    "5m": ["2025-01-29 01:25", "2025-01-29 01:30", "2025-08-29 06:20", "2025-08-29 06:25", "2025-08-29 06:30"],
    "15m": ["2024-10-28 20:00", "2024-10-28 20:15", "2024-10-28 20:30", "2024-10-28 20:45"],
}

pytestmark = pytest.mark.skipif(not FILES, reason=f"no real candle files: {FOLDER} is absent or empty")


def documented() -> dict[str, dict[str, str]]:
    """The rows of SOURCES.md's tables, by file name."""
    rows: dict[str, dict[str, str]] = {}
    header = ("file", "tf", "rows", "first", "last", "days", "gaps", "notes", "kib", "source")
    for line in SOURCES.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= len(header) and cells[0].endswith(".parquet"):
            rows[cells[0]] = dict(zip(header, cells, strict=False))
    return rows


@pytest.fixture(scope="module")
def table() -> dict[str, dict[str, str]]:
    if not SOURCES.is_file():
        pytest.skip(f"{SOURCES} is absent: nothing to compare the files with")
    return documented()


def test_every_file_is_documented_and_every_documented_file_exists(table: dict[str, dict[str, str]]) -> None:
    assert sorted(table) == [p.name for p in FILES]


def test_the_folder_loads_in_one_call_keyed_by_name() -> None:
    frames = load_folder(FOLDER)
    assert len(frames) == len(FILES)
    assert len(frames["BINANCE", "BTCUSDT", "5m"]) > 100_000
    assert frames["PERP", "BTC", "1m"].index[0] == pd.Timestamp("2021-12-31 23:01", tz="UTC")
    # A published price: Binance spot BTCUSDT opened 2025 at 93,576.00.
    assert frames["BINANCE", "BTCUSDT", "5m"].loc["2025-01-01 00:00", "open"] == 93_576.0


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_file_matches_its_documentation_exactly(path: Path, table: dict[str, dict[str, str]]) -> None:
    doc = table[path.name]
    name = parse_name(path)
    assert name.timeframe == doc["tf"]

    loaded = load_candles(path)
    assert list(loaded.columns) == list(COLUMNS) and loaded.index.dtype == INDEX_DTYPE

    report = quality_report(pq.read_table(path).to_pandas(), name.timeframe)  # raw rows, as stored
    assert report.rows == len(loaded) == int(doc["rows"])
    assert report.first == pd.Timestamp(doc["first"], tz="UTC")
    assert report.last == pd.Timestamp(doc["last"], tz="UTC")
    assert (report.duplicates, report.non_monotonic, report.misaligned) == (0, 0, 0)
    assert (report.ohlc_violations, report.negative_volume, report.non_positive_prices, report.nan_rows) == (0, 0, 0, 0)

    gaps = re.fullmatch(r"(\d+)(?: \((\d+) bars? missing\))?", doc["gaps"])
    assert gaps is not None, f"unreadable gaps cell {doc['gaps']!r}"
    assert len(report.gaps) == int(gaps[1])
    assert report.missing_bars == int(gaps[2] or 0)
    assert report.ok == (not report.gaps), report.summary()

    zero = re.fullmatch(r"(\d+) zero-volume bars", doc["notes"])
    assert report.zero_volume == (int(zero[1]) if zero else 0), report.summary()
    if report.zero_volume:
        paused = loaded[loaded["volume"] == 0]
        assert list(paused.index) == [pd.Timestamp(t, tz="UTC") for t in PAUSES[name.timeframe]]
        assert (paused[["open", "high", "low"]].to_numpy() == paused[["close"]].to_numpy()).all()
