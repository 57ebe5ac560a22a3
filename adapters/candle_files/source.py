"""Candles and funding rates for a backtest from a Parquet file or a folder a person points at.

Two namings are understood: {EXCHANGE}_{SYMBOL}_{TIMEFRAME}.parquet (shared data, freqtrade
conversions) and {SYMBOL}_{TIMEFRAME}.parquet (our candle cache); funding files are
{EXCHANGE}_{SYMBOL}_{PERIOD}_funding.parquet. A symbol may be asked for as the file names it
(BTCUSDT), with its exchange (BINANCEUSDM_BTCUSDT) or by its base coin (BTC). When several
exchanges have it, perpetual futures win (SixBTC trades perps), and the choice is logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from adapters.parquet.loader import load_candles, match_name
from application.ports.market_data import UnknownSymbol
from domain.candles import TIMEFRAME_MINUTES, parse_timestamps

logger = logging.getLogger(__name__)

QUOTES = ("USDT", "USDC", "BUSD", "USD")
PERPETUAL_HINTS = ("USDM", "PERP", "HYPERLIQUID", "FUTURES")
_FUNDING = re.compile(r"^(?P<exchange>[A-Za-z0-9]+)_(?P<symbol>.+)_(?P<period>\d+[a-z]+)_funding\.parquet$")


class DataFile(NamedTuple):
    exchange: str
    symbol: str
    timeframe: str
    path: Path


def candle_files(root: Path) -> list[DataFile]:
    """The candle files at `root` (a file or a folder), in either naming."""
    paths = [root] if root.is_file() else sorted(root.glob("*.parquet")) if root.is_dir() else []
    if not paths:
        raise FileNotFoundError(f"no Parquet candle file or folder at {root}")
    found = []
    for path in paths:
        named = match_name(path)
        if named is not None:
            found.append(DataFile(named.exchange, named.symbol, named.timeframe, path))
            continue
        symbol, _, timeframe = path.stem.rpartition("_")
        if symbol and timeframe in TIMEFRAME_MINUTES:
            found.append(DataFile("", symbol, timeframe, path))
    if root.is_file() and not found:
        raise UnknownSymbol(f"{root.name} is not named {{EXCHANGE}}_{{SYMBOL}}_{{TIMEFRAME}}.parquet")
    return found


def pick(wanted: str, files: Iterable[DataFile]) -> DataFile | None:
    """The file for `wanted` (BTC, BTCUSDT or BINANCEUSDM_BTCUSDT), preferring perpetuals."""
    key = wanted.upper()
    matches = [f for f in files
               if key in (f.symbol.upper(), f"{f.exchange}_{f.symbol}".upper())
               or any(f.symbol.upper() == key + quote for quote in QUOTES)]
    if not matches:
        return None
    matches.sort(key=lambda f: (not any(h in f.exchange.upper() for h in PERPETUAL_HINTS), f.exchange, f.symbol))
    if len(matches) > 1:
        logger.info("%s: using %s (also found: %s)", wanted, matches[0].path.name,
                    ", ".join(m.path.name for m in matches[1:]))
    return matches[0]


class FileCandleSource:
    def __init__(self, root: str | Path, defaults: Sequence[str] = ()) -> None:
        self._root = Path(root)
        self._defaults = tuple(defaults)

    def load(self, symbol: str, timeframe: str) -> pd.DataFrame:
        files = candle_files(self._root)
        chosen = pick(symbol, [f for f in files if f.timeframe == timeframe])
        if chosen is None:
            there = ", ".join(sorted({f"{f.symbol} {f.timeframe}" for f in files})) or "nothing"
            raise UnknownSymbol(f"{symbol} {timeframe}: no candle file in {self._root}; there is: {there}")
        return load_candles(chosen.path)

    def default_symbols(self, timeframe: str) -> list[str]:
        files = [f for f in candle_files(self._root) if f.timeframe == timeframe]
        if self._root.is_file():
            return [f.symbol for f in files]
        configured = [s for s in self._defaults if pick(s, files) is not None]
        return configured or sorted({f.symbol for f in files})


class FileFundingSource:
    def __init__(self, root: str | Path) -> None:
        self._root = Path(root)
        if not self._root.exists():
            raise FileNotFoundError(f"no funding file or folder at {self._root}")

    def rates(self, symbol: str) -> pd.Series | None:
        paths = [self._root] if self._root.is_file() else sorted(self._root.glob("*_funding.parquet"))
        files = []
        for path in paths:
            named = _FUNDING.match(path.name)
            if named is not None:
                files.append(DataFile(named["exchange"], named["symbol"], named["period"], path))
        chosen = pick(symbol, files)
        if chosen is None:
            logger.warning("no funding rates for %s in %s: its positions pay none", symbol, self._root)
            return None
        table = pd.read_parquet(chosen.path)
        return pd.Series(table["rate"].to_numpy(dtype=float), index=parse_timestamps(table["timestamp"]),
                         name="rate").sort_index()
