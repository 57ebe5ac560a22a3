"""The backtest engine on vectorbt: one column per symbol, long and short, our execution rules.

Frames go in, plain data comes out (trades, equity, metrics): no vectorbt object crosses the
port. The simulation itself is vectorbt's `simulate_from_signals_nb` (what
`Portfolio.from_signals` runs), called directly with the arrays laid out by layout.py, one
symbol at a time, so the time a backtest takes is vectorbt's own plus a few array passes over
data that is still in cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from adapters.vectorbt.kernel import simulate
from adapters.vectorbt.layout import Columns, build_layout
from adapters.vectorbt.outputs import Trades, assemble
from adapters.vectorbt.records import BLOWN, TRADE_CODES, TRADE_FLOATS, TRADE_INTS, read_column
from domain.backtest import PRICE_COLUMNS, AccountBlown, BacktestRun, Costs, funding_per_bar
from domain.candles import timeframe_delta
from domain.signal_frame import FLAG_COLUMNS, VALUE_COLUMNS


class EngineInconsistency(RuntimeError):
    """vectorbt produced an order the layout cannot explain: a bug here, never the strategy's fault."""


class VectorbtBacktestEngine:
    """`threads` > 1 splits the symbols into that many groups simulated side by side.

    The simulation is numba code that releases the GIL, and symbols are independent, so on a
    machine with spare cores a backtest takes a fraction of the time. Keep 1 where backtests
    already run in parallel processes.
    """

    def __init__(self, threads: int = 1) -> None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        self._threads = threads
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="vectorbt") if threads > 1 else None

    def run(
        self,
        candles: Mapping[str, pd.DataFrame],
        signals: Mapping[str, pd.DataFrame],
        *,
        timeframe: str,
        costs: Costs,
        funding: Mapping[str, pd.Series] | None = None,
    ) -> BacktestRun:
        symbols = list(candles)
        if not symbols or set(symbols) != set(signals):
            raise ValueError(f"candles ({sorted(candles)}) and signals ({sorted(signals)}) must name the same symbols")
        indexes = [candles[s].index for s in symbols]
        for symbol, index in zip(symbols, indexes, strict=True):
            if not signals[symbol].index.equals(index):
                raise ValueError(f"{symbol}: signals are not on the candles' index")
        n_bars = np.array([len(i) for i in indexes], dtype=np.int64)
        columns = [_columns(candles[s], signals[s]) for s in symbols]
        due = [_funding(symbol, indexes[j], timeframe, funding) for j, symbol in enumerate(symbols)]
        init_cash = np.full(len(symbols), costs.initial_capital / len(symbols))
        groups = list(np.array_split(np.arange(len(symbols)), min(self._threads, len(symbols))))
        longest = int(n_bars.max())
        # One row per symbol plus the total: the equity frame wraps this array without a copy.
        equity = np.full((len(symbols) + 1, longest), np.nan) if (n_bars < longest).any() else np.empty(
            (len(symbols) + 1, longest))

        def simulate_group(group: np.ndarray) -> list[tuple[int, int, Trades]]:
            return [_backtest_symbol(columns[j], due[j], init_cash[j:j + 1], costs, stamps[j], bar_ns, equity[j])
                    for j in group]

        known: dict[int, np.ndarray] = {}  # symbols usually share one index object
        stamps = [known[id(i)] if id(i) in known else known.setdefault(id(i), _stamps(i)) for i in indexes]
        bar_ns = timeframe_delta(timeframe).value
        per_group = list(self._pool.map(simulate_group, groups)) if self._pool else [simulate_group(groups[0])]
        results = [result for group in per_group for result in group]  # symbol by symbol
        for column, (status, bar, _) in enumerate(results):
            if status < 0:
                where = f"{symbols[column]} at {indexes[column][bar] if bar >= 0 else 'the end'}"
                if status == BLOWN:
                    raise AccountBlown(f"{where}: the sleeve's equity would go below zero (a short it cannot cover)")
                raise EngineInconsistency(f"{where}: vectorbt order records do not match the layout")
        trades = [r[2] for r in results]
        joined = Trades(*(np.concatenate(parts, axis=1) for parts in zip(*trades, strict=True)))
        symbol = np.repeat(np.arange(len(symbols)), [t.codes.shape[1] for t in trades])
        return assemble(symbols, indexes, n_bars, equity, joined, symbol, init_cash, timeframe)


def _backtest_symbol(mine: Columns, due: np.ndarray, init_cash: np.ndarray, costs: Costs, stamps: np.ndarray,
                     bar_ns: int, equity: np.ndarray) -> tuple[int, int, Trades]:
    """(status, bar, trades) of one symbol, laid out, simulated and read in one go.

    One symbol at a time: its layout (about 1 MB for a year of 15m bars) is still in cache when
    vectorbt reads it, and its inputs when records.py does, where the layout of all symbols
    would have gone out to memory and been fetched back twice. `equity`: its row of the curve.
    """
    layout, entries = build_layout([mine], costs.fee_rate)
    orders = simulate(layout, init_cash, costs.fee_rate, costs.slippage, 2 * entries + 1)
    room = len(orders) + 1  # each order closes at most one trade, and one may end open
    trades = Trades(np.empty((len(TRADE_FLOATS), room)), np.empty((len(TRADE_INTS), room), dtype=np.int64),
                    np.empty((len(TRADE_CODES), room), dtype=np.int8))
    status, bar, n_trades = read_column(
        orders, layout.long_entries[0], layout.short_entries[0], mine.open, mine.high, mine.low, mine.close,
        mine.long_entry, mine.short_entry, mine.exit, mine.sl_pct, mine.tp_pct, due, float(init_cash[0]),
        float(costs.slippage), stamps, bar_ns, equity, *trades)
    return status, bar, Trades(*(part[:, :n_trades] for part in trades))


def _stamps(index: pd.Index) -> np.ndarray:
    """Epoch ns of each bar, read-only (see _arrays)."""
    times = index if isinstance(index, pd.DatetimeIndex) else pd.DatetimeIndex(index)
    stamps = np.ascontiguousarray((times if times.unit == "ns" else times.as_unit("ns")).asi8, dtype=np.int64).view()
    stamps.flags.writeable = False
    return stamps


def _columns(candles: pd.DataFrame, signals: pd.DataFrame) -> Columns:
    """A symbol's prices and signals as read-only 1-D arrays: views of the frames where they can be."""
    return Columns(*_arrays(candles, PRICE_COLUMNS, np.float64), *_arrays(signals, FLAG_COLUMNS, np.bool_),
                   *_arrays(signals, VALUE_COLUMNS, np.float64))


def _arrays(frame: pd.DataFrame, names: tuple[str, ...], dtype: type) -> list[np.ndarray]:
    """The named columns, C-contiguous and read-only (so numba always sees one signature).

    `frame[name]` builds a Series per column, ~10 us each in pandas 3: a millisecond per backtest
    of 20 symbols, the price of a whole pass over their bars. pandas' own accessor of one
    column's array costs a fraction of that; labels it cannot serve take the public road.
    """
    get = getattr(frame, "_get_column_array", None)
    arrays = []
    for name in names:
        loc = frame.columns.get_loc(name)
        found = get(loc) if get is not None and isinstance(loc, int) else frame[name].to_numpy(dtype=dtype)
        array = np.ascontiguousarray(found, dtype=dtype).view()
        array.flags.writeable = False
        arrays.append(array)
    return arrays


def _funding(symbol: str, index: pd.Index, timeframe: str, funding: Mapping[str, pd.Series] | None) -> np.ndarray:
    """The rates due per bar, or an empty array when nothing is charged."""
    if funding is None or symbol not in funding:
        return np.zeros(0)
    return funding_per_bar(pd.DatetimeIndex(index), timeframe, funding[symbol])
