"""Regime labels from trailing data only, and trades attributed to the regime at their entry bar."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from domain.backtest import TRADE_COLUMNS, BacktestRun
from domain.classification.errors import InsufficientHistory, InvalidClassificationInput
from domain.classification.regimes import (
    ALL_REGIMES,
    UNKNOWN,
    Regime,
    RegimeStats,
    RegimeWindows,
    allowed_in,
    current_regime,
    label_regimes,
    regime_performance,
)


def candles(log_returns: np.ndarray, start: str = "2024-01-01") -> pd.DataFrame:
    close = 100.0 * np.exp(np.cumsum(log_returns))
    index = pd.date_range(start, periods=len(close), freq="h", tz="UTC", name="timestamp")
    return pd.DataFrame({"open": close, "high": close, "low": close, "close": close, "volume": 1.0}, index=index)


def random_walk(n: int, sigma: float, seed: int, drift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(drift, sigma, n)


def test_regime_string_form_round_trips() -> None:
    assert [str(r) for r in ALL_REGIMES] == ["trend/high", "trend/low", "range/high", "range/low"]
    assert Regime.parse("range/low") == Regime("range", "low")
    for bad in ("trend", "up/high", "trend/medium", ""):
        with pytest.raises(InvalidClassificationInput):
            Regime.parse(bad)


def test_a_steady_climb_with_high_volatility_is_trend_high() -> None:
    calm = random_walk(1000, 0.002, seed=1)
    storm = random_walk(100, 0.01, seed=2, drift=0.01)  # drift = sigma: efficiency ratio around 0.8
    frame = candles(np.concatenate([calm, storm]))
    labels = label_regimes(frame)
    assert current_regime(frame) == Regime("trend", "high")
    assert (labels.iloc[-50:] == "trend/high").mean() > 0.9


def test_quiet_chop_after_a_volatile_month_is_range_low() -> None:
    volatile = random_walk(1000, 0.01, seed=3)
    chop = np.tile([0.001, -0.001], 50)
    frame = candles(np.concatenate([volatile, chop]))
    assert current_regime(frame) == Regime("range", "low")


def test_a_flat_window_is_a_range() -> None:
    returns = np.concatenate([random_walk(200, 0.01, seed=4), np.zeros(60)])
    labels = label_regimes(candles(returns))
    assert labels.iloc[-1] == "range/low"


def test_labels_use_only_past_bars() -> None:
    frame = candles(random_walk(1500, 0.005, seed=5, drift=0.0005))
    labels = label_regimes(frame)
    rng = np.random.default_rng(6)
    for cut in (100, 700, 1200):
        changed = frame.copy()
        changed.iloc[cut + 1:, :4] = changed.iloc[cut + 1:, :4] * rng.uniform(0.5, 2.0, (len(frame) - cut - 1, 1))
        relabelled = label_regimes(changed)
        pd.testing.assert_series_equal(relabelled.iloc[:cut + 1], labels.iloc[:cut + 1])
        assert not relabelled.iloc[cut + 1:].equals(labels.iloc[cut + 1:])  # the change was seen later on
        pd.testing.assert_series_equal(label_regimes(frame.iloc[:cut + 1]), labels.iloc[:cut + 1])


def test_bars_before_the_windows_fill_have_no_label() -> None:
    frame = candles(random_walk(200, 0.01, seed=7))
    labels = label_regimes(frame, trend_window=10, vol_window=8, vol_median_window=50)
    first = max(10, 2 * 8 - 1)
    assert labels.iloc[:first].isna().all()
    assert labels.iloc[first:].notna().all()
    assert set(labels.dropna()) <= {str(r) for r in ALL_REGIMES}
    with pytest.raises(InsufficientHistory, match="at least 48 bars"):
        current_regime(frame.iloc[:47])
    current_regime(frame.iloc[:48])


def test_bad_inputs_are_refused() -> None:
    frame = candles(random_walk(100, 0.01, seed=8))
    with pytest.raises(InvalidClassificationInput, match="close"):
        label_regimes(frame.drop(columns="close"))
    broken = frame.copy()
    broken.iloc[5, broken.columns.get_loc("close")] = np.nan
    with pytest.raises(InvalidClassificationInput, match="finite"):
        label_regimes(broken)
    with pytest.raises(InvalidClassificationInput, match="vol_median_window"):
        label_regimes(frame, vol_window=30, vol_median_window=20)
    with pytest.raises(InvalidClassificationInput, match="er_threshold"):
        label_regimes(frame, er_threshold=1.5)


def test_windows_scale_with_the_timeframe() -> None:
    assert RegimeWindows.for_timeframe("1h") == RegimeWindows()
    assert RegimeWindows.for_timeframe("15m") == RegimeWindows(96, 96, 2880)
    assert RegimeWindows.for_timeframe("4h") == RegimeWindows(14, 14, 180)
    assert RegimeWindows.for_timeframe("1d") == RegimeWindows(14, 14, 70)


def run_with(trades: list[tuple[str, int, float]], symbols: list[str]) -> BacktestRun:
    rows = [{column: None for column in TRADE_COLUMNS} | {"symbol": s, "entry_bar": b, "pnl": p}
            for s, b, p in trades]
    frame = pd.DataFrame(rows, columns=list(TRADE_COLUMNS))
    return BacktestRun(trades=frame, equity=pd.DataFrame(), metrics={}, timeframe="1h", initial_capital=10_000.0,
                       bars=dict.fromkeys(symbols, 0))


def test_each_trade_counts_in_its_own_symbols_regime_at_entry() -> None:
    btc = candles(np.concatenate([random_walk(1000, 0.002, seed=9), random_walk(100, 0.01, seed=10, drift=0.01)]))
    eth = candles(np.concatenate([random_walk(1000, 0.01, seed=11), np.tile([0.001, -0.001], 50)]))
    btc_labels, eth_labels = label_regimes(btc), label_regimes(eth)
    assert btc_labels.iloc[1090] == "trend/high" and eth_labels.iloc[1090] == "range/low"
    early_range = int(np.flatnonzero(btc_labels.to_numpy() == "range/low")[0])
    run = run_with([("BTC", 1090, 50.0), ("BTC", 1095, -20.0), ("ETH", 1090, -5.0), ("ETH", 1091, 1.0),
                    ("BTC", early_range, 7.0), ("ETH", 3, 2.0)], ["BTC", "ETH"])
    found = regime_performance(run, {"BTC": btc, "ETH": eth})
    assert found == {
        "trend/high": RegimeStats(2, 30.0, 0.5),
        "range/low": RegimeStats(3, 3.0, 2 / 3),
        UNKNOWN: RegimeStats(1, 2.0, 1.0),
    }
    assert regime_performance(run_with([], ["BTC"]), {"BTC": btc}) == {}


def test_attribution_needs_the_candles_the_backtest_ran_on() -> None:
    btc = candles(random_walk(100, 0.01, seed=12))
    with pytest.raises(InvalidClassificationInput, match="no candles for ETH"):
        regime_performance(run_with([("ETH", 50, 1.0)], ["ETH"]), {"BTC": btc})
    with pytest.raises(InvalidClassificationInput, match="entry_bar outside"):
        regime_performance(run_with([("BTC", 100, 1.0)], ["BTC"]), {"BTC": btc})


def test_a_regime_is_refused_only_on_evidence_of_losses() -> None:
    record = {"trend/high": RegimeStats(12, -123.4, 0.3), "range/low": RegimeStats(3, -50.0, 0.0),
              "range/high": RegimeStats(8, 40.0, 0.6)}
    assert allowed_in(Regime("trend", "high"), record) == (False, "lost money in trend/high (-123.4 over 12 trades)")
    allowed, why = allowed_in("range/low", record)
    assert allowed and "unproven" in why and "3 trades < 5" in why
    assert allowed_in("range/low", record, min_trades=3)[0] is False
    assert allowed_in("range/high", record) == (True, "made 40.0 over 8 trades in range/high")
    assert allowed_in("trend/low", record)[0] is True
    assert "unproven in trend/low (0 trades" in allowed_in("trend/low", record)[1]
    assert RegimeStats.from_dict(record["trend/high"].to_dict()) == record["trend/high"]
