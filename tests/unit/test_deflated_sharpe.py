"""The deflated Sharpe ratio against the paper's worked example, a simulation, and its own limits."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from domain.backtest import bars_per_year
from domain.metrics import compute_metrics, month_numbers, trade_stats
from domain.validation.deflated_sharpe import (
    DeflatedSharpe,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    per_period_sharpe,
    probabilistic_sharpe_ratio,
    psr_from_moments,
    returns_from_equity,
)
from domain.validation.errors import InvalidValidationInput


def test_expected_max_matches_the_maximum_of_simulated_standard_normals() -> None:
    simulated = np.random.default_rng(0).standard_normal((20_000, 100)).max(axis=1).mean()  # ~2.51
    assert expected_max_sharpe(100, 1.0) == pytest.approx(2.531, abs=0.001)
    assert expected_max_sharpe(100, 1.0) == pytest.approx(simulated, abs=0.05)
    assert expected_max_sharpe(100, 0.25) == pytest.approx(0.5 * expected_max_sharpe(100, 1.0))
    assert expected_max_sharpe(1, 4.0) == 0.0


def test_paper_worked_example() -> None:
    """Bailey & López de Prado (2014): annual SR 2.5 over 5 years of daily data, N=100, V=1/2 a year."""
    sr0 = expected_max_sharpe(100, 0.5 / 250)
    assert sr0 == pytest.approx(0.1132, abs=1e-4)
    dsr = psr_from_moments(2.5 / math.sqrt(250), sr0, observations=1250, skew=-3.0, kurtosis=10.0)
    assert dsr == pytest.approx(0.9004, abs=1e-3)


def test_more_trials_deflate_more() -> None:
    returns = np.random.default_rng(1).normal(0.001, 0.01, 2000)
    found = [deflated_sharpe_ratio(returns, n, 0.05**2).dsr for n in (1, 2, 5, 10, 100, 1000)]
    assert all(a > b for a, b in itertools.pairwise(found))
    assert found[0] > 0.99 and found[-1] < 0.5


def test_one_trial_is_the_psr_against_zero() -> None:
    returns = np.random.default_rng(2).standard_t(4, 3000) * 0.01 + 0.0005
    result = deflated_sharpe_ratio(returns, trials=1, sharpe_variance=0.3)
    assert result.sr0 == 0.0
    assert result.dsr == pytest.approx(probabilistic_sharpe_ratio(returns, 0.0), abs=1e-15)


def test_zero_sharpe_normal_returns_give_one_half() -> None:
    returns = np.random.default_rng(3).normal(0, 0.01, 5000)
    result = deflated_sharpe_ratio(returns - returns.mean(), trials=1, sharpe_variance=0.0)
    assert result.dsr == pytest.approx(0.5, abs=1e-9)
    assert result.kurtosis == pytest.approx(3.0, abs=0.2) and result.skew == pytest.approx(0.0, abs=0.1)


def test_moments_are_the_samples_population_moments() -> None:
    returns = np.array([0.01, -0.02, 0.03, 0.00, 0.05, -0.01])
    result = deflated_sharpe_ratio(returns, trials=10, sharpe_variance=0.04)
    c = returns - returns.mean()
    assert result.sharpe == pytest.approx(returns.mean() / returns.std(ddof=1))
    assert result.skew == pytest.approx((c**3).mean() / (c**2).mean() ** 1.5)
    assert result.kurtosis == pytest.approx((c**4).mean() / (c**2).mean() ** 2)
    assert result.sr0 == pytest.approx(expected_max_sharpe(10, 0.04))
    assert result.observations == 6
    assert set(result.to_dict()) == set(DeflatedSharpe.__dataclass_fields__)


def test_per_period_sharpe_is_the_backtest_sharpe_before_annualising() -> None:
    rng = np.random.default_rng(4)
    equity = 10_000 * np.exp(np.cumsum(rng.normal(0.0002, 0.01, 500)))
    index = pd.date_range("2025-01-01", periods=500, freq="1h", tz="UTC")
    empty = pd.DataFrame({"pnl": [], "return": [], "exit_reason": [], "entry_bar": [], "exit_bar": [],
                          "entry_time": pd.DatetimeIndex([], tz="UTC"), "exit_time": pd.DatetimeIndex([], tz="UTC")})
    metrics = compute_metrics(equity.reshape(1, -1), np.array([10_000.0]), month_numbers(index),
                              bars_per_year("1h"), trade_stats(empty, np.zeros(0, dtype=np.int64)),
                              np.array([500]))[0]
    sharpe = per_period_sharpe(returns_from_equity(equity, 10_000.0))
    assert sharpe * math.sqrt(bars_per_year("1h")) == pytest.approx(metrics["sharpe_ratio"])


def test_flat_returns_show_no_skill() -> None:
    result = deflated_sharpe_ratio(np.zeros(100), trials=5, sharpe_variance=0.01)
    assert (result.dsr, result.sharpe) == (0.0, 0.0)
    assert per_period_sharpe(np.zeros(10)) == 0.0


def test_two_valued_returns_on_the_boundary_are_certain() -> None:
    # kurt = 1 + skew² exactly; with SR = 2 / skew the denominator vanishes
    assert psr_from_moments(0.5, 0.1, 100, skew=4.0, kurtosis=17.0) == 1.0
    assert psr_from_moments(0.5, 0.6, 100, skew=4.0, kurtosis=17.0) == 0.0


@pytest.mark.parametrize(("returns", "trials", "variance", "match"), [
    (np.array([0.01, 0.02]), 1, 0.0, "at least 3"),
    (np.array([0.01, np.nan, 0.02, 0.0]), 1, 0.0, "finite"),
    (np.array([0.01, 0.03, 0.02, 0.0]), 0, 0.0, "trials"),
    (np.array([0.01, 0.03, 0.02, 0.0]), 3, -1.0, "sharpe_variance"),
])
def test_bad_input_is_refused(returns: np.ndarray, trials: int, variance: float, match: str) -> None:
    with pytest.raises(InvalidValidationInput, match=match):
        deflated_sharpe_ratio(returns, trials, variance)
