"""Walk-forward optimisation: do the parameters a strategy would have picked keep working out of sample?

A grid search on all the data finds parameters that fit its noise. Here each window picks the
best parameters on its train part only and is scored on the test part that follows, which it
never saw. A strategy passes when every window's out-of-sample Sharpe reaches `min_sharpe` and
the windows agree on the parameters (coefficient of variation <= `max_cv`): parameters that jump
between windows were fitted to each period, not found. The window arithmetic is in
domain/validation/walk_forward_windows.py.

Signals are computed once per parameter combination on the full candles and then sliced. The
strategy has passed the prefix-invariance lookahead check, so row t depends only on rows <= t:
a slice of the full signals is what the strategy would compute on that slice, except that its
indicators are warmed up by the bars before it. Each combination's test parts are backtested
along with its train parts so its signals need not be kept; only train scores choose.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from application.ports.backtest_engine import BacktestEngine
from domain.backtest import Costs
from domain.validation.errors import InvalidValidationInput
from domain.validation.walk_forward_windows import (
    WindowBounds,
    average_parameters,
    parameter_combinations,
    parameter_cv,
    plan_windows,
)

SignalsFor = Callable[[dict[str, Any]], Mapping[str, pd.DataFrame]]
"""params -> checked signal frames per symbol, on the full candles' index."""

_Slices = dict[str, tuple[int, int]]  # symbol -> [start, stop) rows of its own frame


@dataclass(frozen=True)
class WindowResult:
    """One window; times are the open times of each part's first and last bar (both inclusive).

    `train_sharpe` is None when nothing was optimised (an empty grid). Sharpe ratios are the
    backtest's annualised `sharpe_ratio`.
    """

    index: int
    train_start: pd.Timestamp
    train_end: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp
    best_params: dict[str, Any]
    train_sharpe: float | None
    test_sharpe: float
    test_return: float
    test_trades: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "train_start": self.train_start.isoformat(), "train_end": self.train_end.isoformat(),
            "test_start": self.test_start.isoformat(), "test_end": self.test_end.isoformat(),
            "best_params": _json(self.best_params), "train_sharpe": _json(self.train_sharpe),
            "test_sharpe": _json(self.test_sharpe), "test_return": _json(self.test_return),
            "test_trades": self.test_trades,
        }


@dataclass(frozen=True)
class WalkForwardReport:
    """`averaged_params` is the set to trade when `passed`, else None; `reasons` say why it failed."""

    passed: bool
    reasons: list[str]
    windows: list[WindowResult]
    averaged_params: dict[str, Any] | None
    parameter_cv: dict[str, float]
    combinations: int = 1
    train_bars: int = 0
    test_bars: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: timestamps as ISO strings, an infinite CV as None."""
        return {
            "passed": self.passed, "reasons": list(self.reasons), "windows": [w.to_dict() for w in self.windows],
            "averaged_params": _json(self.averaged_params), "parameter_cv": _json(self.parameter_cv),
            "combinations": self.combinations, "train_bars": self.train_bars, "test_bars": self.test_bars,
        }


class WalkForwardOptimiser:
    def __init__(self, engine: BacktestEngine, costs: Costs, *, windows: int = 4, train_ratio: float = 0.75,
                 min_sharpe: float = 1.0, max_cv: float = 0.3, max_parameters: int = 4,
                 min_part_bars: int = 20, max_combinations: int | None = None) -> None:
        """`max_combinations`: a larger grid is searched on that many evenly spread points (defaults kept)."""
        if not (math.isfinite(min_sharpe) and math.isfinite(max_cv) and max_cv >= 0):
            raise InvalidValidationInput(f"min_sharpe must be finite and max_cv finite and >= 0, got "
                                         f"{min_sharpe!r}, {max_cv!r}")
        self._engine = engine
        self._costs = costs
        self._windows = windows
        self._train_ratio = train_ratio
        self._min_sharpe = min_sharpe
        self._max_cv = max_cv
        self._max_parameters = max_parameters
        self._min_part_bars = min_part_bars
        self._max_combinations = max_combinations

    def run(self, candles: Mapping[str, pd.DataFrame], signals_for: SignalsFor, *,
            param_grid: Mapping[str, Sequence[Any]], default_params: Mapping[str, Any],
            timeframe: str) -> WalkForwardReport:
        """Search `param_grid` (merged over `default_params`) on each train part, score on each test part."""
        combos = thinned(parameter_combinations(param_grid, default_params, self._max_parameters),
                         default_params, self._max_combinations)
        if not candles:
            raise InvalidValidationInput("walk-forward needs the candles of at least one symbol")
        indexes = [pd.DatetimeIndex(frame.index) for frame in candles.values()]
        timeline = indexes[0]
        for other in indexes[1:]:  # symbols listed at different times: the union of their bars
            timeline = timeline.union(other)
        plan = plan_windows(len(timeline), self._windows, self._train_ratio, self._min_part_bars)
        parts = [(_slices(candles, timeline, w.train_start, w.train_end),
                  _slices(candles, timeline, w.test_start, w.test_end)) for w in plan]
        optimise = bool(param_grid)
        train = [[-math.inf] * len(plan) for _ in combos]
        test: list[list[tuple[float, float, int]]] = [[] for _ in combos]
        for c, params in enumerate(combos):
            signals = _checked_signals(signals_for(dict(params)), candles, params)
            for w, (train_part, test_part) in enumerate(parts):
                if optimise:
                    train[c][w] = _score(self._backtest(candles, signals, train_part, timeframe))
                found = self._backtest(candles, signals, test_part, timeframe)
                test[c].append((_score(found), float(found["total_return"]), int(found["total_trades"])))
        return self._report(plan, timeline, combos, train, test, param_grid, default_params, optimise)

    def _backtest(self, candles: Mapping[str, pd.DataFrame], signals: Mapping[str, pd.DataFrame], part: _Slices,
                  timeframe: str) -> dict[str, Any]:
        run = self._engine.run({s: candles[s].iloc[a:b] for s, (a, b) in part.items()},
                               {s: signals[s].iloc[a:b] for s, (a, b) in part.items()},
                               timeframe=timeframe, costs=self._costs)
        return run.metrics

    def _report(self, plan: list[WindowBounds], timeline: pd.DatetimeIndex, combos: list[dict[str, Any]],
                train: list[list[float]], test: list[list[tuple[float, float, int]]],
                param_grid: Mapping[str, Sequence[Any]], default_params: Mapping[str, Any],
                optimise: bool) -> WalkForwardReport:
        results, reasons = [], []
        for w, bounds in enumerate(plan):
            best = max(range(len(combos)), key=lambda c: (train[c][w], -c))  # the first best wins a tie
            sharpe, total_return, trades = test[best][w]
            result = WindowResult(
                w, timeline[bounds.train_start], timeline[bounds.train_end - 1], timeline[bounds.test_start],
                timeline[bounds.test_end - 1], dict(combos[best]), train[best][w] if optimise else None,
                sharpe, total_return, trades,
            )
            results.append(result)
            if not sharpe >= self._min_sharpe:
                reasons.append(f"window {w} ({result.test_start.date()} to {result.test_end.date()}): out-of-sample "
                               f"Sharpe {sharpe:.2f} < min_sharpe {self._min_sharpe:.2f}")
        chosen = [r.best_params for r in results]
        cv = parameter_cv(chosen, param_grid)
        for key, value in cv.items():
            if value > self._max_cv:
                picks = ", ".join(repr(c[key]) for c in chosen)
                reasons.append(f"parameter {key!r}: coefficient of variation {value:.2f} across windows > max_cv "
                               f"{self._max_cv:.2f} (chosen: {picks})")
        passed = not reasons
        averaged = average_parameters(chosen, param_grid, default_params) if passed else None
        first = plan[0]
        return WalkForwardReport(passed, reasons, results, averaged, cv, len(combos),
                                 first.train_end - first.train_start, first.test_end - first.test_start)


def _slices(candles: Mapping[str, pd.DataFrame], timeline: pd.DatetimeIndex, start: int, stop: int) -> _Slices:
    """Each symbol's rows inside timeline[start:stop]; a symbol with under 2 bars there sits the part out."""
    first, last = timeline[start], timeline[stop - 1]
    found = {}
    for symbol, frame in candles.items():
        index = pd.DatetimeIndex(frame.index)
        a, b = int(index.searchsorted(first, side="left")), int(index.searchsorted(last, side="right"))
        if b - a >= 2:
            found[symbol] = (a, b)
    if not found:
        raise InvalidValidationInput(f"no symbol has 2 bars or more between {first} and {last}")
    return found


def _checked_signals(signals: Mapping[str, pd.DataFrame], candles: Mapping[str, pd.DataFrame],
                     params: Mapping[str, Any]) -> Mapping[str, pd.DataFrame]:
    for symbol, frame in candles.items():
        found = signals.get(symbol)
        if found is None or not found.index.equals(frame.index):
            raise InvalidValidationInput(f"signals for {dict(params)} must cover {symbol} on its full candle index")
    return signals


def _score(metrics: Mapping[str, Any]) -> float:
    """The Sharpe ratio a window is judged by; a missing or non-finite one ranks last."""
    value = metrics.get("sharpe_ratio")
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else -math.inf


def _json(value: Any) -> Any:
    """Plain JSON values: numpy scalars unwrapped, non-finite floats as None, timestamps as ISO strings."""
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def thinned(combos: list[dict[str, Any]], defaults: Mapping[str, Any], limit: int | None) -> list[dict[str, Any]]:
    """At most `limit` points of the grid, evenly spread over its product order, the defaults among them.

    A 4 x 4 x 4 x 4 grid is 256 full walk-forward runs; an evenly spread sample keeps every value of
    the first parameters and most of the others, at a fraction of the cost, and stays deterministic.
    """
    if limit is None or len(combos) <= limit:
        return combos
    if limit < 1:
        raise InvalidValidationInput(f"max_combinations must be at least 1, got {limit}")
    step = (len(combos) - 1) / max(1, limit - 1)
    picked = sorted({round(i * step) for i in range(limit)})
    chosen = [combos[i] for i in picked]
    if dict(defaults) in combos and dict(defaults) not in chosen:
        chosen[-1] = dict(defaults)
    return chosen
