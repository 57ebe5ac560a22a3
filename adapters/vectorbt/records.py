"""Turn vectorbt's order records back into trades and an equity curve on the original bars.

Each order is given its moment from its row (its bar is the row less the entry rows before it,
see layout.py): an order in an entry row, or a close in a stop row whose stop did not fire,
fills at the next bar's open; an order in a stop row whose stop did fire fills inside that bar.
Whether a stop fired is worked out with vectorbt's own formula, which also tells SL from TP. An
order the rules cannot explain (wrong row, price or size) stops the run, so the two never drift
apart silently; that every stop the rules call for did fire is what the reference tests check.

Within a bar, things happen in this order: fills at the open, funding, a stop inside the bar,
the equity mark at the close. Funding is applied here, after the simulation: the position held
after a bar's opening fill pays rate x quantity x open (a short receives it). Between orders,
the equity of whole stretches of bars is filled in one tight loop. One call reads one symbol,
from its frames' own arrays (layout.Columns), so nothing is copied out of them first.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from adapters.vectorbt.layout import bar_signals

REASON_TP, REASON_SL, REASON_SIGNAL, REASON_REVERSE, REASON_END = 0, 1, 2, 3, 4  # as domain's EXIT_REASONS
OK, INCONSISTENT, BLOWN = 0, -1, -2
TRADE_FLOATS = ("entry_price", "exit_price", "quantity", "fees", "funding", "pnl", "return")
TRADE_INTS = ("entry_time", "exit_time", "entry_bar", "exit_bar")  # times in ns since the epoch
TRADE_CODES = ("side", "exit_reason")  # 0 long, 1 short; REASON_*
"""A symbol's trades come out as three (field, trade) arrays, each field contiguous and already in
the dtype of its column in the trade frame (float64, int64, int8)."""


@njit(cache=True)
def _stop_fill(position: float, init: float, stop: float, o: float, lo: float, hi: float,
               below: bool) -> float:
    """vectorbt's get_stop_price_nb: the stop's price if bar (o, lo, hi) reaches it, else NaN."""
    if np.isnan(stop):
        return np.nan
    if (position > 0 and below) or (position < 0 and not below):
        level = init * (1 - stop)
        if o <= level:
            return o
        if lo <= level <= hi:
            return level
        return np.nan
    level = init * (1 + stop)
    if level <= o:
        return o
    if lo <= level <= hi:
        return level
    return np.nan


@njit(cache=True)
def _priced(price: float, reference: float, order_side: int, slippage: float) -> bool:
    """Whether a fill is `reference` moved by slippage against the trader (buy: up, sell: down)."""
    expected = reference * (1 + slippage) if order_side == 0 else reference * (1 - slippage)
    return abs(price - expected) <= 1e-9 * expected


@njit(cache=True, nogil=True)
def read_column(orders: np.ndarray, long_entries: np.ndarray, short_entries: np.ndarray, open_: np.ndarray,
                high: np.ndarray, low: np.ndarray, close: np.ndarray, long: np.ndarray, short: np.ndarray,
                leave: np.ndarray, sl: np.ndarray, tp: np.ndarray, funding: np.ndarray, cash: float,
                slippage: float, stamps: np.ndarray, bar_ns: int, equity: np.ndarray, floats: np.ndarray,
                ints: np.ndarray, codes: np.ndarray) -> tuple[int, int, int]:
    """(status, bar, trades written) for one symbol simulated alone (vectorbt's column 0).

    status < 0: trouble at `bar` (-1: at the end). Inputs are its layout row's long and short
    entry flags (which rows are entry rows), its layout.Columns, `funding` (rates due per bar,
    or empty when nothing is charged), its starting cash, its bars' times and their length (ns).
    Its equity at each bar close goes to `equity` (one value per bar), its trades to `floats`,
    `ints` and `codes` (TRADE_FLOATS, TRADE_INTS, TRADE_CODES by trade).
    """
    n = len(open_)
    bars, entry_rows = _bars_of(orders, long_entries, short_entries)
    seen, signalled = _gather(bars, open_, high, low, sl, tp, long, short, leave)
    charged = len(funding) > 0
    paid, pos, side = 0.0, 0.0, 0.0
    entry_bar, entry_price, entry_fee, held = 0, 0.0, 0.0, 0.0
    stop_loss, take_profit = np.nan, np.nan
    marked = 0         # bars before this one have their equity
    funded = -1        # the last bar whose funding is applied
    n_trades = 0
    for k in range(len(orders)):
        t, entry_row = bars[k], entry_rows[k]
        if t >= n or orders[k]["col"] != 0:  # a padding row, or another column: nothing to explain it
            return INCONSISTENT, -1, n_trades
        size, price, fee, order_side = orders[k]["size"], orders[k]["price"], orders[k]["fees"], orders[k]["side"]
        stop = np.nan
        reason = REASON_SL
        if not entry_row and pos != 0.0:  # vectorbt checks stops first: if one fired, this order is it
            stop = _stop_fill(pos, entry_price, stop_loss, seen[k, 0], seen[k, 3], seen[k, 2], True)
            if np.isnan(stop):
                reason = REASON_TP
                stop = _stop_fill(pos, entry_price, take_profit, seen[k, 0], seen[k, 3], seen[k, 2], False)
        when = t if not np.isnan(stop) else t + 1        # the bar the fill happens in
        reference = stop if not np.isnan(stop) else seen[k, 1]  # the stop, or the open of bar `when`
        if when >= n or not _priced(price, reference, order_side, slippage):
            return INCONSISTENT, t, n_trades
        if charged:  # bars wholly before this fill
            for b in range(marked, when):
                if b > funded and pos != 0.0 and funding[b] != 0.0:
                    due = funding[b] * pos * open_[b]
                    paid += due
                    held += due
                equity[b] = cash + pos * close[b] - paid
        else:  # unsigned: numba checks a signed index for being negative, which keeps the loop narrow
            for b in range(np.uint64(marked), np.uint64(when)):
                equity[b] = cash + pos * close[b] - paid
        marked = when
        funded = max(funded, when - 1)
        if not np.isnan(stop) and funded < when:  # inside bar `when`: its funding comes first
            if charged and pos != 0.0 and funding[when] != 0.0:
                due = funding[when] * pos * open_[when]
                paid += due
                held += due
            funded = when
        if entry_row:
            if pos != 0.0:
                return INCONSISTENT, t, n_trades
            side = 1.0 if order_side == 0 else -1.0
            pos = side * size
            entry_bar, entry_price, entry_fee, held = when, price, fee, 0.0
            ints[0, n_trades] = stamps[when]
            stop_loss, take_profit = seen[k, 4], seen[k, 5]
            cash -= side * size * price + fee
        else:
            if pos == 0.0:
                return INCONSISTENT, t, n_trades
            if abs(size - abs(pos)) > 1e-9 * abs(pos):
                return BLOWN, t, n_trades
            if np.isnan(stop):
                going_long, going_short, out = signalled[k, 0], signalled[k, 1], signalled[k, 2]
                if not (out or going_long or going_short):
                    return INCONSISTENT, t, n_trades
                reason = REASON_SIGNAL if out else REASON_REVERSE
            cash += side * size * price - fee
            _close(floats, ints, codes, n_trades, side, entry_bar, when, stamps[when], entry_price, price,
                   abs(pos), entry_fee + fee, held, reason)
            n_trades += 1
            pos = 0.0
    for b in range(marked, n):
        if charged and b > funded and pos != 0.0 and funding[b] != 0.0:
            due = funding[b] * pos * open_[b]
            paid += due
            held += due
        equity[b] = cash + pos * close[b] - paid
    if pos != 0.0:
        _close(floats, ints, codes, n_trades, side, entry_bar, n - 1, stamps[n - 1] + bar_ns, entry_price,
               close[n - 1], abs(pos), entry_fee, held, REASON_END)  # at the last close: the bar's end
        n_trades += 1
    return OK, -1, n_trades


@njit(cache=True, nogil=True)
def _bars_of(orders: np.ndarray, long_entries: np.ndarray, short_entries: np.ndarray) -> tuple:  # type: ignore[type-arg]
    """Each order's bar and whether it is in an entry row: an entry row is the one row with an entry
    flag, the second row of its bar, so a row's bar is the row less the entry rows before it."""
    bars = np.empty(len(orders), dtype=np.int64)
    entry_rows = np.empty(len(orders), dtype=np.bool_)
    counted, before = 0, 0  # entry rows among rows [0, counted)
    for k in range(len(orders)):
        r = orders[k]["idx"]
        for x in range(np.uint64(counted), np.uint64(r)):  # unsigned, as in read_column
            before += long_entries[x] | short_entries[x]
        counted = r
        entry_rows[k] = long_entries[r] or short_entries[r]
        bars[k] = r - before - entry_rows[k]
    return bars, entry_rows


@njit(cache=True, nogil=True)
def _gather(bars: np.ndarray, open_: np.ndarray, high: np.ndarray, low: np.ndarray, sl: np.ndarray, tp: np.ndarray,
            long: np.ndarray, short: np.ndarray, leave: np.ndarray) -> tuple:  # type: ignore[type-arg]
    """What read_column may need of each order's bar t, read in one loop of independent loads.

    (open[t], open[t + 1], high[t], low[t], sl[t], tp[t]) and bar_signals at t. Orders are some
    twenty bars apart, too far apart for the hardware to see a stream: read one by one amid the
    bookkeeping, each waits for memory in turn; read here, memory serves them side by side.
    """
    n = len(open_)
    seen = np.full((len(bars), 6), np.nan)
    signalled = np.zeros((len(bars), 3), dtype=np.bool_)
    for k in range(len(bars)):
        t = bars[k]
        if t < 0 or t >= n:
            continue
        seen[k, 0], seen[k, 2], seen[k, 3], seen[k, 4], seen[k, 5] = open_[t], high[t], low[t], sl[t], tp[t]
        if t + 1 < n:
            seen[k, 1] = open_[t + 1]
        signalled[k, 0], signalled[k, 1], signalled[k, 2] = bar_signals(long, short, leave, t)
    return seen, signalled


@njit(cache=True)
def _close(floats: np.ndarray, ints: np.ndarray, codes: np.ndarray, k: int, side: float, entry_bar: int,
           exit_bar: int, exit_ns: int, entry_price: float, exit_price: float, quantity: float, fees: float,
           funding: float, reason: int) -> None:
    """Trade k's fields; its entry time is written when it opens."""
    pnl = side * quantity * (exit_price - entry_price) - fees - funding
    floats[0, k], floats[1, k], floats[2, k], floats[3, k] = entry_price, exit_price, quantity, fees
    floats[4, k], floats[5, k], floats[6, k] = funding, pnl, pnl / (quantity * entry_price)
    ints[1, k], ints[2, k], ints[3, k] = exit_ns, entry_bar, exit_bar
    codes[0, k], codes[1, k] = 0 if side > 0 else 1, reason
