"""Deflated Sharpe ratio (Bailey & López de Prado, 2014): a Sharpe ratio corrected for how many were tried.

The best of N strategies has a high Sharpe ratio even when none has skill. The DSR is the
probability that the true Sharpe ratio exceeds SR0, the Sharpe the best of N skill-less trials
is expected to reach, given the sample's length, skewness and fat tails:

    SR0 = sqrt(V) * ((1 - g) Φ⁻¹(1 - 1/N) + g Φ⁻¹(1 - 1/(N e)))       g: Euler-Mascheroni constant
    DSR = Φ((SR - SR0) sqrt(T - 1) / sqrt(1 - skew SR + (kurt - 1) / 4 SR²))

Units: everything is per period (per bar), never annualised. SR is mean / standard deviation
(ddof=1) of the per-bar returns; V is the variance across the batch of those per-bar Sharpe
ratios, so a caller computes each trial's Sharpe with `per_period_sharpe` on the same kind of
returns (`returns_from_equity`). An annualised Sharpe s over b bars a year is s / sqrt(b) per bar,
and an annualised variance v is v / b. Skewness and kurtosis are the sample's population moments
(kurtosis not excess: 3 for normal returns).

Defined values instead of errors where data are merely uninformative: returns without variance
(a strategy that never trades) have Sharpe 0 and DSR 0.0, no evidence of skill. The
denominator 1 - skew SR + (kurt - 1)/4 SR² is >= (1 - skew SR / 2)² >= 0 because kurt >= 1 + skew²
for population moments; where it is 0 (two-valued returns) the estimate has no spread and the
DSR is 1.0 if SR > SR0 else 0.0. Fewer than 3 returns, NaN returns, trials < 1 or a negative
variance are InvalidValidationInput.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from domain.validation.errors import InvalidValidationInput

EULER_GAMMA = 0.5772156649015329
MIN_OBSERVATIONS = 3
_NORMAL = NormalDist()


@dataclass(frozen=True)
class DeflatedSharpe:
    """`dsr` in [0, 1]; `sharpe` and `sr0` (the benchmark the best of `trials` reaches by luck) per period."""

    dsr: float
    sharpe: float
    sr0: float
    trials: int
    sharpe_variance: float
    skew: float
    kurtosis: float
    observations: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "dsr": self.dsr, "sharpe": self.sharpe, "sr0": self.sr0, "trials": self.trials,
            "sharpe_variance": self.sharpe_variance, "skew": self.skew, "kurtosis": self.kurtosis,
            "observations": self.observations,
        }


def expected_max_sharpe(trials: int, sharpe_variance: float) -> float:
    """SR0: the expected largest of `trials` skill-less Sharpe ratios whose variance is `sharpe_variance`.

    One trial is not a selection, so its benchmark is 0.
    """
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise InvalidValidationInput(f"trials must be an integer >= 1, got {trials!r}")
    if not (math.isfinite(sharpe_variance) and sharpe_variance >= 0):
        raise InvalidValidationInput(f"sharpe_variance must be a finite number >= 0, got {sharpe_variance!r}")
    if trials == 1:
        return 0.0
    quantiles = ((1 - EULER_GAMMA) * _NORMAL.inv_cdf(1 - 1 / trials)
                 + EULER_GAMMA * _NORMAL.inv_cdf(1 - 1 / (trials * math.e)))
    return math.sqrt(sharpe_variance) * quantiles


def per_period_sharpe(returns: np.ndarray) -> float:
    """Mean over standard deviation (ddof=1) of per-bar returns; 0.0 without variance (as domain.metrics).

    Times sqrt(bars per year) it is the backtest's `sharpe_ratio`; use it for every trial of a
    batch so that their variance is in the unit deflated_sharpe_ratio expects.
    """
    values = _checked(returns, minimum=2)
    std = float(values.std(ddof=1))
    return float(values.mean() / std) if std > 0 else 0.0


def returns_from_equity(equity: np.ndarray, initial_capital: float) -> np.ndarray:
    """Per-bar returns of an equity curve starting from `initial_capital`, as domain.metrics computes them."""
    curve = np.concatenate([[float(initial_capital)], np.asarray(equity, dtype=float).ravel()])
    return np.asarray(curve[1:] / curve[:-1] - 1.0)


def probabilistic_sharpe_ratio(returns: np.ndarray, benchmark: float = 0.0) -> float:
    """PSR: the probability that the true per-bar Sharpe ratio of `returns` exceeds `benchmark`."""
    sharpe, skew, kurtosis, observations = _moments(returns)
    if sharpe is None:
        return 0.0
    return psr_from_moments(sharpe, benchmark, observations, skew, kurtosis)


def psr_from_moments(sharpe: float, benchmark: float, observations: int, skew: float, kurtosis: float) -> float:
    """PSR from summary statistics (per-bar Sharpe, T, skewness, non-excess kurtosis), as in the paper."""
    if observations < MIN_OBSERVATIONS:
        raise InvalidValidationInput(f"PSR needs at least {MIN_OBSERVATIONS} observations, got {observations}")
    spread = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe**2
    if spread <= 1e-15:  # the estimator has no spread: certain either way
        return 1.0 if sharpe > benchmark else 0.0
    return _NORMAL.cdf((sharpe - benchmark) * math.sqrt(observations - 1) / math.sqrt(spread))


def deflated_sharpe_ratio(returns: np.ndarray, trials: int, sharpe_variance: float) -> DeflatedSharpe:
    """The DSR of per-bar `returns`, the best of `trials` whose per-bar Sharpe ratios had `sharpe_variance`."""
    sr0 = expected_max_sharpe(trials, sharpe_variance)
    sharpe, skew, kurtosis, observations = _moments(returns)
    if sharpe is None:
        return DeflatedSharpe(0.0, 0.0, sr0, trials, sharpe_variance, 0.0, 3.0, observations)
    dsr = psr_from_moments(sharpe, sr0, observations, skew, kurtosis)
    return DeflatedSharpe(dsr, sharpe, sr0, trials, sharpe_variance, skew, kurtosis, observations)


def _moments(returns: np.ndarray) -> tuple[float | None, float, float, int]:
    """(Sharpe or None without variance, skewness, kurtosis, T)."""
    values = _checked(returns, minimum=MIN_OBSERVATIONS)
    centred = values - values.mean()
    m2 = float(np.mean(centred**2))
    if m2 <= 0 or values.std(ddof=1) <= 0:
        return None, 0.0, 3.0, len(values)
    skew = float(np.mean(centred**3)) / m2**1.5
    kurtosis = float(np.mean(centred**4)) / m2**2
    return float(values.mean() / values.std(ddof=1)), skew, kurtosis, len(values)


def _checked(returns: np.ndarray, minimum: int) -> np.ndarray:
    values = np.asarray(returns, dtype=float).ravel()
    if len(values) < minimum:
        raise InvalidValidationInput(f"need at least {minimum} returns, got {len(values)}")
    if not np.isfinite(values).all():
        raise InvalidValidationInput("returns must be finite (drop the NaN a pct_change leaves first)")
    return values
