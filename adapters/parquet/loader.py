"""Reading candle Parquet files written by anyone (freqtrade conversions, our cache, other tools).

Whatever is on disk becomes the standard frame of domain/candles.py or a CorruptCacheFile naming
the file: a half-readable file must stop the caller, not turn into a shorter history.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from application.ports.market_data import CorruptCacheFile, MarketDataError
from domain.candles import TIMEFRAME_MINUTES, InvalidCandles, normalize_candles, parse_timestamps

logger = logging.getLogger(__name__)

ATTRS_KEY = b"sixbtc.attrs"  # schema metadata holding the frame's attrs (e.g. the synthetic label)
_NAME = re.compile(r"^(?P<exchange>[A-Za-z0-9]+)_(?P<symbol>.+)_(?P<timeframe>\d+[A-Za-z]+)\.parquet$")


class UnrecognisedFileName(MarketDataError):
    """A file name that is not {EXCHANGE}_{SYMBOL}_{TIMEFRAME}.parquet with a known timeframe."""


class CandleFileName(NamedTuple):
    exchange: str
    symbol: str
    timeframe: str


def match_name(filename: str | Path) -> CandleFileName | None:
    """The parts of a candle file's name, or None when it is some other file."""
    found = _NAME.match(Path(filename).name)
    if found is None or found["timeframe"] not in TIMEFRAME_MINUTES:
        return None
    return CandleFileName(found["exchange"], found["symbol"], found["timeframe"])


def parse_name(filename: str | Path) -> CandleFileName:
    """Split BINANCEUSDM_BTCUSDT_1h.parquet (or PERP_BTC_1m.parquet) into its three parts."""
    parsed = match_name(filename)
    if parsed is None:
        raise UnrecognisedFileName(
            f"{Path(filename).name!r} is not {{EXCHANGE}}_{{SYMBOL}}_{{TIMEFRAME}}.parquet "
            f"with a timeframe in {', '.join(TIMEFRAME_MINUTES)}"
        )
    return parsed


def load_candles(path: str | Path) -> pd.DataFrame:
    """The standard candle frame stored in `path`; attrs saved with it are restored."""
    table = _read(Path(path), only=None)
    try:
        frame = normalize_candles(table.to_pandas())
    except InvalidCandles as exc:
        raise CorruptCacheFile(path, f"not a candle table: {exc}") from exc
    frame.attrs = _attrs_of(Path(path), table.schema)
    return frame


def load_timestamps(path: str | Path) -> pd.DatetimeIndex:
    """Only the open times of a candle file (sorted, unique, UTC): enough to describe it, cheaply."""
    column = _read(Path(path), only="timestamp").column(0).to_pandas()
    try:
        stamps = parse_timestamps(column)
    except InvalidCandles as exc:
        raise CorruptCacheFile(path, str(exc)) from exc
    if stamps.hasnans:
        raise CorruptCacheFile(path, "rows without a timestamp")
    return pd.DatetimeIndex(stamps.unique()).sort_values()


def load_folder(folder: str | Path) -> dict[CandleFileName, pd.DataFrame]:
    """Every candle file of a folder by (exchange, symbol, timeframe); other files are skipped.

    Keys are CandleFileName tuples, so a plain (exchange, symbol, timeframe) tuple finds them.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"no candle folder at {root}")
    frames: dict[CandleFileName, pd.DataFrame] = {}
    for path in sorted(root.glob("*.parquet")):
        key = match_name(path)
        if key is None:
            logger.warning("skipping %s: not named {EXCHANGE}_{SYMBOL}_{TIMEFRAME}.parquet", path)
            continue
        frames[key] = load_candles(path)
    return frames


def _read(path: Path, only: str | None) -> pa.Table:
    """The table (or its one column named `only`, any case) read through ONE open file handle.

    Opening by path lets pyarrow open the file twice (footer, then data); a writer replacing the
    file in between would pair one file's footer with another's pages and look like corruption.
    """
    if not path.is_file():
        raise FileNotFoundError(f"no candle file at {path}")
    with path.open("rb") as handle:
        try:
            parquet = pq.ParquetFile(handle)
            columns = None
            if only is not None:
                names = {name.lower(): name for name in parquet.schema_arrow.names}
                if only not in names:
                    raise CorruptCacheFile(path, f"no {only} column")
                columns = [names[only]]
            return parquet.read(columns=columns)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise CorruptCacheFile(path, f"unreadable Parquet ({type(exc).__name__}: {exc})") from exc


def _attrs_of(path: Path, schema: pa.Schema) -> dict[str, object]:
    raw = (schema.metadata or {}).get(ATTRS_KEY)
    if raw is None:
        return {}
    try:
        attrs = json.loads(raw)
    except ValueError as exc:
        raise CorruptCacheFile(path, f"unreadable attrs metadata: {exc}") from exc
    if not isinstance(attrs, dict):
        raise CorruptCacheFile(path, "attrs metadata is not a JSON object")
    return attrs
