"""An independent reference for the execution rules of docs/backtesting.md: one plain loop over bars.

It shares no code with the vectorbt adapter and is written to be read, not to be fast: each
rule is a few lines in the order things happen inside a bar. The adapter must agree with it
trade for trade (tests/integration/test_vectorbt_matches_reference.py).

Order of events in bar t:
1. the open: act on bar t-1's signal (exit; entry, reversing an opposite position first);
2. funding due in bar t, on the position held after the open, valued at the open;
3. inside the bar: the stop-loss, then the take-profit, against high and low (a gap through a
   level fills at the open);
4. the close: equity is marked at the close; bar t's signal is read for the next open.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import pandas as pd

from domain.backtest import TOTAL, TRADE_COLUMNS, AccountBlown, BacktestRun, Costs, total_metrics
from domain.candles import timeframe_delta


@dataclass
class Position:
    side: int            # +1 long, -1 short
    quantity: float
    entry_bar: int
    entry_price: float   # the fill, slippage included
    entry_fee: float
    stop_loss: float     # absolute levels, NaN for none
    take_profit: float
    funding: float = 0.0


def simulate(candles: dict[str, pd.DataFrame], signals: dict[str, pd.DataFrame], costs: Costs, timeframe: str,
             funding: dict[str, pd.Series] | None = None) -> BacktestRun:
    symbols = list(candles)
    share = costs.initial_capital / len(symbols)
    trades: list[dict] = []
    curves = {}
    for symbol in symbols:
        rates = (funding or {}).get(symbol)
        symbol_trades, curve = simulate_symbol(symbol, candles[symbol], signals[symbol], costs, share, timeframe, rates)
        trades += symbol_trades
        curves[symbol] = pd.Series(curve, index=candles[symbol].index)
    equity = pd.DataFrame(curves)
    equity[TOTAL] = equity.sum(axis=1)
    frame = pd.DataFrame(trades, columns=list(TRADE_COLUMNS))
    bars = {s: len(candles[s]) for s in symbols}
    metrics = total_metrics(equity, frame, costs.initial_capital, timeframe, sum(bars.values()))
    return BacktestRun(frame, equity, metrics, timeframe, costs.initial_capital, bars)


def simulate_symbol(symbol: str, candles: pd.DataFrame, signals: pd.DataFrame, costs: Costs, capital: float,
                    timeframe: str, rates: pd.Series | None = None) -> tuple[list[dict], list[float]]:
    """`signals` is a checked frame: columns long_entry, short_entry, exit, size, sl_pct, tp_pct."""
    index = list(candles.index)
    opens, highs, lows, closes = (candles[c].tolist() for c in ("open", "high", "low", "close"))
    longs, shorts, exits, sizes, sls, tps = (signals[c].tolist() for c in signals.columns)
    n = len(index)
    due = funding_due(index, timeframe, rates)
    fee, slip = costs.fee_rate, costs.slippage
    balance = capital       # cash from fills only: what entries are sized on
    funding_paid = 0.0
    position: Position | None = None
    pending = None          # (what, size, sl_pct, tp_pct) decided at the previous close
    trades: list[dict] = []
    equity: list[float] = []

    def fill_price(side_of_order: int, price: float) -> float:
        return price * (1 + slip) if side_of_order > 0 else price * (1 - slip)

    def close(t: int, price: float, reason: str) -> None:
        nonlocal balance, position
        assert position is not None
        exit_price = fill_price(-position.side, price) if reason != "end" else price
        exit_fee = position.quantity * exit_price * fee if reason != "end" else 0.0
        gross = position.side * position.quantity * (exit_price - position.entry_price)
        if balance + gross - exit_fee < 0:
            raise AccountBlown(f"{symbol} at {index[t]}: equity below zero")
        balance += gross - exit_fee
        fees = position.entry_fee + exit_fee
        pnl = gross - fees - position.funding
        exit_time = index[t] + timeframe_delta(timeframe) if reason == "end" else index[t]
        trades.append({
            "symbol": symbol, "side": "long" if position.side > 0 else "short",
            "entry_time": index[position.entry_bar], "entry_price": position.entry_price,
            "exit_time": exit_time, "exit_price": exit_price, "quantity": position.quantity,
            "fees": fees, "funding": position.funding, "pnl": pnl,
            "return": pnl / (position.quantity * position.entry_price), "exit_reason": reason,
            "entry_bar": position.entry_bar, "exit_bar": t,
        })
        position = None

    def open_position(t: int, side: int, size: float, sl_pct: float, tp_pct: float) -> None:
        nonlocal balance, position
        notional = min(size, 1 / (1 + fee)) * balance   # notional + its fee never exceed equity
        price = fill_price(side, opens[t])
        entry_fee = notional * fee
        balance -= entry_fee
        position = Position(
            side=side, quantity=notional / price, entry_bar=t, entry_price=price, entry_fee=entry_fee,
            stop_loss=price * (1 - side * sl_pct) if not math.isnan(sl_pct) else math.nan,
            take_profit=price * (1 + side * tp_pct) if not math.isnan(tp_pct) else math.nan,
        )

    for t in range(n):
        # 1. the open
        if pending is not None:
            what, size, sl_pct, tp_pct = pending
            pending = None
            if what == "exit":
                if position is not None:
                    close(t, opens[t], "signal")
            else:
                side = 1 if what == "long" else -1
                if position is not None and position.side != side:
                    close(t, opens[t], "reverse")
                if position is None:
                    open_position(t, side, size, sl_pct, tp_pct)
        # 2. funding
        if position is not None and due[t] != 0.0:
            amount = due[t] * position.side * position.quantity * opens[t]
            position.funding += amount
            funding_paid += amount
        # 3. stops inside the bar: stop-loss first
        if position is not None:
            for level, reason in ((position.stop_loss, "sl"), (position.take_profit, "tp")):
                price = touched(position.side, level, reason, opens[t], highs[t], lows[t])
                if price is not None:
                    close(t, price, reason)
                    break
        # 4. the close
        marked = 0.0
        if position is not None:
            marked = position.side * position.quantity * (closes[t] - position.entry_price)
        equity.append(balance + marked - funding_paid)
        if t < n - 1:   # the last bar's signal has no next open to fill on
            if longs[t] or shorts[t]:   # an entry wins over an exit on the same bar
                pending = ("long" if longs[t] else "short", sizes[t], sls[t], tps[t])
            elif exits[t]:
                pending = ("exit", math.nan, math.nan, math.nan)
    if position is not None:
        close(n - 1, closes[n - 1], "end")
        equity[-1] = balance - funding_paid
    return trades, equity


def touched(side: int, level: float, reason: str, open_: float, high: float, low: float) -> float | None:
    """The price a stop at `level` fills at in this bar, or None; a gap through it fills at the open."""
    if math.isnan(level):
        return None
    falls_to_it = (side > 0) == (reason == "sl")   # a long's stop and a short's target lie below
    if falls_to_it:
        if open_ <= level:
            return open_
        return level if low <= level <= high else None
    if open_ >= level:
        return open_
    return level if low <= level <= high else None


def funding_due(index: list[pd.Timestamp], timeframe: str, rates: pd.Series | None) -> list[float]:
    """The rate due in each bar: events whose time falls inside [open, open + timeframe)."""
    due = [0.0] * len(index)
    if rates is None:
        return due
    width = timeframe_delta(timeframe)
    for when, rate in rates.items():
        k = bisect.bisect_right(index, when) - 1
        if k >= 0 and when < index[k] + width:
            due[k] += float(rate)
    return due
