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
to the longest column. A row is an entry row exactly when it carries an entry flag, so the bar
of row r is r minus the entry rows before it (records.py counts them; no row-to-bar array).

Inputs are one `Columns` per symbol: the frames' own column arrays, read in place (one pass from
the frames straight into vectorbt's rows, no intermediate copy). All layout arrays live in
buffers kept per thread and reused by the next backtest: filling fresh memory costs more than
the simulation itself on some machines (page faults), and thousands of backtests run one after
another.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numba import njit


class Columns(NamedTuple):
    """One symbol's bars and signals as 1-D C-contiguous arrays of one length (float64 or bool)."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    long_entry: np.ndarray
    short_entry: np.ndarray
    exit: np.ndarray
    size: np.ndarray
    sl_pct: np.ndarray
    tp_pct: np.ndarray


class Layout(NamedTuple):
    """(columns, rows) C-ordered arrays: a column's rows are contiguous, as vectorbt walks them."""

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    price: np.ndarray
    size: np.ndarray
    sl_stop: np.ndarray
    tp_stop: np.ndarray
    long_entries: np.ndarray
    long_exits: np.ndarray
    short_entries: np.ndarray
    short_exits: np.ndarray


_FLOATS, _BOOLS = 7, 4  # Layout's float fields, then its bool fields, in this order
_local = threading.local()


def scratch(name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    """A C-ordered array of `shape` in this thread's buffer `name`, grown when too small.

    Valid until the thread asks for `name` again: callers use it within one backtest only.
    """
    cells = math.prod(shape)
    buffer: np.ndarray | None = getattr(_local, name, None)
    if buffer is None or buffer.size < cells or buffer.dtype != dtype:
        buffer = np.empty(cells, dtype=dtype)
        setattr(_local, name, buffer)
    return buffer[:cells].reshape(shape)


def build_layout(columns: Sequence[Columns], fee_rate: float) -> tuple[Layout, int]:
    """The layout of `columns` in this thread's buffers, and how many entry rows it has."""
    needed = [_rows_needed(c.long_entry, c.short_entry) for c in columns]
    rows = max(needed)
    floats = scratch("layout_floats", (_FLOATS, len(columns), rows), np.float64)
    bools = scratch("layout_bools", (_BOOLS, len(columns), rows), np.bool_)
    fee = float(fee_rate)
    for j, c in enumerate(columns):
        _fill(j, c.open, c.high, c.low, c.long_entry, c.short_entry, c.exit, c.size, c.sl_pct, c.tp_pct, fee,
              floats, bools)
    return Layout(*floats, *bools), sum(needed) - sum(len(c.open) for c in columns)


@njit(cache=True)
def bar_signals(long: np.ndarray, short: np.ndarray, leave: np.ndarray, t: int) -> tuple[bool, bool, bool]:
    """(long entry, short entry, exit) acted on after bar t: none on the last; entries beat exits."""
    if t >= len(long) - 1:
        return False, False, False
    going_long, going_short = long[t], short[t]
    return going_long, going_short, leave[t] and not (going_long or going_short)


@njit(cache=True, nogil=True)
def _rows_needed(long: np.ndarray, short: np.ndarray) -> int:
    """A stop row per bar, plus an entry row per bar with an entry (the last bar's is dropped)."""
    entries = 0
    for t in range(len(long) - 1):
        entries += long[t] | short[t]
    return len(long) + entries


@njit(cache=True, nogil=True)
def _fill(c: int, open_: np.ndarray, high: np.ndarray, low: np.ndarray, long: np.ndarray, short: np.ndarray,
          leave: np.ndarray, size: np.ndarray, sl: np.ndarray, tp: np.ndarray, fee_rate: float,
          floats: np.ndarray, bools: np.ndarray) -> None:
    """Write every cell of column c (floats: o, h, lo, price, size, sl, tp; bools: long/short entries/exits).

    Every cell, padding included: the buffers hold the previous backtest's values. The entry bars
    are found first and their size/sl/tp read in one loop of independent loads, which memory
    serves side by side (read one by one amid the writes, each would wait for memory in turn).
    Between entry bars, stretches of stop rows are written array by array in plain loops with
    unsigned indices: numba checks a signed index for being negative, and that check alone keeps
    such loops from becoming wide copies and fills.
    """
    o, h, lo, price, fraction, sl_stop, tp_stop = (floats[0, c], floats[1, c], floats[2, c], floats[3, c],
                                                   floats[4, c], floats[5, c], floats[6, c])
    long_entries, long_exits, short_entries, short_exits = bools[0, c], bools[1, c], bools[2, c], bools[3, c]
    nan, one = np.nan, np.uint64(1)
    n, rows = np.uint64(len(open_)), np.uint64(floats.shape[2])
    entries = 0
    for t in range(len(open_) - 1):  # the last bar's signals are dropped: no next open
        entries += long[t] | short[t]
    at = np.empty(entries + 1, dtype=np.uint64)
    e = 0
    for t in range(len(open_) - 1):
        if long[t] or short[t]:
            at[e] = t
            e += 1
    at[entries] = n  # the end, as if an entry bar followed the last one
    entry_values = np.empty((entries, 3))
    for i in range(entries):
        entry_values[i, 0] = size[at[i]]
        entry_values[i, 1] = sl[at[i]]
        entry_values[i, 2] = tp[at[i]]
    t = r = np.uint64(0)
    for i in range(entries + 1):
        bars = at[i] - t  # bars [t, at[i]) have no entry
        closing = bars - one if i == entries and bars > 0 else bars  # the last bar has no next open
        for k in range(bars):
            o[r + k] = open_[t + k]
        for k in range(bars):
            h[r + k] = high[t + k]
        for k in range(bars):
            lo[r + k] = low[t + k]
        for k in range(closing):
            price[r + k] = open_[t + k + one]
        for k in range(bars):
            fraction[r + k] = 1.0
        for k in range(bars):
            sl_stop[r + k] = nan
        for k in range(bars):
            tp_stop[r + k] = nan
        for k in range(bars):
            long_entries[r + k] = False
        for k in range(bars):
            short_entries[r + k] = False
        for k in range(closing):
            long_exits[r + k] = leave[t + k]
        for k in range(closing):
            short_exits[r + k] = leave[t + k]
        r += bars
        if i == entries:
            if bars > 0:
                price[r - one], long_exits[r - one], short_exits[r - one] = nan, False, False
            break
        t = at[i]  # an entry bar (never the last): its stop row, which closes any opposite position
        going_long, going_short = long[t], short[t]
        next_open = open_[t + one]
        o[r], h[r], lo[r], price[r] = open_[t], high[t], low[t], next_open
        fraction[r], sl_stop[r], tp_stop[r] = 1.0, nan, nan
        long_entries[r], long_exits[r], short_entries[r], short_exits[r] = False, going_short, False, going_long
        r += one
        # then its entry row, with no prices to check stops against. vectorbt's percent spends that
        # share of cash fee included; scaling by (1 + fee) makes the notional itself size x equity,
        # capped so notional + fee <= equity.
        o[r], h[r], lo[r], price[r] = nan, nan, nan, next_open
        fraction[r] = min(entry_values[i, 0] * (1.0 + fee_rate), 1.0)
        sl_stop[r], tp_stop[r] = entry_values[i, 1], entry_values[i, 2]
        long_entries[r], long_exits[r], short_entries[r], short_exits[r] = going_long, False, going_short, False
        r += one
        t += one
    for p in range(r, rows):  # padding: nothing to check, nothing to trade
        o[p], h[p], lo[p], price[p] = nan, nan, nan, nan
        fraction[p], sl_stop[p], tp_stop[p] = 1.0, nan, nan
        long_entries[p], long_exits[p], short_entries[p], short_exits[p] = False, False, False, False
