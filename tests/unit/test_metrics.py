from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from domain.backtest import (
    TOTAL,
    BacktestRun,
    InsufficientData,
    InvalidMarketData,
    bars_per_year,
    check_prices,
    check_warmup,
    funding_per_bar,
    total_metrics,
)
from domain.metrics import METRIC_NAMES


def trades(pnl: list[float], returns: list[float], hours: list[float], reasons: list[str],
           bars: list[tuple[int, int]]) -> pd.DataFrame:
    start = pd.Timestamp("2025-01-01", tz="UTC")
    return pd.DataFrame({
        "symbol": "X", "pnl": pnl, "return": returns, "exit_reason": reasons,
        "entry_time": [start] * len(pnl), "exit_time": [start + pd.Timedelta(hours=h) for h in hours],
        "entry_bar": [b[0] for b in bars], "exit_bar": [b[1] for b in bars],
    })


def curve(values: list[float], freq: str = "1D", start: str = "2025-01-30") -> pd.DataFrame:
    index = pd.date_range(start, periods=len(values), freq=freq, tz="UTC")
    return pd.DataFrame({"X": values, TOTAL: values}, index=index)


def test_every_metric_on_a_hand_worked_example() -> None:
    equity = curve([110.0, 99.0, 121.0, 121.0])            # Jan 30, Jan 31, Feb 1, Feb 2
    log = trades([10.0, -11.0, 22.0], [0.1, -0.1, 0.2], [24, 48, 12], ["tp", "signal", "end"],
                 [(0, 0), (0, 2), (2, 3)])
    m = total_metrics(equity, log, 100.0, "1d", 4)
    returns = np.array([0.1, -0.1, 22 / 99, 0.0])
    assert set(m) == set(METRIC_NAMES)
    assert m["total_return"] == pytest.approx(0.21)
    assert m["sharpe_ratio"] == pytest.approx(returns.mean() / returns.std(ddof=1) * math.sqrt(365))
    assert m["sortino_ratio"] == pytest.approx(returns.mean() / math.sqrt(0.01 / 4) * math.sqrt(365))
    assert m["max_drawdown"] == pytest.approx(0.1)
    assert m["win_rate"] == pytest.approx(2 / 3)
    assert m["expectancy"] == pytest.approx(0.2 / 3)
    assert m["total_trades"] == 3
    assert m["profit_factor"] == pytest.approx(32 / 11)
    assert m["ed_ratio"] == pytest.approx((0.2 / 3) / 0.1)
    assert m["consistency"] == pytest.approx(0.5)         # January fell (100 -> 99), February rose
    assert m["avg_trade_duration"] == pytest.approx(28.0)
    assert m["exposure"] == pytest.approx((1 + 2 + 2) / 4)  # stops and end hold their exit bar


def test_metrics_without_trades_or_losses_are_finite_or_none() -> None:
    flat = total_metrics(curve([100.0, 100.0]), trades([], [], [], [], []), 100.0, "1h", 2)
    assert (flat["sharpe_ratio"], flat["sortino_ratio"], flat["win_rate"], flat["expectancy"]) == (0, 0, 0, 0)
    assert flat["profit_factor"] is None and flat["ed_ratio"] is None and flat["total_trades"] == 0
    rising = total_metrics(curve([101.0, 102.0]), trades([2.0], [0.02], [1], ["end"], [(0, 1)]), 100.0, "1h", 2)
    assert rising["sortino_ratio"] is None and rising["profit_factor"] is None and rising["max_drawdown"] == 0


def test_symbol_metrics_are_each_symbol_on_its_share() -> None:
    equity = curve([50.0, 55.0])
    equity["Y"] = [50.0, 45.0]
    equity[TOTAL] = equity["X"] + equity["Y"]
    log = trades([5.0, -5.0], [0.1, -0.1], [1, 1], ["end", "end"], [(0, 1), (0, 1)])
    log["symbol"] = ["X", "Y"]
    run = BacktestRun(log, equity[["X", "Y", TOTAL]], {}, "1d", 100.0, {"X": 2, "Y": 2})
    by_symbol = run.symbol_metrics()
    assert by_symbol["X"]["total_return"] == pytest.approx(0.1) and by_symbol["Y"]["win_rate"] == 0


def test_bars_per_year_counts_every_day() -> None:
    assert bars_per_year("15m") == 365 * 96 and bars_per_year("1d") == 365


def test_nan_prices_are_refused_with_the_first_bad_timestamp() -> None:
    index = pd.date_range("2025-01-01", periods=4, freq="15min", tz="UTC")
    bars = pd.DataFrame({"open": [1.0, 1, 1, 1], "high": 1.0, "low": [1.0, 1, np.nan, 0],
                         "close": 1.0, "volume": 1.0}, index=index)
    with pytest.raises(InvalidMarketData, match=r"BTC: low is nan at 2025-01-01 00:30:00\+00:00 \(row 2\)"):
        check_prices("BTC", bars)
    with pytest.raises(InvalidMarketData, match="sorted"):
        check_prices("BTC", bars.iloc[::-1])


def test_too_little_data_for_the_warm_up_is_a_clear_error() -> None:
    check_warmup("S", "BTC", 51, 49)
    with pytest.raises(InsufficientData, match=r"S needs more than 50 bars \(49 of warm-up.*BTC has 50"):
        check_warmup("S", "BTC", 50, 49)


def test_funding_events_land_in_the_bar_that_contains_them() -> None:
    index = pd.date_range("2025-01-01", periods=3, freq="4h", tz="UTC")
    events = pd.date_range("2024-12-31 16:00", periods=6, freq="8h", tz="UTC")  # 16:00 the day before ... 08:00
    rates = pd.Series([9.0, 0.1, 0.2, 0.3, 0.4, 9.0], index=events)
    due = funding_per_bar(index, "4h", rates)
    assert due.tolist() == pytest.approx([0.1, 0.0, 0.2])  # 00:00 in bar 0, 08:00 in bar 2, the rest outside
