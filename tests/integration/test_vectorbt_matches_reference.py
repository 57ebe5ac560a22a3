"""The vectorbt adapter and the reference loop agree trade for trade on real candles.

Real Binance USD-M perpetual candles and funding rates from ../shared/data; the example
strategies with two parameter sets each, plus random signals with random sizes and stops that
reach every branch (reversals, stops on the entry bar, gaps through stops, size 1, funding).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adapters.inprocess.strategy_loader import InProcessStrategyLoader
from adapters.parquet.loader import load_candles
from adapters.vectorbt.engine import VectorbtBacktestEngine
from domain.backtest import BacktestRun, Costs
from domain.signal_frame import checked_frame
from tests import reference_simulator
from tests.conftest import SHARED_DATA

OHLCV = SHARED_DATA / "ohlcv"
FUNDING = SHARED_DATA / "funding"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "strategies"
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
PRICE_FIELDS = ("entry_price", "exit_price", "quantity", "fees", "funding", "pnl")

pytestmark = pytest.mark.skipif(not OHLCV.is_dir(), reason=f"real candles not found at {OHLCV} (../shared/data)")


def real(timeframe: str, days: int) -> dict[str, pd.DataFrame]:
    frames = {}
    for symbol in SYMBOLS:
        frame = load_candles(OHLCV / f"BINANCEUSDM_{symbol}_{timeframe}.parquet")
        frames[symbol] = frame.loc[frame.index >= frame.index[-1] - pd.Timedelta(days=days)]
    return frames


def funding_rates() -> dict[str, pd.Series]:
    rates = {}
    for symbol in SYMBOLS:
        table = pd.read_parquet(FUNDING / f"BINANCEUSDM_{symbol}_8h_funding.parquet")
        times = pd.to_datetime(table["timestamp"], unit="ms", utc=True)
        rates[symbol] = pd.Series(table["rate"].to_numpy(), index=times)
    return rates


def assert_same(vectorbt: BacktestRun, reference: BacktestRun) -> None:
    a, b = vectorbt.trades, reference.trades
    assert len(a) == len(b) > 0
    for column in ("symbol", "side", "exit_reason", "entry_time", "exit_time"):
        assert [str(v) for v in a[column]] == [str(v) for v in b[column]], column
    assert a["entry_bar"].tolist() == b["entry_bar"].tolist()
    assert a["exit_bar"].tolist() == b["exit_bar"].tolist()
    for column in PRICE_FIELDS:
        for i, (x, y) in enumerate(zip(a[column], b[column], strict=True)):
            assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9), (column, i, x, y)
    np.testing.assert_allclose(vectorbt.equity.to_numpy(), reference.equity.to_numpy(), rtol=1e-9)
    for name, value in vectorbt.metrics.items():
        assert value == pytest.approx(reference.metrics[name], rel=1e-7, abs=1e-12), name


@pytest.mark.parametrize(("filename", "timeframe", "days", "params"), [
    ("mom_ema_cross.py", "1h", 365, {}),
    ("mom_ema_cross.py", "15m", 180, {"fast": 8, "slow": 34, "target_atr": 2.0}),
    ("rev_rsi_bands.py", "15m", 180, {}),
    ("rev_rsi_bands.py", "1h", 365, {"period": 7, "oversold": 30.0, "overbought": 70.0}),
    ("trn_adx_trend.py", "1h", 365, {}),
    ("trn_adx_trend.py", "15m", 120, {"slow": 50, "adx_enter": 20.0}),
    ("bre_donchian.py", "15m", 180, {}),
    ("bre_donchian.py", "1h", 365, {"window": 24, "target_widths": 2.0, "size": 1.0}),
])
def test_example_strategies_agree_trade_for_trade(filename: str, timeframe: str, days: int,
                                                  params: dict[str, object]) -> None:
    path = EXAMPLES / filename
    strategy = InProcessStrategyLoader().load(path.read_text(), path.name)(params)
    candles = real(timeframe, days)
    signals = {s: strategy.checked_signals(frame) for s, frame in candles.items()}
    costs = Costs(fee_rate=0.00045, slippage=0.0005, initial_capital=10_000.0)
    funding = funding_rates()
    vectorbt = VectorbtBacktestEngine().run(candles, signals, timeframe=timeframe, costs=costs, funding=funding)
    assert_same(vectorbt, reference_simulator.simulate(candles, signals, costs, timeframe, funding))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_signals_reach_every_rule_and_agree(seed: int) -> None:
    rng = np.random.default_rng(seed)
    candles = real("15m", 90)
    signals = {}
    for symbol, frame in candles.items():
        n = len(frame)
        long = rng.random(n) < 0.03
        short = (rng.random(n) < 0.03) & ~long
        signals[symbol] = checked_frame(pd.DataFrame({
            "long_entry": long, "short_entry": short, "exit": rng.random(n) < 0.02,
            "size": np.where(rng.random(n) < 0.2, 1.0, rng.uniform(0.01, 1.0, n)),
            "sl_pct": np.where(rng.random(n) < 0.8, rng.uniform(0.0001, 0.02, n), np.nan),
            "tp_pct": np.where(rng.random(n) < 0.7, rng.uniform(0.0001, 0.03, n), np.nan),
        }, index=frame.index), frame.index, "Random")
    costs = Costs(fee_rate=0.0006, slippage=0.001, initial_capital=1_000.0)
    funding = funding_rates()
    vectorbt = VectorbtBacktestEngine().run(candles, signals, timeframe="15m", costs=costs, funding=funding)
    reference = reference_simulator.simulate(candles, signals, costs, "15m", funding)
    assert_same(vectorbt, reference)
    reasons = set(vectorbt.trades["exit_reason"].astype(str))
    assert reasons >= {"sl", "tp", "signal", "reverse"}
    same_bar = vectorbt.trades[vectorbt.trades["entry_bar"] == vectorbt.trades["exit_bar"]]
    assert len(same_bar) > 0  # stops on the entry bar were exercised
    threaded = VectorbtBacktestEngine(threads=2).run(candles, signals, timeframe="15m", costs=costs, funding=funding)
    pd.testing.assert_frame_equal(threaded.trades, vectorbt.trades)
    pd.testing.assert_frame_equal(threaded.equity, vectorbt.equity)
