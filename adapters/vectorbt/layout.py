"""Lay signals out in the rows vectorbt simulates, so its one-order-per-row engine follows our rules.

vectorbt fills at most one order per row and checks stops before signals. Our rules have up to
two events per bar: the fill at the open (the previous bar's signal) and stops inside the bar,
which may close a position opened at that very open. So each bar t becomes:

- a stop row S(t): bar t's open/high/low for the stop check, then, at price open[t+1], the
  signal of bar t that closes something (an `exit`, or the close half of a reversal);
- for a bar with an entry, an entry row E(t) right after it, with no prices to check stops
  against and the entry at open[t+1], sized as a percent of cash and carrying sl_pct/tp_pct.

A stop that fires in S(t) replaces the close in that row, which is right: the position is gone,
and the entry in E(t) still happens at the next open. The last bar's signals are dropped (there
is no next open). Each column has its own rows (only its entry bars add some), padded at the end
to the longest column. `row_bar` maps rows back to bars for records.py: an entry row is the
second row of its bar.

Inputs are (symbols, kinds, bars) arrays: open/high/low/close; long/short/exit; size/sl/tp,
with `n_bars` per symbol (a shorter symbol's cells past its end are not read). All arrays live
in buffers kept per thread and reused by the next backtest: filling fresh memory costs more than
the simulation itself on some machines (page faults), and thousands of backtests run one after
another.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np
from numba import njit


class Layout(NamedTuple):
    """(columns, rows) C-ordered arrays: a column's rows are contiguous, as vectorbt walks them."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    price: np.ndarray
    long_entries: np.ndarray
    long_exits: np.ndarray
    short_entries: np.ndarray
    short_exits: np.ndarray
    size: np.ndarray
    sl_stop: np.ndarray
    tp_stop: np.ndarray
    row_bar: np.ndarray   # int32: the bar whose signal a row carries; -1 for padding. Not given to vectorbt.


_FLOATS, _BOOLS = 7, 4
_local = threading.local()


def scratch(name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """A C-ordered array of `shape` in this thread's buffer `name`, grown when too small.

    Valid until the thread asks for `name` again: callers use it within one backtest only.
    """
    cells = int(np.prod(shape))
    buffer: np.ndarray | None = getattr(_local, name, None)
    if buffer is None or buffer.size < cells or buffer.dtype != dtype:
        buffer = np.empty(cells, dtype=dtype)
        setattr(_local, name, buffer)
    return buffer[:cells].reshape(shape)


def _buffers(columns: int, rows: int) -> Layout:
    """Views of this thread's layout buffers."""
    cells = columns * rows
    floats = scratch("layout_floats", (_FLOATS, cells), np.float64)
    bools = scratch("layout_bools", (_BOOLS, cells), np.bool_)
    ints = scratch("layout_ints", (cells,), np.int32)
    shape = (columns, rows)
    o, h, lo, price, size, sl, tp = (floats[i, :cells].reshape(shape) for i in range(_FLOATS))
    long_entries, long_exits, short_entries, short_exits = (bools[i, :cells].reshape(shape) for i in range(_BOOLS))
    return Layout(o, h, lo, price, long_entries, long_exits, short_entries, short_exits, size, sl, tp,
                  ints[:cells].reshape(shape))


def build_layout(bars: np.ndarray, flags: np.ndarray, values: np.ndarray, n_bars: np.ndarray,
                 fee_rate: float) -> Layout:
    layout = _buffers(bars.shape[0], _rows_needed(flags, n_bars))
    _fill(bars, flags, values, n_bars, float(fee_rate), *layout)
    return layout


@njit(cache=True)
def bar_signals(flags: np.ndarray, c: int, t: int, n: int) -> tuple[bool, bool, bool]:
    """(long entry, short entry, exit) acted on after bar t of n: none on the last; entries beat exits."""
    if t >= n - 1:
        return False, False, False
    long, short = flags[c, 0, t], flags[c, 1, t]
    return long, short, flags[c, 2, t] and not (long or short)


@njit(cache=True, nogil=True)
def _rows_needed(flags: np.ndarray, n_bars: np.ndarray) -> int:
    longest = 0
    for c in range(flags.shape[0]):
        rows = n_bars[c]
        for t in range(n_bars[c] - 1):
            if flags[c, 0, t] or flags[c, 1, t]:
                rows += 1
        longest = max(longest, rows)
    return longest


@njit(cache=True, nogil=True)
def _fill(bars: np.ndarray, flags: np.ndarray, values: np.ndarray, n_bars: np.ndarray, fee_rate: float,
          o: np.ndarray, h: np.ndarray, lo: np.ndarray, price: np.ndarray, long_entries: np.ndarray,
          long_exits: np.ndarray, short_entries: np.ndarray, short_exits: np.ndarray, size: np.ndarray,
          sl_stop: np.ndarray, tp_stop: np.ndarray, row_bar: np.ndarray) -> None:
    """Write every cell: the buffers hold the previous backtest's values."""
    m, rows = o.shape
    nan = np.nan
    for c in range(m):
        n = n_bars[c]
        r = 0
        for t in range(n):
            going_long, going_short, leave = bar_signals(flags, c, t, n)
            next_open = bars[c, 0, t + 1] if t < n - 1 else nan
            o[c, r] = bars[c, 0, t]
            h[c, r] = bars[c, 1, t]
            lo[c, r] = bars[c, 2, t]
            price[c, r] = next_open
            long_entries[c, r] = False
            short_entries[c, r] = False
            long_exits[c, r] = leave or going_short
            short_exits[c, r] = leave or going_long
            size[c, r] = 1.0
            sl_stop[c, r] = nan
            tp_stop[c, r] = nan
            row_bar[c, r] = t
            r += 1
            if going_long or going_short:
                o[c, r] = nan
                h[c, r] = nan
                lo[c, r] = nan
                price[c, r] = next_open
                long_entries[c, r] = going_long
                short_entries[c, r] = going_short
                long_exits[c, r] = False
                short_exits[c, r] = False
                # vectorbt's percent spends that share of cash fee included; scaling by (1 + fee)
                # makes the notional itself size x equity, capped so notional + fee <= equity.
                size[c, r] = min(values[c, 0, t] * (1.0 + fee_rate), 1.0)
                sl_stop[c, r] = values[c, 1, t]
                tp_stop[c, r] = values[c, 2, t]
                row_bar[c, r] = t
                r += 1
        for p in range(r, rows):  # padding: nothing to check, nothing to trade
            o[c, p] = nan
            h[c, p] = nan
            lo[c, p] = nan
            price[c, p] = nan
            long_entries[c, p] = False
            short_entries[c, p] = False
            long_exits[c, p] = False
            short_exits[c, p] = False
            size[c, p] = 1.0
            sl_stop[c, p] = nan
            tp_stop[c, p] = nan
            row_bar[c, p] = -1
