"""Backtest metrics, computed for many equity columns at once.

Thousands of generated strategies are scored, so the metrics work on whole arrays (one column
per symbol plus the total) instead of looping in Python. A metric that has no finite value
(a profit factor without a losing trade, an ed_ratio without a drawdown) is None, never inf:
results are stored as JSON, which has no infinity.

Definitions (docs/backtesting.md): returns are per bar at bar closes; Sharpe and Sortino are
annualised with 365-day years; max_drawdown is a positive fraction of the running peak;
expectancy is the mean trade return (pnl over entry notional); ed_ratio is expectancy over max
drawdown; consistency is the share of calendar months whose equity rose; avg_trade_duration is
in hours; exposure is the share of bars with a position open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

METRIC_NAMES: tuple[str, ...] = (
    "total_return", "sharpe_ratio", "sortino_ratio", "max_drawdown", "win_rate", "expectancy",
    "total_trades", "profit_factor", "ed_ratio", "consistency", "avg_trade_duration", "exposure",
)
_NS_PER_HOUR = 3_600_000_000_000


@dataclass(frozen=True)
class TradeStats:
    """Per trade: the equity row it belongs to, pnl, return, duration in hours, bars it held a position."""

    row: np.ndarray
    pnl: np.ndarray
    ret: np.ndarray
    hours: np.ndarray
    held_bars: np.ndarray


HELD_EXIT_BAR: dict[str, int] = {"tp": 1, "sl": 1, "signal": 0, "reverse": 0, "end": 1}
"""Whether a trade held its exit bar: exits inside a bar (stops) or at its close (end) do; exits at
the open (signal, reverse) do not."""


def trade_stats(trades: pd.DataFrame, row: np.ndarray) -> TradeStats:
    """TradeStats of a trade frame (domain.backtest.TRADE_COLUMNS), each trade assigned to `row`."""
    held = trades["exit_reason"].map(HELD_EXIT_BAR).to_numpy(dtype=np.int64, na_value=0)
    return TradeStats(
        row=np.asarray(row, dtype=np.int64),
        pnl=trades["pnl"].to_numpy(dtype=float),
        ret=trades["return"].to_numpy(dtype=float),
        hours=(_epoch_ns(trades["exit_time"]) - _epoch_ns(trades["entry_time"])) / _NS_PER_HOUR,
        held_bars=trades["exit_bar"].to_numpy(dtype=np.int64) - trades["entry_bar"].to_numpy(dtype=np.int64) + held,
    )


def _epoch_ns(times: pd.Series) -> np.ndarray:
    return np.asarray(pd.DatetimeIndex(times).as_unit("ns").asi8, dtype=np.int64)


def month_numbers(index: pd.DatetimeIndex) -> np.ndarray:
    """A number per bar that changes exactly when the calendar month (UTC) does: months since 1970.

    Bars come sorted, so the few month starts between the first bar and the last are looked up
    and each month's number repeated over its bars: a calendar conversion per bar costs more than
    all the other metrics together.
    """
    stamps = np.asarray(index.as_unit("ns").asi8, dtype=np.int64)
    if len(stamps) < 2 or not index.is_monotonic_increasing:
        return stamps.view("datetime64[ns]").astype("datetime64[M]").astype(np.int64)
    first, last = stamps[[0, -1]].view("datetime64[ns]").astype("datetime64[M]")
    months = np.arange(first, last + 1)
    starts = np.searchsorted(stamps, months[1:].astype("datetime64[ns]").view(np.int64))
    counts = np.diff(np.concatenate(([0], starts, [len(stamps)])))
    return np.repeat(months.astype(np.int64), counts)


def compute_metrics(equity: np.ndarray, initial: np.ndarray, months: np.ndarray, periods_per_year: float,
                    trades: TradeStats, bars: np.ndarray) -> list[dict[str, Any]]:
    """One dict of METRIC_NAMES per row of `equity` (k rows, one value per bar close).

    `trades.row` says which row each trade counts for; `bars` how many bars each row covers;
    `months` holds one calendar-month number per bar. A row, not a column, holds a series so
    that every pass below runs through contiguous memory.
    """
    k, n = equity.shape
    start = np.asarray(initial, dtype=float).reshape(k, 1)
    with_start = np.hstack([start, equity])
    returns = with_start[:, 1:] / with_start[:, :-1] - 1.0
    mean = returns.mean(axis=1)
    std = returns.std(axis=1, ddof=1) if n > 1 else np.zeros(k)
    downside = np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2, axis=1))
    scale = np.sqrt(periods_per_year)
    peak = np.maximum.accumulate(with_start, axis=1)
    max_dd = np.max(1.0 - with_start / peak, axis=1)
    ends = np.append(np.flatnonzero(months[1:] != months[:-1]), n - 1)
    month_end = equity[:, ends]
    month_start = np.hstack([start, month_end[:, :-1]])
    consistency = np.mean(month_end > month_start, axis=1)
    per_trade = _trade_sums(trades, k)
    rows = []
    for j in range(k):
        count, wins, ret_sum, gross_win, gross_loss, hours, held = per_trade[:, j]
        expectancy = ret_sum / count if count else 0.0
        rows.append({
            "total_return": float(equity[j, -1] / start[j, 0] - 1.0),
            "sharpe_ratio": float(mean[j] / std[j] * scale) if std[j] > 0 else 0.0,
            "sortino_ratio": _sortino(mean[j], downside[j], scale),
            "max_drawdown": float(max_dd[j]),
            "win_rate": float(wins / count) if count else 0.0,
            "expectancy": float(expectancy),
            "total_trades": int(count),
            "profit_factor": float(gross_win / gross_loss) if gross_loss > 0 else None,
            "ed_ratio": float(expectancy / max_dd[j]) if max_dd[j] > 0 else None,
            "consistency": float(consistency[j]),
            "avg_trade_duration": float(hours / count) if count else 0.0,
            "exposure": float(held / bars[j]) if bars[j] else 0.0,
        })
    return rows


def _sortino(mean: float, downside: float, scale: float) -> float | None:
    if downside > 0:
        return float(mean / downside * scale)
    return None if mean > 0 else 0.0


def _trade_sums(trades: TradeStats, rows: int) -> np.ndarray:
    """Per row: count, wins, sum of returns, gross win, gross loss, hours, held bars."""
    pnl = trades.pnl

    def by_row(weights: np.ndarray | None) -> np.ndarray:
        return np.bincount(trades.row, weights=weights, minlength=rows).astype(float)

    return np.vstack([
        by_row(None),
        by_row((pnl > 0).astype(float)),
        by_row(trades.ret),
        by_row(np.clip(pnl, 0.0, None)),
        by_row(np.clip(-pnl, 0.0, None)),
        by_row(trades.hours),
        by_row(trades.held_bars.astype(float)),
    ])
