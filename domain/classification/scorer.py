"""The composite score (0-100) that ranks backtested strategies before portfolio selection.

    score = 100 * sum_k weight_k * clip((x_k - lo_k) / (hi_k - lo_k), 0, 1)

Each component is mapped onto [0, 1] between a floor (no credit) and a ceiling (full credit), so
one outstanding number cannot buy a place for a strategy that is weak elsewhere: a Sharpe of 9
earns no more than a Sharpe of 3. The components:

- edge: `expectancy`, the mean trade return (pnl over entry notional, net of costs) as a fraction.
  Chosen over `ed_ratio` because ed_ratio is None without a drawdown and, being expectancy over
  max drawdown, counts the drawdown twice (the portfolio gate caps drawdown separately). 1% a
  trade (the default ceiling) is an excellent net edge for a perp strategy.
- sharpe: the annualised `sharpe_ratio` of the backtest (365-day years).
- consistency: `consistency`, the share of calendar months whose equity rose. A coin flip gives
  about 0.5, so the floor sits at 0.3 and the ceiling at 0.8.
- stability: how steady the walk-forward out-of-sample Sharpe ratios were
  (`stability_from_windows`); 0 when no walk-forward ran, so an unchecked strategy never outranks
  an equally good checked one.

A metric that is missing, None or not finite scores 0 for its component (`raw` keeps None): an
unknown is not evidence of quality.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from domain.classification.errors import InvalidClassificationInput, InvalidScoreWeights

COMPONENTS: tuple[str, ...] = ("edge", "sharpe", "consistency", "stability")
METRIC_FOR: dict[str, str] = {"edge": "expectancy", "sharpe": "sharpe_ratio", "consistency": "consistency"}
"""The backtest metric (domain.metrics.METRIC_NAMES) behind each component; stability comes from walk-forward."""
WEIGHT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class ScoreWeights:
    """How much each component counts; finite, >= 0 and summing to 1 (within 1e-9), else InvalidScoreWeights.

    Defaults match config.yaml `classification.weights`.
    """

    edge: float = 0.4
    sharpe: float = 0.3
    consistency: float = 0.2
    stability: float = 0.1

    def __post_init__(self) -> None:
        values = self.as_dict()
        for name, value in values.items():
            if not (_is_number(value) and math.isfinite(value) and value >= 0):
                raise InvalidScoreWeights(f"weight {name} must be a finite number >= 0, got {value!r}")
        total = math.fsum(values.values())
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            raise InvalidScoreWeights(f"score weights must sum to 1, they sum to {total:.12g}")

    def as_dict(self) -> dict[str, float]:
        return {"edge": self.edge, "sharpe": self.sharpe, "consistency": self.consistency,
                "stability": self.stability}


@dataclass(frozen=True)
class ScoreBounds:
    """(lo, hi) per component: at or below lo a component earns 0, at or above hi it earns full weight."""

    edge: tuple[float, float] = (0.0, 0.01)
    sharpe: tuple[float, float] = (0.0, 3.0)
    consistency: tuple[float, float] = (0.3, 0.8)
    stability: tuple[float, float] = (0.0, 1.0)

    def __post_init__(self) -> None:
        for name, (lo, hi) in self.as_dict().items():
            if not (_is_number(lo) and _is_number(hi) and math.isfinite(lo) and math.isfinite(hi) and hi > lo):
                raise InvalidClassificationInput(f"bounds of {name} must be finite with hi > lo, got ({lo!r}, {hi!r})")

    def as_dict(self) -> dict[str, tuple[float, float]]:
        return {"edge": self.edge, "sharpe": self.sharpe, "consistency": self.consistency,
                "stability": self.stability}


@dataclass(frozen=True)
class ScoreBreakdown:
    """`score` in [0, 100]; `components`: each normalised value in [0, 1]; `raw`: the inputs (None if unknown)."""

    score: float
    components: dict[str, float] = field(default_factory=dict)
    raw: dict[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "components": dict(self.components), "raw": dict(self.raw)}


def score(metrics: Mapping[str, Any], stability: float, weights: ScoreWeights | None = None,
          bounds: ScoreBounds | None = None) -> ScoreBreakdown:
    """The composite score of one backtest's `metrics` and its walk-forward `stability` (0 without one)."""
    weights = weights or ScoreWeights()
    bounds = bounds or ScoreBounds()
    raw: dict[str, float | None] = {name: _finite(metrics.get(key)) for name, key in METRIC_FOR.items()}
    raw["stability"] = _finite(stability)
    limits = bounds.as_dict()
    components = {name: _normalise(raw[name], *limits[name]) for name in COMPONENTS}
    weight = weights.as_dict()
    total = 100.0 * math.fsum(weight[name] * components[name] for name in COMPONENTS)
    return ScoreBreakdown(min(100.0, max(0.0, total)), components, raw)


def stability_from_windows(test_sharpes: Sequence[float]) -> float:
    """share of windows with a positive OOS Sharpe * (1 - min(1, CV of the OOS Sharpes)), in [0, 1].

    The first factor asks "did it keep making money out of sample", the second "by a similar
    amount each time": a strategy with one great window and three flat ones is fitted to a
    period. CV is the population standard deviation over |mean|; a mean of 0 counts as CV 1
    (no stability). No windows (no walk-forward ran) give 0. A single positive window gives 1:
    callers wanting stronger evidence should run more windows. Non-finite Sharpes are refused
    (InvalidClassificationInput): a walk-forward reports finite ones.
    """
    values = np.asarray(list(test_sharpes), dtype=float)
    if len(values) == 0:
        return 0.0
    if not np.isfinite(values).all():
        raise InvalidClassificationInput(f"walk-forward Sharpe ratios must be finite, got {values.tolist()}")
    share_positive = float(np.mean(values > 0))
    mean = abs(float(values.mean()))
    cv = float(values.std(ddof=0)) / mean if mean > 0 else 1.0
    return share_positive * (1.0 - min(1.0, cv))


def _normalise(value: float | None, lo: float, hi: float) -> float:
    if value is None:
        return 0.0
    return min(1.0, max(0.0, (value - lo) / (hi - lo)))


def _finite(value: Any) -> float | None:
    """A plain finite float, or None for missing, None, NaN, infinite or non-numeric values."""
    if not _is_number(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
