"""Walk-forward: the window arithmetic, the search, and the two ways a strategy fails."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from adapters.inprocess.strategy_loader import InProcessStrategyLoader
from adapters.parquet.loader import load_candles
from adapters.vectorbt.engine import VectorbtBacktestEngine
from application.walk_forward import WalkForwardOptimiser
from domain.backtest import BacktestRun, Costs
from domain.validation.errors import InvalidValidationInput, TooFewBars, TooManyParameters
from domain.validation.walk_forward_windows import (
    average_parameters,
    bars_needed,
    parameter_combinations,
    parameter_cv,
    plan_windows,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "ohlcv"
COSTS = Costs()
Score = Callable[[int, float, int, int], float]  # p, q, first bar, bars -> Sharpe


def flat_candles(bars: int, start: str = "2025-01-01") -> pd.DataFrame:
    index = pd.date_range(start, periods=bars, freq="1h", tz="UTC")
    close = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, bars)))
    return pd.DataFrame({"open": close, "high": close * 1.01, "low": close * 0.99, "close": close, "volume": 1.0},
                        index=index)


def encoded_signals(candles: Mapping[str, pd.DataFrame]) -> Callable[[dict[str, Any]], dict[str, pd.DataFrame]]:
    """Frames that carry the parameters (size = p / 1000, tp_pct = q) so the fake engine can read them."""
    def signals_for(params: dict[str, Any]) -> dict[str, pd.DataFrame]:
        return {s: pd.DataFrame({"long_entry": False, "short_entry": False, "exit": False,
                                 "size": params["p"] / 1000, "sl_pct": np.nan, "tp_pct": float(params.get("q", 1.0))},
                                index=c.index) for s, c in candles.items()}
    return signals_for


class ScoringEngine:
    """Implements the port: the Sharpe of a slice is score(p, q, first bar, bars), bars counted in `timeline`."""

    def __init__(self, timeline: pd.DatetimeIndex, score: Score) -> None:
        self.timeline = timeline
        self.score = score
        self.calls: list[tuple[tuple[str, ...], int, int]] = []

    def run(self, candles: Mapping[str, pd.DataFrame], signals: Mapping[str, pd.DataFrame], *, timeframe: str,
            costs: Costs, funding: Mapping[str, pd.Series] | None = None) -> BacktestRun:
        frame = next(iter(signals.values()))
        first = int(self.timeline.searchsorted(frame.index[0]))
        self.calls.append((tuple(candles), first, len(frame)))
        p, q = round(float(frame["size"].iloc[0]) * 1000), float(frame["tp_pct"].iloc[0])
        sharpe = self.score(p, q, first, len(frame))
        metrics = {"sharpe_ratio": sharpe, "total_return": sharpe / 100, "total_trades": 3}
        return BacktestRun(pd.DataFrame(), pd.DataFrame(), metrics, timeframe, costs.initial_capital, {})


def optimise(score: Score, grid: dict[str, list[Any]], bars: int = 1000, **options: Any) -> Any:
    candles = {"BTC": flat_candles(bars)}
    engine = ScoringEngine(candles["BTC"].index, score)
    report = WalkForwardOptimiser(engine, COSTS, **options).run(
        candles, encoded_signals(candles), param_grid=grid, default_params={"p": 10, "q": 1.0}, timeframe="1h")
    return report, engine


# 1000 bars, 4 windows, 75 % train: test = floor(1000 * 0.25 / 1.75) = 142, train = 426, 6 bars unused.
PINNED = [(6, 432, 432, 574), (148, 574, 574, 716), (290, 716, 716, 858), (432, 858, 858, 1000)]
TRAIN_STARTS = [w[0] for w in PINNED]
TEST_STARTS = [w[2] for w in PINNED]


def test_window_arithmetic_is_pinned() -> None:
    found = plan_windows(1000, 4, 0.75)
    assert [(w.train_start, w.train_end, w.test_start, w.test_end) for w in found] == PINNED
    assert [w.index for w in found] == [0, 1, 2, 3]


@pytest.mark.parametrize(("bars", "windows", "ratio"), [(1000, 4, 0.75), (777, 3, 0.6), (5000, 6, 0.8),
                                                        (250, 1, 0.5), (18744, 5, 0.7)])
def test_windows_tile_the_end_of_the_data(bars: int, windows: int, ratio: float) -> None:
    found = plan_windows(bars, windows, ratio)
    assert found[-1].test_end == bars and found[0].train_start >= 0
    assert all(a.test_end == b.test_start for a, b in itertools.pairwise(found))
    assert all(w.train_end == w.test_start for w in found)
    assert len({(w.train_end - w.train_start, w.test_end - w.test_start) for w in found}) == 1
    train, test = found[0].train_end - found[0].train_start, found[0].test_end - found[0].test_start
    assert abs(train / (train + test) - ratio) < 2 / test
    assert found[0].train_start < (ratio + windows * (1 - ratio)) / (1 - ratio) + 2  # only rounding is dropped


def test_too_few_bars_names_the_bars_needed() -> None:
    needed = bars_needed(4, 0.75, 20)
    assert needed == 140
    plan_windows(needed, 4, 0.75, 20)
    with pytest.raises(TooFewBars, match="needs at least 140 bars") as caught:
        plan_windows(needed - 1, 4, 0.75, 20)
    assert (caught.value.needed, caught.value.available) == (140, 139)
    with pytest.raises(TooFewBars, match="140"):
        optimise(lambda *_: 1.0, {"p": [10]}, bars=139)


def test_grid_order_and_limits() -> None:
    combos = parameter_combinations({"p": [1, 2], "q": [0.5, 1.5]}, {"p": 9, "r": "x"}, 4)
    assert combos == [{"p": 1, "r": "x", "q": 0.5}, {"p": 1, "r": "x", "q": 1.5},
                      {"p": 2, "r": "x", "q": 0.5}, {"p": 2, "r": "x", "q": 1.5}]
    assert parameter_combinations({}, {"p": 9}, 4) == [{"p": 9}]
    with pytest.raises(TooManyParameters, match="5 parameters"):
        parameter_combinations({k: [1] for k in "abcde"}, {}, 4)
    with pytest.raises(InvalidValidationInput, match="non-empty"):
        parameter_combinations({"p": []}, {}, 4)
    with pytest.raises(TooManyParameters):
        optimise(lambda *_: 1.0, {"p": [10], "q": [1.0]}, max_parameters=1)


def test_averaging_keeps_each_parameters_type() -> None:
    chosen = [{"p": 10, "q": 0.5, "mode": "b"}, {"p": 11, "q": 1.0, "mode": "a"},
              {"p": 10, "q": 1.5, "mode": "a"}, {"p": 11, "q": 1.0, "mode": "b"}]
    grid = {"p": [10, 11], "q": [0.5, 1.0, 1.5], "mode": ["a", "b"]}
    averaged = average_parameters(chosen, grid, {"p": 1, "q": 0.1, "mode": "z", "fixed": 7})
    assert averaged == {"p": 11, "q": 1.0, "mode": "b", "fixed": 7}   # 10.5 rounds up; "b" was first on the tie
    assert isinstance(averaged["p"], int)
    cv = parameter_cv(chosen, grid)
    assert set(cv) == {"p", "q"}
    assert cv["p"] == pytest.approx(0.5 / 10.5) and cv["q"] == pytest.approx(np.std([0.5, 1, 1.5, 1]) / 1.0)
    assert parameter_cv([{"p": 0}, {"p": 0}], {"p": [0, 1]}) == {"p": 0.0}
    assert parameter_cv([{"p": -1}, {"p": 1}], {"p": [-1, 1]}) == {"p": float("inf")}


def test_parameters_that_jump_between_windows_are_rejected() -> None:
    best = dict(zip(TRAIN_STARTS, [10, 90, 10, 90], strict=True))

    def score(p: int, q: float, first: int, bars: int) -> float:
        return 3.0 - abs(p - best[first]) / 100 if bars == 426 else 2.0

    report, _ = optimise(score, {"p": [10, 50, 90]})
    assert [w.best_params["p"] for w in report.windows] == [10, 90, 10, 90]
    assert not report.passed and report.averaged_params is None
    assert report.parameter_cv["p"] == pytest.approx(40 / 50)
    assert len(report.reasons) == 1 and "parameter 'p'" in report.reasons[0] and "0.80" in report.reasons[0]


def test_stable_parameters_pass_with_their_average() -> None:
    best = dict(zip(TRAIN_STARTS, [10, 12, 10, 12], strict=True))

    def score(p: int, q: float, first: int, bars: int) -> float:
        if bars == 142:   # a test part
            return 1.5 + first / 1000
        return 3.0 - abs(p - best[first]) - abs(q - 2.0)

    report, engine = optimise(score, {"p": [8, 10, 12, 14], "q": [1.0, 2.0]})
    assert report.passed and report.reasons == []
    assert report.averaged_params == {"p": 11, "q": 2.0}
    assert [w.test_sharpe for w in report.windows] == [1.5 + s / 1000 for s in TEST_STARTS]
    assert [w.train_sharpe for w in report.windows] == [3.0] * 4
    assert report.combinations == 8 and (report.train_bars, report.test_bars) == (426, 142)
    assert len(engine.calls) == 8 * 4 * 2   # every combination, every window, train and test once


def test_a_weak_out_of_sample_window_is_named() -> None:
    def score(p: int, q: float, first: int, bars: int) -> float:
        return 0.4 if (first, bars) == (TEST_STARTS[2], 142) else 2.0

    report, _ = optimise(score, {"p": [10, 20]})
    assert not report.passed
    assert len(report.reasons) == 1 and report.reasons[0].startswith("window 2 ")
    assert "Sharpe 0.40 < min_sharpe 1.00" in report.reasons[0]
    assert [w.best_params["p"] for w in report.windows] == [10] * 4   # all tied: the first point of the grid


def test_an_empty_grid_only_evaluates_the_defaults() -> None:
    report, engine = optimise(lambda p, q, first, bars: float(p), {})
    assert report.passed and report.averaged_params == {"p": 10, "q": 1.0}
    assert all(w.train_sharpe is None and w.best_params == {"p": 10, "q": 1.0} for w in report.windows)
    assert [first for _, first, _ in engine.calls] == TEST_STARTS
    assert report.to_dict()["windows"][0]["train_sharpe"] is None


def test_symbols_listed_later_join_the_windows_that_hold_them() -> None:
    btc, eth = flat_candles(1000), flat_candles(400, start="2025-01-26")   # ETH from bar 600
    candles = {"BTC": btc, "ETH": eth}
    engine = ScoringEngine(btc.index, lambda *_: 2.0)
    WalkForwardOptimiser(engine, COSTS).run(candles, encoded_signals(candles), param_grid={},
                                            default_params={"p": 10}, timeframe="1h")
    assert [symbols for symbols, _, _ in engine.calls] == [("BTC",), ("BTC", "ETH"), ("BTC", "ETH"), ("BTC", "ETH")]


@pytest.fixture(scope="module")
def ema_cross() -> tuple[type, dict[str, pd.DataFrame]]:
    path = ROOT / "examples" / "strategies" / "mom_ema_cross.py"
    cls = InProcessStrategyLoader().load(path.read_text(), str(path))
    return cls, {"BTC": load_candles(DATA / "BINANCEUSDM_BTCUSDT_1h.parquet").iloc[-6000:]}


def test_real_engine_scores_slices_of_the_full_signals(ema_cross: tuple[type, dict[str, pd.DataFrame]]) -> None:
    cls, candles = ema_cross
    engine = VectorbtBacktestEngine()

    def signals_for(params: dict[str, Any]) -> dict[str, pd.DataFrame]:
        strategy = cls(params)
        return {s: strategy.checked_signals(frame) for s, frame in candles.items()}

    optimiser = WalkForwardOptimiser(engine, COSTS, windows=3)
    options = {"param_grid": cls.param_grid, "default_params": cls.default_params, "timeframe": "1h"}
    report = optimiser.run(candles, signals_for, **options)
    assert report.to_dict() == optimiser.run(candles, signals_for, **options).to_dict()   # deterministic
    assert report.windows[-1].test_end == candles["BTC"].index[-1]
    last = report.windows[-1]
    frame = candles["BTC"].loc[last.test_start:last.test_end]
    direct = engine.run({"BTC": frame}, {"BTC": signals_for(last.best_params)["BTC"].loc[frame.index]},
                        timeframe="1h", costs=COSTS)
    assert last.test_sharpe == pytest.approx(direct.metrics["sharpe_ratio"])
    assert last.test_trades == direct.metrics["total_trades"] > 0
    assert report.passed == (not report.reasons)
    assert all(set(w.best_params) == set(cls.default_params) for w in report.windows)


def test_a_large_grid_is_thinned_evenly_and_keeps_the_defaults() -> None:
    from application.walk_forward import thinned
    from domain.validation.walk_forward_windows import parameter_combinations

    grid = {"a": [1, 2, 3, 4], "b": [10, 20, 30, 40], "c": [5, 6]}
    combos = parameter_combinations(grid, {"a": 3, "b": 30, "c": 6}, 4)
    kept = thinned(combos, {"a": 3, "b": 30, "c": 6}, 8)
    assert len(combos) == 32 and len(kept) == 8 and kept[0] == combos[0]
    assert {"a": 3, "b": 30, "c": 6} in kept and {k["a"] for k in kept} == {1, 2, 3, 4}
    assert thinned(combos, {}, None) == combos and thinned(combos, {}, 64) == combos
    assert thinned(combos, {}, 8) == thinned(combos, {}, 8)  # deterministic
