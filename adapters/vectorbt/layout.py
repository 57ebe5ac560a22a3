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

The arrays live in buffers kept per thread and reused by the next backtest: filling fresh
memory costs more than the simulation itself on some machines (page faults), and thousands of
backtests run one after another.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np
from numba import njit, types
from numba.typed import List

PRICES = types.Array(types.float64, 2, "A", readonly=True)
FLAGS = types.Array(types.bool_, 1, "A", readonly=True)
VALUES = types.Array(types.float64, 1, "A", readonly=True)
"""Inputs are views of the callers' frames, in whatever memory order they come: (bars, kinds)
prices per symbol; long, short, exit flags and size, sl_pct, tp_pct values, three per symbol."""


def typed(arrays: list[np.ndarray], kind: types.Array) -> List[np.ndarray]:
    found = List.empty_list(kind)
    for array in arrays:
        found.append(array)
    return found


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


def _buffers(columns: int, rows: int) -> Layout:
    """Views of this thread's buffers, grown when too small; valid until its next backtest."""
    cells = columns * rows
    floats, bools, ints = getattr(_local, "buffers", (np.empty((_FLOATS, 0)), np.empty((_BOOLS, 0), bool),
                                                      np.empty(0, np.int32)))
    if floats.shape[1] < cells:
        floats = np.empty((_FLOATS, cells))
        bools = np.empty((_BOOLS, cells), dtype=np.bool_)
        ints = np.empty(cells, dtype=np.int32)
        _local.buffers = (floats, bools, ints)
    shape = (columns, rows)
    o, h, lo, price, size, sl, tp = (floats[i, :cells].reshape(shape) for i in range(_FLOATS))
    long_entries, long_exits, short_entries, short_exits = (bools[i, :cells].reshape(shape) for i in range(_BOOLS))
    return Layout(o, h, lo, price, long_entries, long_exits, short_entries, short_exits, size, sl, tp,
                  ints[:cells].reshape(shape))


def build_layout(prices: List[np.ndarray], flags: List[np.ndarray], values: List[np.ndarray],
                 fee_rate: float) -> Layout:
    """`prices`: (n, 4+) open/high/low/close per symbol; `flags`/`values`: three vectors per symbol."""
    layout = _buffers(len(prices), _rows_needed(flags))
    _fill(prices, flags, values, float(fee_rate), *layout)
    return layout


@njit(cache=True)
def bar_signals(longs: np.ndarray, shorts: np.ndarray, exits: np.ndarray, t: int) -> tuple[bool, bool, bool]:
    """(long entry, short entry, exit) acted on after bar t: none on the last bar; entries beat exits."""
    if t >= longs.shape[0] - 1:
        return False, False, False
    long, short = longs[t], shorts[t]
    return long, short, exits[t] and not (long or short)


@njit(cache=True, nogil=True)
def _rows_needed(flags: List[np.ndarray]) -> int:
    longest = 0
    for c in range(len(flags) // 3):
        long, short = flags[3 * c], flags[3 * c + 1]
        rows = long.shape[0]
        for t in range(long.shape[0] - 1):
            if long[t] or short[t]:
                rows += 1
        longest = max(longest, rows)
    return longest


@njit(cache=True, nogil=True)
def _fill(prices: List[np.ndarray], flags: List[np.ndarray], values: List[np.ndarray], fee_rate: float,
          o: np.ndarray, h: np.ndarray, lo: np.ndarray, price: np.ndarray, long_entries: np.ndarray,
          long_exits: np.ndarray, short_entries: np.ndarray, short_exits: np.ndarray, size: np.ndarray,
          sl_stop: np.ndarray, tp_stop: np.ndarray, row_bar: np.ndarray) -> None:
    """Write every cell: the buffers hold the previous backtest's values."""
    m, rows = o.shape
    nan = np.nan
    for c in range(m):
        bars = prices[c]
        longs, shorts, exits = flags[3 * c], flags[3 * c + 1], flags[3 * c + 2]
        sizes, sls, tps = values[3 * c], values[3 * c + 1], values[3 * c + 2]
        r = 0
        last = bars.shape[0] - 1
        for t in range(bars.shape[0]):
            going_long, going_short, leave = bar_signals(longs, shorts, exits, t)
            next_open = bars[t + 1, 0] if t < last else nan
            o[c, r] = bars[t, 0]
            h[c, r] = bars[t, 1]
            lo[c, r] = bars[t, 2]
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
                size[c, r] = min(sizes[t] * (1.0 + fee_rate), 1.0)
                sl_stop[c, r] = sls[t]
                tp_stop[c, r] = tps[t]
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
