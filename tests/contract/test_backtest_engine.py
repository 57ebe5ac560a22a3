"""The backtest-engine port's contract: each execution rule of docs/backtesting.md on hand-made bars.

Every test runs on both engines, the vectorbt adapter and the reference loop, and checks the
numbers a person can work out on paper: fee 0.1%, slippage 0.2%, capital 1000.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from adapters.vectorbt.engine import VectorbtBacktestEngine
from domain.backtest import AccountBlown, BacktestRun, Costs
from domain.signal_frame import checked_frame
from tests import reference_simulator

COSTS = Costs(fee_rate=0.001, slippage=0.002, initial_capital=1000.0)
FEE, SLIP = COSTS.fee_rate, COSTS.slippage
Engine = Callable[..., BacktestRun]


def _vectorbt(candles: dict, signals: dict, costs: Costs, funding: dict | None) -> BacktestRun:
    return VectorbtBacktestEngine().run(candles, signals, timeframe="1h", costs=costs, funding=funding)


def _reference(candles: dict, signals: dict, costs: Costs, funding: dict | None) -> BacktestRun:
    return reference_simulator.simulate(candles, signals, costs, "1h", funding)


@pytest.fixture(params=[_vectorbt, _reference], ids=["vectorbt", "reference"])
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.param  # type: ignore[no-any-return]


def candles(opens: list[float], highs: list[float] | None = None, lows: list[float] | None = None,
            closes: list[float] | None = None) -> pd.DataFrame:
    n = len(opens)
    index = pd.date_range("2025-01-01", periods=n, freq="1h", tz="UTC")
    closes = closes or opens
    highs = highs or [max(o, c) for o, c in zip(opens, closes, strict=True)]
    lows = lows or [min(o, c) for o, c in zip(opens, closes, strict=True)]
    return pd.DataFrame({"open": opens, "high": highs, "low": lows, "close": closes, "volume": 1.0}, index=index)


def signals(bars: pd.DataFrame, **rows: dict[int, Any]) -> pd.DataFrame:
    """Signals on `bars`' index; rows={"long_entry": {1: True}, "sl_pct": {1: 0.05}, ...}."""
    n = len(bars)
    columns: dict[str, Any] = {"long_entry": np.zeros(n, bool), "short_entry": np.zeros(n, bool),
                               "exit": np.zeros(n, bool), "size": np.full(n, 0.5), "sl_pct": np.full(n, np.nan),
                               "tp_pct": np.full(n, np.nan)}
    for column, values in rows.items():
        for bar, value in values.items():
            columns[column][bar] = value
    return checked_frame(pd.DataFrame(columns, index=bars.index), bars.index, "Test")


def run(engine: Engine, bars: pd.DataFrame, sig: pd.DataFrame, funding: pd.Series | None = None,
        costs: Costs = COSTS) -> BacktestRun:
    return engine({"X": bars}, {"X": sig}, costs, {"X": funding} if funding is not None else None)


def only_trade(result: BacktestRun) -> pd.Series:
    assert len(result.trades) == 1, result.trades
    return result.trades.iloc[0]


def test_signal_fills_at_next_open_with_slippage_and_fees(engine: Engine) -> None:
    bars = candles([100, 101, 102, 103, 104, 105])
    result = run(engine, bars, signals(bars, long_entry={1: True}, exit={3: True}))
    trade = only_trade(result)
    entry, exit_ = 102 * (1 + SLIP), 104 * (1 - SLIP)
    quantity = 0.5 * 1000 / entry
    assert (trade.entry_bar, trade.exit_bar, trade.exit_reason, trade.side) == (2, 4, "signal", "long")
    assert trade.entry_time == bars.index[2] and trade.exit_time == bars.index[4]
    assert trade.entry_price == pytest.approx(entry, rel=1e-12)
    assert trade.exit_price == pytest.approx(exit_, rel=1e-12)
    assert trade.quantity == pytest.approx(quantity, rel=1e-12)
    fees = 500 * FEE + quantity * exit_ * FEE
    assert trade.fees == pytest.approx(fees, rel=1e-12)
    assert trade.pnl == pytest.approx(quantity * (exit_ - entry) - fees, rel=1e-12)
    assert result.equity["total"].iloc[-1] == pytest.approx(1000 + trade.pnl, rel=1e-12)


def test_short_pays_slippage_the_other_way(engine: Engine) -> None:
    bars = candles([100, 100, 90, 80, 80])
    trade = only_trade(run(engine, bars, signals(bars, short_entry={1: True}, exit={2: True})))
    entry, exit_ = 90 * (1 - SLIP), 80 * (1 + SLIP)
    quantity = 500 / entry
    assert (trade.side, trade.entry_price, trade.exit_price) == ("short", pytest.approx(entry), pytest.approx(exit_))
    assert trade.pnl == pytest.approx(quantity * (entry - exit_) - 500 * FEE - quantity * exit_ * FEE, rel=1e-12)


def test_stop_loss_inside_a_bar_fills_at_its_level(engine: Engine) -> None:
    bars = candles([100, 100, 100, 100, 100], lows=[99, 99, 99, 94, 99])
    trade = only_trade(run(engine, bars, signals(bars, long_entry={0: True}, sl_pct={0: 0.05})))
    level = 100 * (1 + SLIP) * (1 - 0.05)
    assert (trade.entry_bar, trade.exit_bar, trade.exit_reason) == (1, 3, "sl")
    assert trade.exit_price == pytest.approx(level * (1 - SLIP), rel=1e-12)
    assert trade.exit_time == bars.index[3]


def test_take_profit_inside_a_bar_fills_at_its_level(engine: Engine) -> None:
    bars = candles([100, 100, 100, 100], highs=[101, 101, 112, 101])
    trade = only_trade(run(engine, bars, signals(bars, long_entry={0: True}, tp_pct={0: 0.1})))
    assert (trade.exit_bar, trade.exit_reason) == (2, "tp")
    assert trade.exit_price == pytest.approx(100 * (1 + SLIP) * 1.1 * (1 - SLIP), rel=1e-12)
    bars = candles([100, 100, 100, 100], lows=[99, 99, 88, 99])
    trade = only_trade(run(engine, bars, signals(bars, short_entry={0: True}, tp_pct={0: 0.1})))
    assert (trade.exit_bar, trade.exit_reason) == (2, "tp")
    assert trade.exit_price == pytest.approx(100 * (1 - SLIP) * 0.9 * (1 + SLIP), rel=1e-12)


def test_stop_loss_comes_first_when_a_bar_touches_both(engine: Engine) -> None:
    bars = candles([100, 100, 100, 100], highs=[100, 100, 130, 100], lows=[100, 100, 70, 100])
    trade = only_trade(run(engine, bars, signals(bars, long_entry={0: True}, sl_pct={0: 0.1}, tp_pct={0: 0.1})))
    assert (trade.exit_bar, trade.exit_reason) == (2, "sl")
    assert trade.exit_price == pytest.approx(100 * (1 + SLIP) * 0.9 * (1 - SLIP), rel=1e-12)


def test_a_gap_through_the_stop_fills_at_the_open(engine: Engine) -> None:
    bars = candles([100, 100, 80, 80], closes=[100, 100, 80, 80])
    trade = only_trade(run(engine, bars, signals(bars, long_entry={0: True}, sl_pct={0: 0.05})))
    assert (trade.exit_bar, trade.exit_reason) == (2, "sl")
    assert trade.exit_price == pytest.approx(80 * (1 - SLIP), rel=1e-12)


def test_stops_are_checked_on_the_entry_bar_itself(engine: Engine) -> None:
    bars = candles([100, 100, 100, 100], lows=[100, 100, 90, 100], closes=[100, 100, 99, 100])
    trade = only_trade(run(engine, bars, signals(bars, long_entry={1: True}, sl_pct={1: 0.05})))
    assert (trade.entry_bar, trade.exit_bar, trade.exit_reason) == (2, 2, "sl")


def test_an_entry_signalled_on_a_stopped_bar_still_fills_at_the_next_open(engine: Engine) -> None:
    bars = candles([100, 100, 100, 100, 100], lows=[100, 100, 90, 100, 100])
    result = run(engine, bars, signals(bars, long_entry={0: True, 2: True}, sl_pct={0: 0.05}))
    first, second = result.trades.iloc[0], result.trades.iloc[1]
    assert (first.exit_bar, first.exit_reason) == (2, "sl")
    assert (second.entry_bar, second.exit_reason) == (3, "end")


def test_an_opposite_entry_reverses_sized_on_equity_after_the_close(engine: Engine) -> None:
    bars = candles([100, 100, 110, 110, 120, 120])
    result = run(engine, bars, signals(bars, long_entry={0: True}, short_entry={2: True}, size={2: 0.25}))
    long, short = result.trades.iloc[0], result.trades.iloc[1]
    assert (long.exit_bar, long.exit_reason, short.entry_bar, short.side) == (3, "reverse", 3, "short")
    equity_after_close = 1000 + long.pnl
    assert short.quantity * short.entry_price == pytest.approx(0.25 * equity_after_close, rel=1e-12)
    assert (short.exit_reason, short.exit_price) == ("end", 120)


def test_an_entry_in_the_held_direction_is_ignored_one_position_per_symbol(engine: Engine) -> None:
    bars = candles([100, 100, 110, 120, 130])
    trade = only_trade(run(engine, bars, signals(bars, long_entry={0: True, 1: True, 2: True}, size={1: 1.0})))
    assert trade.entry_bar == 1 and trade.quantity * trade.entry_price == pytest.approx(500, rel=1e-12)


def test_an_entry_wins_over_an_exit_on_the_same_bar(engine: Engine) -> None:
    bars = candles([100, 100, 100, 100])
    trade = only_trade(run(engine, bars, signals(bars, long_entry={0: True, 1: True}, exit={1: True})))
    assert (trade.entry_bar, trade.exit_reason) == (1, "end")


def test_full_size_is_capped_so_notional_plus_fee_fits_in_equity(engine: Engine) -> None:
    bars = candles([100, 100, 100])
    trade = only_trade(run(engine, bars, signals(bars, long_entry={0: True}, size={0: 1.0})))
    assert trade.quantity * trade.entry_price == pytest.approx(1000 / (1 + FEE), rel=1e-12)


def test_last_bar_signal_is_dropped_and_an_open_position_ends_at_the_last_close_without_fee(engine: Engine) -> None:
    bars = candles([100, 100, 100, 105], closes=[100, 100, 100, 107])
    trade = only_trade(run(engine, bars, signals(bars, long_entry={1: True}, exit={3: True})))
    assert (trade.exit_reason, trade.exit_bar, trade.exit_price) == ("end", 3, 107)
    assert trade.exit_time == bars.index[3] + pd.Timedelta(hours=1)
    assert trade.fees == pytest.approx(500 * FEE, rel=1e-12)


def test_equity_is_marked_at_each_close(engine: Engine) -> None:
    bars = candles([100, 100, 100, 100], closes=[100, 100, 110, 90])
    result = run(engine, bars, signals(bars, long_entry={0: True}))
    quantity = 500 / (100 * (1 + SLIP))
    marks = [1000, 1000 - 500 * FEE + quantity * (110 - 100 * (1 + SLIP)),
             1000 - 500 * FEE + quantity * (90 - 100 * (1 + SLIP))]
    assert result.equity["X"].tolist()[:1] == [1000]
    assert result.equity["X"].iloc[2] == pytest.approx(marks[1], rel=1e-12)
    assert result.equity["X"].iloc[3] == pytest.approx(marks[2], rel=1e-12)


def test_funding_is_paid_by_longs_and_received_by_shorts_at_each_funding_time(engine: Engine) -> None:
    bars = candles([100, 100, 100, 100, 100, 100])
    rates = pd.Series([0.001, 0.002, 0.003], index=bars.index[[1, 3, 4]] + pd.Timedelta(minutes=30))
    long = only_trade(run(engine, bars, signals(bars, long_entry={0: True}, exit={3: True}), funding=rates))
    quantity = 500 / (100 * (1 + SLIP))
    paid = (0.001 + 0.002) * quantity * 100  # in the position at bars 1 and 3; closed at bar 4's open
    assert long.funding == pytest.approx(paid, rel=1e-12)
    assert long.pnl == pytest.approx(quantity * (100 * (1 - SLIP) - 100 * (1 + SLIP)) - long.fees - paid, rel=1e-12)
    short = only_trade(run(engine, bars, signals(bars, short_entry={0: True}, exit={3: True}), funding=rates))
    assert short.funding == pytest.approx(-(0.001 + 0.002) * (500 / (100 * (1 - SLIP))) * 100, rel=1e-12)


def test_symbols_share_the_capital_equally_and_add_up(engine: Engine) -> None:
    bars = candles([100, 100, 110, 110])
    sig = signals(bars, long_entry={0: True})
    result = engine({"A": bars, "B": bars}, {"A": sig, "B": sig}, COSTS, None)
    assert result.trades["quantity"].tolist() == pytest.approx([250 / (100 * (1 + SLIP))] * 2, rel=1e-12)
    assert result.equity["total"].iloc[0] == 1000
    assert result.equity["total"].iloc[-1] == pytest.approx(result.equity["A"].iloc[-1] * 2, rel=1e-12)


def test_a_short_that_cannot_be_covered_stops_the_run(engine: Engine) -> None:
    bars = candles([100, 100, 300, 300, 300])
    with pytest.raises(AccountBlown):
        run(engine, bars, signals(bars, short_entry={0: True}, exit={2: True}, size={0: 1.0}))


def test_symbols_over_different_periods_share_one_equity_index() -> None:
    """vectorbt adapter only: a symbol listed later holds its starting cash before its first bar."""
    early = candles([100.0, 101.0, 102.0, 103.0])
    late = candles([50.0, 51.0]).set_axis(early.index[2:])
    run = VectorbtBacktestEngine().run(
        {"A": early, "B": late}, {"A": signals(early, long_entry={0: True}), "B": signals(late)},
        timeframe="1h", costs=COSTS)
    assert run.equity.index.equals(early.index)
    assert run.equity["B"].tolist() == [500.0] * 4
    np.testing.assert_allclose(run.equity["total"], run.equity["A"] + run.equity["B"])
    assert run.bars == {"A": 4, "B": 2}
