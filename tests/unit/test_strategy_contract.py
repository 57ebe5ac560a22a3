from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidSignal, InvalidStrategy
from domain.signal_frame import SIGNAL_COLUMNS
from domain.strategy import Signal, StrategyCore


def bars(closes: list[float]) -> pd.DataFrame:
    index = pd.date_range("2024-01-01", periods=len(closes), freq="1h", tz="UTC")
    close = pd.Series(closes, index=index, dtype=float)
    return pd.DataFrame({"open": close, "high": close, "low": close, "close": close, "volume": 1.0})


class Breakout(StrategyCore):
    """Long above the rolling high, short below the rolling low, exit on a cross of the mean."""

    type = "BRE"
    timeframe = "1h"
    default_params: ClassVar[dict[str, Any]] = {"window": 3, "stop": 0.02}
    param_grid: ClassVar[dict[str, list[Any]]] = {"window": [3, 5], "stop": [0.01, 0.02]}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        window = int(self.params["window"])
        high = df["close"].rolling(window).max().shift(1)
        low = df["close"].rolling(window).min().shift(1)
        mean = df["close"].rolling(window).mean()
        return pd.DataFrame({
            "long_entry": df["close"] > high,
            "short_entry": df["close"] < low,
            "exit": (df["close"] - mean).abs() < 1e-12,
            "size": 0.5,
            "sl_pct": self.params["stop"],
            "tp_pct": np.nan,
        }, index=df.index)


class Scripted(StrategyCore):
    """Returns whatever frame the test hands it, to probe the checks."""

    type = "TST"
    timeframe = "15m"
    frame: pd.DataFrame | None = None

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        assert self.frame is not None
        return self.frame


def frame(**columns: Any) -> pd.DataFrame:
    """A signals frame on a 15-minute index: every column defaults to 'nothing happens'."""
    n = len(next(iter(columns.values())))
    index = pd.date_range("2025-03-01", periods=n, freq="15min", tz="UTC")
    base: dict[str, Any] = {"long_entry": [False] * n, "short_entry": [False] * n, "exit": [False] * n,
                            "size": [0.5] * n, "sl_pct": [np.nan] * n, "tp_pct": [np.nan] * n}
    return pd.DataFrame({**base, **columns}, index=index)


def scripted(signals: pd.DataFrame) -> tuple[Scripted, pd.DataFrame]:
    strategy = Scripted()
    strategy.frame = signals
    candles = pd.DataFrame({"close": 100.0}, index=signals.index)
    return strategy, candles


def test_params_are_defaults_overridden_by_given() -> None:
    assert Breakout().params == {"window": 3, "stop": 0.02}
    assert Breakout({"window": 5}).params == {"window": 5, "stop": 0.02}
    assert Breakout.default_params == {"window": 3, "stop": 0.02}
    assert Breakout({"window": 5}).warmup_bars() == 5


def test_unknown_parameter_is_refused() -> None:
    with pytest.raises(InvalidStrategy, match="windw"):
        Breakout({"windw": 5})


def test_malformed_class_definitions_are_refused() -> None:
    class NoType(Scripted):
        type = ""

    class BadTimeframe(Scripted):
        timeframe = "7m"

    class BigGrid(Scripted):
        param_grid: ClassVar[dict[str, list[Any]]] = {k: [1] for k in "abcde"}

    class EmptyValues(Scripted):
        param_grid: ClassVar[dict[str, list[Any]]] = {"a": []}

    for cls in (NoType, BadTimeframe, BigGrid, EmptyValues):
        with pytest.raises(InvalidStrategy):
            cls()


def test_live_signal_is_the_last_row_of_the_backtest_frame_with_absolute_stops() -> None:
    df = bars([10, 11, 12, 13])
    strategy = Breakout()
    assert bool(strategy.checked_signals(df)["long_entry"].iloc[-1])
    assert strategy.generate_signal(df) == Signal("long", 0.5, stop_loss=13 * 0.98, take_profit=None,
                                                  reason="BRE long_entry")


def test_short_and_exit_signals() -> None:
    assert Breakout().generate_signal(bars([13, 12, 11, 10])) == Signal(
        "short", 0.5, stop_loss=10 * 1.02, take_profit=None, reason="BRE short_entry"
    )
    assert Breakout().generate_signal(bars([10, 10, 10, 10])) == Signal("close", 1.0, reason="BRE exit")


def test_take_profit_lies_on_the_side_of_the_trade() -> None:
    strategy, candles = scripted(frame(short_entry=[True], sl_pct=[0.1], tp_pct=[0.2]))
    short = strategy.generate_signal(candles)
    assert short is not None and (short.direction, short.reason) == ("short", "TST short_entry")
    assert (short.stop_loss, short.take_profit) == (pytest.approx(110.0), pytest.approx(80.0))
    strategy, candles = scripted(frame(long_entry=[True], sl_pct=[0.1], tp_pct=[0.2]))
    long = strategy.generate_signal(candles)
    assert long is not None and (long.stop_loss, long.take_profit) == (pytest.approx(90.0), pytest.approx(120.0))


def test_no_flag_means_no_signal_and_empty_input_means_no_signal() -> None:
    strategy, candles = scripted(frame(long_entry=[True, False], exit=[True, False]))
    assert strategy.generate_signal(candles) is None
    assert Breakout().generate_signal(bars([])) is None


def test_entry_wins_over_exit_on_the_same_bar() -> None:
    strategy, candles = scripted(frame(long_entry=[True], exit=[True]))
    signal = strategy.generate_signal(candles)
    assert signal is not None and signal.direction == "long"


def test_both_entries_on_one_bar_is_refused_naming_the_row() -> None:
    strategy, candles = scripted(frame(long_entry=[False, True], short_entry=[False, True]))
    with pytest.raises(InvalidSignal, match=r"'long_entry'.*2025-03-01 00:15:00\+00:00 \(row 1\)"):
        strategy.checked_signals(candles)


def test_missing_columns_are_named() -> None:
    strategy, candles = scripted(frame(long_entry=[True]).drop(columns=["short_entry", "tp_pct"]))
    with pytest.raises(InvalidSignal, match="'short_entry', 'tp_pct'"):
        strategy.checked_signals(candles)


def test_frame_must_be_on_the_input_index() -> None:
    signals = frame(long_entry=[False, True, False])
    strategy, candles = scripted(signals)
    strategy.frame = signals.set_axis(signals.index + pd.Timedelta(minutes=1))
    with pytest.raises(InvalidSignal, match="first bad row 0"):
        strategy.checked_signals(candles)
    strategy.frame = signals.iloc[:2]
    with pytest.raises(InvalidSignal, match="2 rows for 3 bars"):
        strategy.checked_signals(candles)


@pytest.mark.parametrize(("column", "value", "problem"), [
    ("size", 1.5, "must be in \\(0, 1\\]"),
    ("size", 0.0, "must be in \\(0, 1\\]"),
    ("size", np.nan, "must be in \\(0, 1\\]"),
    ("sl_pct", -0.01, "must be a positive fraction"),
    ("tp_pct", 0.0, "must be a positive fraction"),
    ("sl_pct", np.inf, "must be a positive fraction"),
    ("sl_pct", 1.0, "must be below 1 on long entries"),
])
def test_bad_values_on_an_entry_row_are_refused_naming_column_and_row(column: str, value: float,
                                                                      problem: str) -> None:
    values = [0.5, 0.5, value] if column == "size" else [np.nan, np.nan, value]
    strategy, candles = scripted(frame(long_entry=[False, True, True], **{column: values}))
    with pytest.raises(InvalidSignal, match=rf"column '{column}' {problem}.*00:30:00\+00:00 \(row 2\)"):
        strategy.checked_signals(candles)


def test_values_off_entry_rows_are_not_checked() -> None:
    strategy, candles = scripted(frame(long_entry=[False, True], size=[0.0, 0.5], sl_pct=[-1.0, 0.01]))
    assert strategy.checked_signals(candles)["size"].tolist() == [0.0, 0.5]


def test_short_target_at_or_below_zero_is_refused() -> None:
    strategy, candles = scripted(frame(short_entry=[True], tp_pct=[1.0]))
    with pytest.raises(InvalidSignal, match="'tp_pct' must be below 1 on short entries"):
        strategy.checked_signals(candles)


def test_checked_frame_has_exact_columns_and_dtypes_and_missing_flags_are_false() -> None:
    strategy, candles = scripted(frame(long_entry=[np.nan, 1.0], short_entry=[None, 0], exit=pd.array([pd.NA, True])))
    out = strategy.checked_signals(candles)
    assert tuple(out.columns) == SIGNAL_COLUMNS
    assert [str(t) for t in out.dtypes] == ["bool"] * 3 + ["float64"] * 3
    assert out["long_entry"].tolist() == [False, True]
    assert out["exit"].tolist() == [False, True]


@pytest.mark.parametrize(("column", "value"), [("long_entry", "yes"), ("exit", 2), ("size", "big")])
def test_badly_typed_column_is_named(column: str, value: Any) -> None:
    strategy, candles = scripted(frame(**{column: [False if column != "size" else 0.5, value]}))
    with pytest.raises(InvalidSignal, match=rf"'{column}' must be (boolean|numeric).*\(row 1\)"):
        strategy.checked_signals(candles)


class OldStyle(StrategyCore):
    """The seed's older style: only generate_signal, with absolute stops."""

    type = "MOM"
    timeframe = "1h"
    legacy_window = 4
    seen: ClassVar[list[int]] = []

    def generate_signal(self, df: pd.DataFrame) -> Signal | None:
        self.seen.append(len(df))
        close = float(df["close"].iloc[-1])
        if len(df) >= 2 and close > float(df["close"].iloc[-2]):
            return Signal("long", 0.25, stop_loss=close * 0.9, take_profit=close * 1.3)
        if len(df) >= 2 and close < float(df["close"].iloc[-2]):
            return Signal("close", 1.0)
        return None


def test_old_style_strategy_loads_and_runs_bar_by_bar_on_a_bounded_window() -> None:
    OldStyle.seen.clear()
    strategy = OldStyle()
    assert strategy.legacy and not Breakout.legacy
    out = strategy.checked_signals(bars([10, 11, 10, 10, 12, 13]))
    assert OldStyle.seen == [1, 2, 3, 4, 4, 4]
    assert out["long_entry"].tolist() == [False, True, False, False, True, True]
    assert out["exit"].tolist() == [False, False, True, False, False, False]
    assert out["sl_pct"].iloc[1] == pytest.approx(0.1) and out["tp_pct"].iloc[1] == pytest.approx(0.3)
    assert out["size"].iloc[4] == 0.25


def test_old_style_stop_on_the_wrong_side_is_refused_at_its_row() -> None:
    class WrongStop(OldStyle):
        def generate_signal(self, df: pd.DataFrame) -> Signal | None:
            return Signal("long", 0.5, stop_loss=float(df["close"].iloc[-1]) * 1.1)

    with pytest.raises(InvalidSignal, match=r"'sl_pct'.*\(row 0\)"):
        WrongStop().checked_signals(bars([10, 11]))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"direction": "hold", "size": 0.1},
        {"direction": "long", "size": 0.0},
        {"direction": "long", "size": 1.01},
        {"direction": "long", "size": math.nan},
        {"direction": "long", "size": True},
        {"direction": "long", "size": 0.1, "stop_loss": -1.0},
        {"direction": "long", "size": 0.1, "take_profit": math.inf},
        {"direction": "long", "size": 0.1, "stop_loss": 10.0, "take_profit": 9.0},
        {"direction": "short", "size": 0.1, "stop_loss": 8.0, "take_profit": 9.0},
        {"direction": "close", "size": 1.0, "stop_loss": 10.0},
    ],
)
def test_signal_refuses_invalid_values(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidSignal):
        Signal(**kwargs)


@given(
    direction=st.sampled_from(["long", "short", "close"]),
    size=st.floats(min_value=0, max_value=1, exclude_min=True),
)
def test_any_fraction_in_range_is_a_valid_signal(direction: Any, size: float) -> None:
    signal = Signal(direction, size)
    assert signal.size == size and signal.stop_loss is None


def _arrays(n: int = 3) -> dict[str, np.ndarray]:
    return {"long_entry": np.array([False] * (n - 1) + [True]), "short_entry": np.zeros(n, dtype=bool),
            "exit": np.zeros(n, dtype=bool), "size": np.full(n, 0.5), "sl_pct": np.full(n, 0.02),
            "tp_pct": np.full(n, np.nan)}


def test_columns_from_a_worker_are_checked_as_a_frame_would_be() -> None:
    from domain.signal_frame import checked_columns, checked_frame

    index = pd.date_range("2024-01-01", periods=3, freq="h", tz="UTC")
    got = checked_columns(_arrays(), index, "W")
    pd.testing.assert_frame_equal(got, checked_frame(pd.DataFrame(_arrays(), index=index), index, "W"))
    pd.testing.assert_frame_equal(got, pd.DataFrame(_arrays(), index=index), check_column_type=True)
    assert got.iloc[-1]["long_entry"] is np.True_ and list(got.dtypes) == [np.dtype(bool)] * 3 + [np.dtype(float)] * 3
    bad = {**_arrays(), "size": np.array([0.5, 0.5, 1.5])}
    with pytest.raises(InvalidSignal, match="'size' must be in"):
        checked_columns(bad, index, "W")
    for name, wrong in (("exit", np.zeros(3)), ("size", np.full(3, 1, dtype=np.int64)), ("sl_pct", np.full(2, 0.1))):
        with pytest.raises(InvalidSignal, match=f"column '{name}' must be 3 values of"):
            checked_columns({**_arrays(), name: wrong}, index, "W")
    with pytest.raises(InvalidSignal, match="missing column"):
        checked_columns({k: v for k, v in _arrays().items() if k != "tp_pct"}, index, "W")


@pytest.mark.parametrize("last_rows", [None, 1, 2, 3, 10])
def test_arrays_for_the_worker_hold_what_the_checked_frame_holds(last_rows: int | None) -> None:
    from domain.signal_frame import checked_arrays, checked_frame

    index = pd.date_range("2024-01-01", periods=3, freq="h", tz="UTC")
    mixed = pd.DataFrame({"long_entry": [np.nan, 1.0, 0.0], "short_entry": [None, False, True],
                          "exit": pd.array([pd.NA, False, False]), "size": [1, 1, 1], "sl_pct": ["0.1", 0.2, 0.3],
                          "tp_pct": np.full(3, np.nan)}, index=index)
    for out in (pd.DataFrame(_arrays(), index=index), mixed):
        frame = checked_frame(out, index, "W", last_rows)
        arrays = checked_arrays(out, index, "W", last_rows)
        assert list(arrays) == list(SIGNAL_COLUMNS)
        for name in SIGNAL_COLUMNS:
            np.testing.assert_array_equal(arrays[name], frame[name].to_numpy())
            assert arrays[name].dtype == frame[name].dtype


def test_arrays_of_the_last_rows_check_only_those_rows() -> None:
    from domain.signal_frame import checked_arrays

    index = pd.date_range("2024-01-01", periods=3, freq="h", tz="UTC")
    late_bad = {**_arrays(), "size": np.array([1.5, 0.5, 0.5])}
    assert checked_arrays(pd.DataFrame(late_bad, index=index), index, "W", 1)["size"].tolist() == [0.5]
    with pytest.raises(InvalidSignal, match=r"'size' must be in.*02:00:00"):
        checked_arrays(pd.DataFrame({**_arrays(), "size": np.array([0.5, 0.5, 1.5])}, index=index), index, "W", 1)
