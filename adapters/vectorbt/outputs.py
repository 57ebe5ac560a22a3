"""The plain outputs of a backtest (trade frame, equity frame, metrics) from the arrays records.py fills.

This runs once per backtest, after a simulation of a few tens of milliseconds, so its pandas
work is kept to what the outputs need: the dtypes and labels that depend only on the symbols
are made once per set of symbols (a sweep backtests one set thousands of times, and pandas'
string arrays are slow to make), and every frame wraps or copies finished arrays in one go.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd

from domain.backtest import EXIT_REASONS, TOTAL, TRADE_COLUMNS, BacktestRun, bars_per_year
from domain.metrics import HELD_EXIT_BAR, TradeStats, compute_metrics, month_numbers

_NS_PER_HOUR = 3_600_000_000_000
_HELD = np.array([HELD_EXIT_BAR[r] for r in EXIT_REASONS])
_SIDES = pd.CategoricalDtype(["long", "short"])
_REASONS = pd.CategoricalDtype(list(EXIT_REASONS))
_TRADE_COLUMNS = pd.Index(list(TRADE_COLUMNS))


class Trades(NamedTuple):
    """A backtest's trades by field (records.TRADE_FLOATS, TRADE_INTS, TRADE_CODES), one column per trade."""

    floats: np.ndarray
    ints: np.ndarray
    codes: np.ndarray


@lru_cache(maxsize=64)
def _labels(symbols: tuple[str, ...]) -> tuple[pd.CategoricalDtype, pd.Index]:
    """The trades' symbol dtype and the equity frame's columns (both immutable, so shared)."""
    return pd.CategoricalDtype(list(symbols)), pd.Index([*symbols, TOTAL])


def assemble(symbols: list[str], indexes: list[pd.Index], n_bars: np.ndarray, equity: np.ndarray, trades: Trades,
             symbol: np.ndarray, init_cash: np.ndarray, timeframe: str) -> BacktestRun:
    """`equity`: a row per symbol, then a spare row that becomes the total; `symbol`: each trade's."""
    m = len(symbols)
    index = _datetime_index(indexes[0])
    if not all(other.equals(index) for other in indexes[1:]):
        # symbols over different periods: each holds its last equity outside its own bars
        for other in indexes[1:]:
            index = index.union(_datetime_index(other))
        parts = {s: pd.Series(equity[j, : n_bars[j]], index=indexes[j]) for j, s in enumerate(symbols)}
        filled = pd.DataFrame(parts).reindex(index).ffill().fillna(dict(zip(symbols, init_cash, strict=True)))
        equity = np.vstack([filled.to_numpy().T, np.empty((1, len(index)))])
    np.sum(equity[:m], axis=0, out=equity[m])
    symbol_dtype, columns = _labels(tuple(symbols))
    curve = pd.DataFrame(equity.T, index=index, columns=columns, copy=False)
    entry_ns, exit_ns, entry_bar, exit_bar = trades.ints
    frame = _trade_frame(symbol_dtype, symbol, trades)
    stats = TradeStats(
        row=np.zeros(len(symbol), dtype=np.int64), pnl=trades.floats[5], ret=trades.floats[6],
        hours=(exit_ns - entry_ns) / _NS_PER_HOUR, held_bars=exit_bar - entry_bar + _HELD[trades.codes[1]],
    )
    capital = float(init_cash.sum())
    metrics = compute_metrics(equity[m:], np.array([capital]), month_numbers(index), bars_per_year(timeframe),
                              stats, np.array([n_bars.sum()]))[0]
    return BacktestRun(trades=frame, equity=curve, metrics=metrics, timeframe=timeframe, initial_capital=capital,
                       bars=dict(zip(symbols, n_bars.tolist(), strict=True)))


def _datetime_index(index: pd.Index) -> pd.DatetimeIndex:
    return index if isinstance(index, pd.DatetimeIndex) else pd.DatetimeIndex(index)


def _trade_frame(symbol_dtype: pd.CategoricalDtype, symbol: np.ndarray, trades: Trades) -> pd.DataFrame:
    """TRADE_COLUMNS. The codes are valid by construction, so pandas need not check them, and the
    columns go in as finished arrays: pandas' private `_from_arrays` takes them as they are, at half
    the cost of the public constructor, which stays as the road when a pandas lacks it."""
    floats, ints, codes = trades
    columns = {
        "symbol": pd.Categorical.from_codes(symbol, dtype=symbol_dtype, validate=False),
        "side": pd.Categorical.from_codes(codes[0], dtype=_SIDES, validate=False),
        "entry_time": pd.DatetimeIndex(ints[0].view("M8[ns]"), tz="UTC"),
        "entry_price": floats[0],
        "exit_time": pd.DatetimeIndex(ints[1].view("M8[ns]"), tz="UTC"),
        "exit_price": floats[1],
        "quantity": floats[2],
        "fees": floats[3],
        "funding": floats[4],
        "pnl": floats[5],
        "return": floats[6],
        "exit_reason": pd.Categorical.from_codes(codes[1], dtype=_REASONS, validate=False),
        "entry_bar": ints[2],
        "exit_bar": ints[3],
    }
    from_arrays = getattr(pd.DataFrame, "_from_arrays", None)
    if from_arrays is None:
        return pd.DataFrame(columns, columns=list(TRADE_COLUMNS))
    return from_arrays([columns[c] for c in TRADE_COLUMNS], columns=_TRADE_COLUMNS,
                       index=pd.RangeIndex(len(symbol)), verify_integrity=False)
