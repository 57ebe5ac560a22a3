"""What a backtest takes and gives: costs, the trade list and equity as data, and input checks.

The execution rules themselves are written in docs/backtesting.md and pinned by
tests/unit/test_backtest_semantics.py; every engine (vectorbt, the reference loop in the tests)
must produce these same shapes so their results compare row for row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from domain.candles import timeframe_delta
from domain.errors import DomainError
from domain.metrics import compute_metrics, month_numbers, trade_stats

EXIT_REASONS: tuple[str, ...] = ("tp", "sl", "signal", "reverse", "end")
"""tp/sl: a stop inside a bar; signal: an `exit` row; reverse: an opposite entry; end: data ran out."""

TRADE_COLUMNS: tuple[str, ...] = (
    "symbol", "side", "entry_time", "entry_price", "exit_time", "exit_price", "quantity",
    "fees", "funding", "pnl", "return", "exit_reason", "entry_bar", "exit_bar",
)
"""One row per trade. Prices are fills (slippage included); `pnl` is net of fees and funding;
`return` is pnl over the entry notional; bars are positions in that symbol's candle frame."""

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
TOTAL = "total"
"""The equity column holding the sum of all symbols."""


class InvalidMarketData(DomainError):
    """Candles a backtest must not run on: NaN or non-positive prices, unsorted or duplicate bars."""


class InsufficientData(DomainError):
    """Fewer bars than the strategy's warm-up needs before it can trade."""


class AccountBlown(DomainError):
    """A sleeve's equity would go below zero: a losing short could not be covered."""


@dataclass(frozen=True)
class Costs:
    """What every fill costs, and the capital a backtest starts with (split evenly across symbols)."""

    fee_rate: float = 0.00045
    slippage: float = 0.0005
    initial_capital: float = 10_000.0

    def __post_init__(self) -> None:
        for name, value, upper in (("fee_rate", self.fee_rate, 0.1), ("slippage", self.slippage, 0.5)):
            if not (isinstance(value, int | float) and math.isfinite(value) and 0 <= value < upper):
                raise DomainError(f"{name} must be a fraction in [0, {upper}), got {value!r}")
        capital = self.initial_capital
        if not (isinstance(capital, int | float) and math.isfinite(capital) and capital > 0):
            raise DomainError(f"initial_capital must be a positive number, got {capital!r}")


@dataclass(frozen=True, eq=False)
class BacktestRun:
    """An engine's result as plain data: no engine objects cross the port."""

    trades: pd.DataFrame          # TRADE_COLUMNS
    equity: pd.DataFrame          # one column per symbol, plus "total", at each bar's close
    metrics: dict[str, Any]       # domain.metrics.METRIC_NAMES over all symbols together
    timeframe: str
    initial_capital: float        # of all symbols together; each symbol had an equal share
    bars: dict[str, int] = field(default_factory=dict)  # bars per symbol, in column order

    def daily_returns(self) -> pd.Series:
        """Returns of the total equity from one UTC day's last close to the next: what correlations use."""
        return self.equity[TOTAL].resample("1D").last().pct_change().dropna()

    def symbol_metrics(self) -> dict[str, dict[str, Any]]:
        """The same metrics for each symbol on its own share of the capital (computed on demand)."""
        symbols = list(self.bars)
        if not symbols:
            return {}
        rows = self.equity[symbols].to_numpy(dtype=float).T
        codes = pd.Categorical(self.trades["symbol"], categories=symbols).codes
        share = self.initial_capital / len(symbols)
        found = compute_metrics(rows, np.full(len(symbols), share), month_numbers(pd.DatetimeIndex(self.equity.index)),
                                bars_per_year(self.timeframe), trade_stats(self.trades, codes),
                                np.array([self.bars[s] for s in symbols]))
        return dict(zip(symbols, found, strict=True))


def total_metrics(equity: pd.DataFrame, trades: pd.DataFrame, initial_capital: float, timeframe: str,
                  bars: int) -> dict[str, Any]:
    """METRIC_NAMES for the "total" equity column and every trade: what an engine reports."""
    row = equity[TOTAL].to_numpy(dtype=float).reshape(1, -1)
    return compute_metrics(row, np.array([initial_capital]), month_numbers(pd.DatetimeIndex(equity.index)),
                           bars_per_year(timeframe), trade_stats(trades, np.zeros(len(trades), dtype=np.int64)),
                           np.array([bars]))[0]


def check_prices(symbol: str, candles: pd.DataFrame) -> None:
    """Refuse candles with a NaN or non-positive price, naming the first bad timestamp."""
    index = candles.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise InvalidMarketData(f"{symbol}: candles need a UTC DatetimeIndex of bar open times")
    if not index.is_monotonic_increasing or index.has_duplicates:
        raise InvalidMarketData(f"{symbol}: bar open times must be sorted and unique")
    missing = [c for c in PRICE_COLUMNS if c not in candles.columns]
    if missing:
        raise InvalidMarketData(f"{symbol}: candles lack column(s) {', '.join(missing)}")
    prices = candles[list(PRICE_COLUMNS)].to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(prices) & (prices > 0))
    if bad.any():
        row, col = divmod(int(np.argmax(bad)), len(PRICE_COLUMNS))
        raise InvalidMarketData(
            f"{symbol}: {PRICE_COLUMNS[col]} is {prices[row, col]} at {index[row]} (row {row}); "
            "prices must be finite and positive"
        )


def check_warmup(owner: str, symbol: str, bars: int, warmup: int) -> None:
    """A strategy trades from bar warmup on, and a signal needs the next bar to fill."""
    if bars <= warmup + 1:
        raise InsufficientData(
            f"{owner} needs more than {warmup + 1} bars ({warmup} of warm-up, then a bar to fill on); "
            f"{symbol} has {bars}"
        )


def bars_per_year(timeframe: str) -> float:
    """Crypto trades around the clock: a year is 365 days of bars."""
    return float(pd.Timedelta(days=365) / timeframe_delta(timeframe))


def funding_per_bar(index: pd.DatetimeIndex, timeframe: str, rates: pd.Series | None) -> np.ndarray:
    """The funding rate due in each bar: the sum of events whose time lies in [open, open + timeframe).

    Events before the first bar, after the last one or inside a gap in the data are dropped:
    no bar, no position to charge.
    """
    due = np.zeros(len(index))
    if rates is None or len(rates) == 0 or len(index) == 0:
        return due
    times = pd.DatetimeIndex(rates.index).as_unit("ns").asi8
    opens = index.as_unit("ns").asi8
    bar = np.searchsorted(opens, times, side="right") - 1
    inside = (bar >= 0) & (times < opens[np.clip(bar, 0, None)] + timeframe_delta(timeframe).value)
    values = rates.to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(values[inside]).any():
        raise InvalidMarketData("funding rates contain NaN")
    np.add.at(due, bar[inside], values[inside])
    return due
