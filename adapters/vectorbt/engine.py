"""The backtest engine on vectorbt: one column per symbol, long and short, our execution rules.

Frames go in, plain data comes out (trades, equity, metrics): no vectorbt object crosses the
port. The simulation itself is vectorbt's `simulate_from_signals_nb` (what
`Portfolio.from_signals` runs), called directly with the arrays laid out by layout.py, so the
time a backtest takes is vectorbt's own plus a few array passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from adapters.vectorbt.kernel import simulate
from adapters.vectorbt.layout import build_layout, scratch
from adapters.vectorbt.records import BLOWN, read_orders
from domain.backtest import (
    EXIT_REASONS,
    PRICE_COLUMNS,
    TOTAL,
    TRADE_COLUMNS,
    AccountBlown,
    BacktestRun,
    Costs,
    bars_per_year,
    funding_per_bar,
)
from domain.candles import timeframe_delta
from domain.metrics import HELD_EXIT_BAR, TradeStats, compute_metrics, month_numbers
from domain.signal_frame import FLAG_COLUMNS, VALUE_COLUMNS

_NS_PER_HOUR = 3_600_000_000_000
_END = EXIT_REASONS.index("end")
_HELD = np.array([HELD_EXIT_BAR[r] for r in EXIT_REASONS])
_SIDES = pd.CategoricalDtype(["long", "short"])
_REASONS = pd.CategoricalDtype(list(EXIT_REASONS))
_PRICES = list(PRICE_COLUMNS)


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
        bars, flags, values, due = _inputs(symbols, candles, signals, funding, timeframe, n_bars)
        init_cash = np.full(len(symbols), costs.initial_capital / len(symbols))
        groups = list(np.array_split(np.arange(len(symbols)), min(self._threads, len(symbols))))
        longest = int(n_bars.max())
        # One row per symbol plus the total: the equity frame wraps this array without a copy.
        equity = np.full((len(symbols) + 1, longest), np.nan) if (n_bars < longest).any() else np.empty(
            (len(symbols) + 1, longest))

        def simulate_group(group: np.ndarray) -> tuple[int, int, int, np.ndarray]:
            first, end = int(group[0]), int(group[-1]) + 1
            mine = (bars[first:end], flags[first:end], values[first:end], n_bars[first:end])
            layout = build_layout(*mine, costs.fee_rate)
            orders = simulate(layout, init_cash[first:end], costs.fee_rate, costs.slippage)
            status, column, bar, trades = read_orders(
                orders, layout.row_bar, *mine, due[first:end], init_cash[first:end], float(costs.slippage),
                equity[first:end],
            )
            trades[:, 0] += first
            return status, column + first, bar, trades

        results = list(self._pool.map(simulate_group, groups)) if self._pool else [simulate_group(groups[0])]
        for status, column, bar, _ in results:
            if status < 0:
                where = f"{symbols[column]} at {indexes[column][bar] if bar >= 0 else 'the end'}"
                if status == BLOWN:
                    raise AccountBlown(f"{where}: the sleeve's equity would go below zero (a short it cannot cover)")
                raise EngineInconsistency(f"{where}: vectorbt order records do not match the layout")
        trades = np.concatenate([r[3] for r in results]) if len(results) > 1 else results[0][3]
        return _assemble(symbols, indexes, n_bars, equity, trades, init_cash, timeframe)


def _inputs(symbols: list[str], candles: Mapping[str, pd.DataFrame], signals: Mapping[str, pd.DataFrame],
            funding: Mapping[str, pd.Series] | None, timeframe: str,
            n_bars: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(symbol, kind, bar) arrays in this thread's reused buffers; funding (symbol, bar), or (symbol, 0).

    Columns are read as views (the standard candle frame is one float block; a signal column is
    one row of its block) and copied once, into memory touched by earlier backtests already.
    """
    m, longest = len(symbols), int(n_bars.max())
    bars = scratch("bars", (m, 4, longest), np.float64)
    flags = scratch("flags", (m, 3, longest), np.bool_)
    values = scratch("values", (m, 3, longest), np.float64)
    charged = [s for s in symbols if funding is not None and s in funding]
    due = np.zeros((m, longest if charged else 0))
    for j, symbol in enumerate(symbols):
        frame, sig = candles[symbol], signals[symbol]
        n = len(frame)
        if frame.columns.tolist()[:4] == _PRICES:  # cheaper than slicing a string Index
            bars[j, :, :n] = frame.to_numpy(dtype=float)[:, :4].T
        else:
            bars[j, :, :n] = frame[_PRICES].to_numpy(dtype=float).T
        for i, name in enumerate(FLAG_COLUMNS):
            flags[j, i, :n] = sig[name].to_numpy(dtype=bool)
        for i, name in enumerate(VALUE_COLUMNS):
            values[j, i, :n] = sig[name].to_numpy(dtype=float)
        if funding is not None and symbol in charged:
            due[j, :n] = funding_per_bar(pd.DatetimeIndex(frame.index), timeframe, funding[symbol])
    return bars, flags, values, due


def _assemble(symbols: list[str], indexes: list[pd.Index], n_bars: np.ndarray, equity: np.ndarray,
              trades: np.ndarray, init_cash: np.ndarray, timeframe: str) -> BacktestRun:
    """`equity`: a row per symbol, then a spare row that becomes the total."""
    m = len(symbols)
    same_index = all(index.equals(indexes[0]) for index in indexes[1:])
    if same_index:
        index = pd.DatetimeIndex(indexes[0])
    else:  # symbols over different periods: each holds its last equity outside its own bars
        index = pd.DatetimeIndex(indexes[0]).union_many([pd.DatetimeIndex(i) for i in indexes[1:]])
        parts = {s: pd.Series(equity[j, : n_bars[j]], index=indexes[j]) for j, s in enumerate(symbols)}
        filled = pd.DataFrame(parts).reindex(index).ffill().fillna(dict(zip(symbols, init_cash, strict=True)))
        equity = np.vstack([filled.to_numpy().T, np.empty((1, len(index)))])
    np.sum(equity[:m], axis=0, out=equity[m])
    curve = pd.DataFrame(equity.T, index=index, columns=[*symbols, TOTAL], copy=False)
    column = trades[:, 0].astype(np.int64)
    reason = trades[:, 10].astype(np.int64)
    entry_ns, exit_ns = _times(indexes if not same_index else indexes[:1], column if not same_index else None,
                               trades[:, 2].astype(np.int64), trades[:, 3].astype(np.int64))
    exit_ns[reason == _END] += timeframe_delta(timeframe).value  # closed at the last bar's close
    frame = _trade_frame(symbols, trades, column, reason, entry_ns, exit_ns)
    stats = TradeStats(
        row=np.zeros(len(trades), dtype=np.int64), pnl=trades[:, 9], ret=frame["return"].to_numpy(),
        hours=(exit_ns - entry_ns) / _NS_PER_HOUR, held_bars=trades[:, 3] - trades[:, 2] + _HELD[reason],
    )
    capital = float(init_cash.sum())
    metrics = compute_metrics(equity[m:], np.array([capital]), month_numbers(index), bars_per_year(timeframe),
                              stats, np.array([n_bars.sum()]))[0]
    return BacktestRun(trades=frame, equity=curve, metrics=metrics, timeframe=timeframe, initial_capital=capital,
                       bars=dict(zip(symbols, n_bars.tolist(), strict=True)))


def _times(indexes: list[pd.Index], column: np.ndarray | None, entry_bar: np.ndarray,
           exit_bar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Epoch ns of the entry and exit bars; `column` picks each trade's index when they differ."""
    if column is None:
        stamps = pd.DatetimeIndex(indexes[0]).as_unit("ns").asi8
        return stamps[entry_bar], stamps[exit_bar]
    entry_ns = np.empty(len(entry_bar), dtype=np.int64)
    exit_ns = np.empty(len(exit_bar), dtype=np.int64)
    for j, index in enumerate(indexes):
        mine = column == j
        stamps = pd.DatetimeIndex(index).as_unit("ns").asi8
        entry_ns[mine] = stamps[entry_bar[mine]]
        exit_ns[mine] = stamps[exit_bar[mine]]
    return entry_ns, exit_ns


def _trade_frame(symbols: list[str], trades: np.ndarray, column: np.ndarray, reason: np.ndarray,
                 entry_ns: np.ndarray, exit_ns: np.ndarray) -> pd.DataFrame:
    quantity, entry_price = trades[:, 6], trades[:, 4]
    return pd.DataFrame({
        "symbol": pd.Categorical.from_codes(column, dtype=pd.CategoricalDtype(symbols)),
        "side": pd.Categorical.from_codes((trades[:, 1] < 0).astype(np.int8), dtype=_SIDES),
        "entry_time": pd.DatetimeIndex(entry_ns.view("M8[ns]"), tz="UTC"),
        "entry_price": entry_price,
        "exit_time": pd.DatetimeIndex(exit_ns.view("M8[ns]"), tz="UTC"),
        "exit_price": trades[:, 5],
        "quantity": quantity,
        "fees": trades[:, 7],
        "funding": trades[:, 8],
        "pnl": trades[:, 9],
        "return": trades[:, 9] / (quantity * entry_price),
        "exit_reason": pd.Categorical.from_codes(reason.astype(np.int8), dtype=_REASONS),
        "entry_bar": trades[:, 2].astype(np.int64),
        "exit_bar": trades[:, 3].astype(np.int64),
    }, columns=list(TRADE_COLUMNS))
