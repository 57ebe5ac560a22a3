"""Turn vectorbt's order records back into trades and an equity curve on the original bars.

Each order is given its moment from its row (layout.row_bar): an order in an entry row, or a
close in a stop row whose stop did not fire, fills at the next bar's open; an order in a stop
row whose stop did fire fills inside that bar. Whether a stop fired is worked out with
vectorbt's own formula, which also tells SL from TP. An order the rules cannot explain (wrong
row, price or size) stops the run, so the two never drift apart silently; that every stop the
rules call for did fire is what the reference tests check.

Within a bar, things happen in this order: fills at the open, funding, a stop inside the bar,
the equity mark at the close. Funding is applied here, after the simulation: the position held
after a bar's opening fill pays rate x quantity x open (a short receives it). Between orders,
the equity of whole stretches of bars is filled in one tight loop.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from adapters.vectorbt.layout import bar_signals

REASON_TP, REASON_SL, REASON_SIGNAL, REASON_REVERSE, REASON_END = 0, 1, 2, 3, 4
OK, INCONSISTENT, BLOWN = 0, -1, -2
TRADE_FIELDS = ("column", "side", "entry_bar", "exit_bar", "entry_price", "exit_price", "quantity", "fees",
                "funding", "pnl", "reason")
_N_FIELDS = 11


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
def read_orders(orders: np.ndarray, row_bar: np.ndarray, bars: np.ndarray, flags: np.ndarray, values: np.ndarray,
                n_bars: np.ndarray, funding: np.ndarray, init_cash: np.ndarray, slippage: float,
                equity: np.ndarray) -> tuple:  # type: ignore[type-arg]
    """(status, column, bar, trades (k, TRADE_FIELDS)); status < 0: trouble at (column, bar).

    Inputs as for layout.build_layout; `funding` is (m, n) rates due per bar, or (m, 0) when
    nothing is charged. Each symbol's equity at its bars' closes is written into `equity` (m, n).
    """
    m = bars.shape[0]
    n_orders = orders.shape[0]
    trades = np.zeros((n_orders + m, _N_FIELDS))
    n_trades = 0
    k = 0
    for c in range(m):
        n = n_bars[c]
        charged = funding.shape[1] > 0
        cash, paid, pos, side = init_cash[c], 0.0, 0.0, 0.0
        entry_bar, entry_price, entry_fee, held = 0, 0.0, 0.0, 0.0
        sl, tp = np.nan, np.nan
        marked = 0         # bars before this one have their equity
        funded = -1        # the last bar whose funding is applied
        while k < n_orders and orders[k]["col"] == c:
            r = orders[k]["idx"]
            t = row_bar[c, r]
            entry_row = r > 0 and row_bar[c, r - 1] == t
            size, price, fee, order_side = orders[k]["size"], orders[k]["price"], orders[k]["fees"], orders[k]["side"]
            stop = np.nan
            reason = REASON_SL
            if not entry_row and pos != 0.0:  # vectorbt checks stops first: if one fired, this order is it
                stop = _stop_fill(pos, entry_price, sl, bars[c, 0, t], bars[c, 2, t], bars[c, 1, t], True)
                if np.isnan(stop):
                    reason = REASON_TP
                    stop = _stop_fill(pos, entry_price, tp, bars[c, 0, t], bars[c, 2, t], bars[c, 1, t], False)
            when = t if not np.isnan(stop) else t + 1        # the bar the fill happens in
            if when >= n or not _priced(price, stop if not np.isnan(stop) else bars[c, 0, when], order_side, slippage):
                return INCONSISTENT, c, t, trades[:n_trades]
            for b in range(marked, when):  # bars wholly before this fill
                if charged and b > funded and pos != 0.0 and funding[c, b] != 0.0:
                    due = funding[c, b] * pos * bars[c, 0, b]
                    paid += due
                    held += due
                equity[c, b] = cash + pos * bars[c, 3, b] - paid
            marked = when
            funded = max(funded, when - 1)
            if not np.isnan(stop) and funded < when:  # inside bar `when`: its funding comes first
                if charged and pos != 0.0 and funding[c, when] != 0.0:
                    due = funding[c, when] * pos * bars[c, 0, when]
                    paid += due
                    held += due
                funded = when
            if entry_row:
                if pos != 0.0:
                    return INCONSISTENT, c, t, trades[:n_trades]
                side = 1.0 if order_side == 0 else -1.0
                pos = side * size
                entry_bar, entry_price, entry_fee, held = when, price, fee, 0.0
                sl, tp = values[c, 1, t], values[c, 2, t]
                cash -= side * size * price + fee
            else:
                if pos == 0.0:
                    return INCONSISTENT, c, t, trades[:n_trades]
                if abs(size - abs(pos)) > 1e-9 * abs(pos):
                    return BLOWN, c, t, trades[:n_trades]
                if np.isnan(stop):
                    going_long, going_short, leave = bar_signals(flags, c, t, n)
                    if not (leave or going_long or going_short):
                        return INCONSISTENT, c, t, trades[:n_trades]
                    reason = REASON_SIGNAL if leave else REASON_REVERSE
                cash += side * size * price - fee
                n_trades = _close(trades, n_trades, c, side, entry_bar, when, entry_price, price, abs(pos),
                                  entry_fee + fee, held, reason)
                pos = 0.0
            k += 1
        for b in range(marked, n):
            if charged and b > funded and pos != 0.0 and funding[c, b] != 0.0:
                due = funding[c, b] * pos * bars[c, 0, b]
                paid += due
                held += due
            equity[c, b] = cash + pos * bars[c, 3, b] - paid
        if pos != 0.0:
            n_trades = _close(trades, n_trades, c, side, entry_bar, n - 1, entry_price, bars[c, 3, n - 1], abs(pos),
                              entry_fee, held, REASON_END)
    if k != n_orders:
        return INCONSISTENT, int(orders[k]["col"]), -1, trades[:n_trades]
    return OK, -1, -1, trades[:n_trades]


@njit(cache=True)
def _close(trades: np.ndarray, n: int, column: int, side: float, entry_bar: int, exit_bar: int,
           entry_price: float, exit_price: float, quantity: float, fees: float, funding: float,
           reason: int) -> int:
    trades[n, 0] = column
    trades[n, 1] = side
    trades[n, 2] = entry_bar
    trades[n, 3] = exit_bar
    trades[n, 4] = entry_price
    trades[n, 5] = exit_price
    trades[n, 6] = quantity
    trades[n, 7] = fees
    trades[n, 8] = funding
    trades[n, 9] = side * quantity * (exit_price - entry_price) - fees - funding
    trades[n, 10] = reason
    return n + 1
