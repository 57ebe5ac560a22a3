"""The shuffle test: foresight is found, luck is not, and the p-value is (k+1)/(n+1) exactly."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adapters.parquet.loader import load_candles
from adapters.vectorbt.engine import VectorbtBacktestEngine
from domain.backtest import TRADE_COLUMNS, BacktestRun, Costs
from domain.validation.errors import InvalidValidationInput
from domain.validation.shuffle import ShuffleResult, edge_and_null, log_returns, positions, shuffle_test

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "ohlcv"


@pytest.fixture(scope="module")
def btc() -> pd.DataFrame:
    return load_candles(DATA / "BINANCEUSDM_BTCUSDT_1h.parquet").iloc[-3000:]


def candles_from_opens(opens: list[float], close: float) -> pd.DataFrame:
    index = pd.date_range("2025-01-01", periods=len(opens), freq="1h", tz="UTC")
    o = np.array(opens, dtype=float)
    c = np.append(o[1:], close)
    return pd.DataFrame({"open": o, "high": np.maximum(o, c), "low": np.minimum(o, c), "close": c, "volume": 1.0},
                        index=index)


def run_of(trades: list[tuple[str, str, int, int, str]], candles: dict[str, pd.DataFrame]) -> BacktestRun:
    """A run holding only what the shuffle test reads: (symbol, side, entry_bar, exit_bar, reason)."""
    rows = []
    for symbol, side, entry, exit_bar, reason in trades:
        index = candles[symbol].index
        rows.append({"symbol": symbol, "side": side, "entry_time": index[entry], "entry_price": 1.0,
                     "exit_time": index[exit_bar], "exit_price": 1.0, "quantity": 1.0, "fees": 0.0, "funding": 0.0,
                     "pnl": 0.0, "return": 0.0, "exit_reason": reason, "entry_bar": entry, "exit_bar": exit_bar})
    frame = pd.DataFrame(rows, columns=list(TRADE_COLUMNS))
    equity = pd.DataFrame({s: np.ones(len(c)) for s, c in candles.items()}, index=next(iter(candles.values())).index)
    return BacktestRun(frame, equity, {}, "1h", 1.0, {s: len(c) for s, c in candles.items()})


def random_trades(n: int, rng: np.random.Generator, count: int = 30) -> list[tuple[str, str, int, int, str]]:
    """Non-overlapping trades at random bars with random sides and lengths, blind to the market."""
    cuts = np.sort(rng.choice(np.arange(1, n - 1), size=2 * count, replace=False))
    return [("BTC", "long" if rng.random() < 0.5 else "short", int(a), int(b), "signal")
            for a, b in cuts.reshape(-1, 2)]


def test_foresight_is_significant_on_real_candles(btc: pd.DataFrame) -> None:
    opens = btc["open"].to_numpy()
    up_next = np.append(opens[2:] > opens[1:-1], [False, False])  # bar t+1 opens below bar t+2
    signals = pd.DataFrame({"long_entry": up_next, "short_entry": False, "exit": ~up_next, "size": 1.0,
                            "sl_pct": np.nan, "tp_pct": np.nan}, index=btc.index)
    run = VectorbtBacktestEngine().run({"BTC": btc}, {"BTC": signals}, timeframe="1h", costs=Costs())
    assert len(run.trades) > 100
    result = shuffle_test(run, {"BTC": btc}, iterations=200, seed=1)
    assert result.p_value == pytest.approx(1 / 201)
    assert result.edge > 0 and result.z_score > 5 and result.z_p_value < 1e-6


def test_random_positions_give_roughly_uniform_p_values(btc: pd.DataFrame) -> None:
    p_values = []
    for seed in range(40):
        run = run_of(random_trades(len(btc), np.random.default_rng(seed)), {"BTC": btc})
        p_values.append(shuffle_test(run, {"BTC": btc}, iterations=99, seed=seed).p_value)
    found = np.array(p_values)
    assert np.mean(found < 0.05) <= 0.15   # ~5 % expected; a per-bar permutation null flags far more
    assert 0.3 < found.mean() < 0.7
    assert found.min() < 0.3 and found.max() > 0.7


def test_p_value_is_k_plus_one_over_n_plus_one() -> None:
    # Returns per bar: log 2 (0 -> 1), log(3/2)... built so shift 1 beats the real trade, shift 2 does not.
    candles = {"BTC": candles_from_opens([100.0, 110.0, 165.0], close=150.0)}
    r = log_returns(candles["BTC"])
    assert r[1] > r[0] > r[2]
    run = run_of([("BTC", "long", 0, 1, "signal")], candles)
    edge, null = edge_and_null(run, candles, iterations=50, seed=3)
    assert edge == pytest.approx(r[0])
    beats = np.isclose(null, r[1])
    assert (beats | np.isclose(null, r[2])).all()
    k = int(beats.sum())
    assert 5 < k < 45
    assert shuffle_test(run, candles, iterations=50, seed=3).p_value == (k + 1) / 51


def test_p_value_bounds_when_no_shift_or_every_shift_wins() -> None:
    best = {"BTC": candles_from_opens([100.0, 200.0, 210.0, 205.0], close=206.0)}
    assert shuffle_test(run_of([("BTC", "long", 0, 1, "signal")], best), best, 30).p_value == 1 / 31
    worst = {"BTC": candles_from_opens([100.0, 50.0, 52.0, 53.0], close=54.0)}
    assert shuffle_test(run_of([("BTC", "long", 0, 1, "signal")], worst), worst, 30).p_value == 1.0


def test_a_tie_counts_against_the_strategy() -> None:
    candles = {"BTC": candles_from_opens([100.0, 200.0, 400.0], close=400.0)}  # log 2, log 2, 0
    run = run_of([("BTC", "long", 0, 1, "signal")], candles)
    _, null = edge_and_null(run, candles, iterations=40, seed=5)
    ties = int(np.isclose(null, math.log(2)).sum())
    assert 0 < ties < 40
    assert shuffle_test(run, candles, 40, seed=5).p_value == (ties + 1) / 41


def test_null_values_are_exactly_the_circular_shifts() -> None:
    rng = np.random.default_rng(0)
    candles = {"BTC": candles_from_opens(list(100 * np.exp(np.cumsum(rng.normal(0, 0.02, 9)))), close=101.0)}
    run = run_of([("BTC", "long", 1, 4, "signal"), ("BTC", "short", 5, 7, "reverse")], candles)
    position = positions(run, candles)["BTC"]
    assert position.tolist() == [0, 1, 1, 1, 0, -1, -1, 0, 0]
    r = log_returns(candles["BTC"])
    by_shift = np.array([np.roll(position, s) @ r for s in range(1, 9)])
    edge, null = edge_and_null(run, candles, iterations=400, seed=0)
    assert edge == pytest.approx(position @ r)
    nearest = np.abs(null[:, None] - by_shift[None, :]).min(axis=1)
    assert nearest.max() < 1e-12
    assert len(np.unique(np.round(null, 10))) == len(np.unique(np.round(by_shift, 10)))


def test_trades_closed_at_the_end_hold_the_last_bar_and_shorts_count_negative() -> None:
    candles = {"BTC": candles_from_opens([100.0, 101.0, 103.0, 102.0], close=110.0)}
    run = run_of([("BTC", "short", 0, 1, "sl"), ("BTC", "long", 2, 3, "end")], candles)
    assert positions(run, candles)["BTC"].tolist() == [-1, 0, 1, 1]
    r = log_returns(candles["BTC"])
    assert shuffle_test(run, candles, 10).edge == pytest.approx(-r[0] + r[2] + r[3])


def test_several_symbols_average_their_edges() -> None:
    a = candles_from_opens([100.0, 120.0, 90.0, 95.0], close=96.0)
    b = candles_from_opens([10.0, 11.0, 12.0, 13.0], close=14.0)
    candles = {"A": a, "B": b}
    run = run_of([("A", "long", 0, 1, "signal")], candles)
    assert shuffle_test(run, candles, 10).edge == pytest.approx(math.log(1.2) / 2)


def test_same_seed_same_result_other_seed_other_draws(btc: pd.DataFrame) -> None:
    run = run_of(random_trades(len(btc), np.random.default_rng(7)), {"BTC": btc})
    first = shuffle_test(run, {"BTC": btc}, 300, seed=11)
    assert shuffle_test(run, {"BTC": btc}, 300, seed=11) == first
    assert shuffle_test(run, {"BTC": btc}, 300, seed=12).null_mean != first.null_mean
    _, null = edge_and_null(run, {"BTC": btc}, 300, seed=11)
    assert first.null_std == pytest.approx(null.std(ddof=1))
    assert first.z_score == pytest.approx((first.edge - null.mean()) / null.std(ddof=1))
    assert first.to_dict()["iterations"] == 300 and set(first.to_dict()) == set(ShuffleResult.__dataclass_fields__)


def test_no_trades_means_no_evidence(btc: pd.DataFrame) -> None:
    result = shuffle_test(run_of([], {"BTC": btc}), {"BTC": btc}, 50)
    assert (result.edge, result.p_value, result.z_score, result.z_p_value) == (0.0, 1.0, 0.0, 1.0)


@pytest.mark.parametrize("iterations", [0, -5, True, 2.5])
def test_bad_iterations_are_refused(btc: pd.DataFrame, iterations: object) -> None:
    with pytest.raises(InvalidValidationInput, match="iterations"):
        shuffle_test(run_of([], {"BTC": btc}), {"BTC": btc}, iterations)  # type: ignore[arg-type]


def test_candles_that_do_not_match_the_run_are_refused(btc: pd.DataFrame) -> None:
    run = run_of([("BTC", "long", 0, 5, "signal")], {"BTC": btc})
    with pytest.raises(InvalidValidationInput, match="bars"):
        shuffle_test(run, {"BTC": btc.iloc[:-1]}, 10)
    with pytest.raises(InvalidValidationInput, match="lack"):
        shuffle_test(run, {"ETH": btc}, 10)


def trending_candles(seed: int, n: int = 3000, phi: float = 0.5) -> pd.DataFrame:
    """AR(1) log returns: a market whose moves persist over the length of a trade."""
    noise = np.random.default_rng(1000 + seed).normal(0, 0.01, n)
    r = np.empty(n)
    r[0] = noise[0]
    for t in range(1, n):
        r[t] = phi * r[t - 1] + noise[t]
    opens = 100 * np.exp(np.concatenate([[0.0], np.cumsum(r[:-1])]))
    return candles_from_opens(list(opens), close=float(opens[-1] * np.exp(r[-1])))


def test_blind_positions_stay_insignificant_on_a_trending_market() -> None:
    """Where returns persist, the shift keeps ~5 % false positives; a per-bar permutation's null is too narrow."""
    p_values, narrowing = [], []
    for seed in range(40):
        candles = {"BTC": trending_candles(seed)}
        run = run_of(random_trades(3000, np.random.default_rng(seed), count=10), candles)
        p_values.append(shuffle_test(run, candles, iterations=199, seed=seed).p_value)
        _, null = edge_and_null(run, candles, iterations=199, seed=seed)
        position = positions(run, candles)["BTC"]
        per_bar = np.random.default_rng(seed).permuted(np.tile(position, (199, 1)), axis=1) @ log_returns(
            candles["BTC"])
        narrowing.append(per_bar.std() / null.std())
    assert np.mean(np.array(p_values) < 0.05) <= 0.15
    assert np.median(narrowing) < 0.75   # sqrt((1 - phi) / (1 + phi)) ~ 0.58 in theory
