from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidSignal, InvalidStrategy
from domain.strategy import DEFAULT_SIZE, SIGNAL_COLUMNS, Signal, StrategyCore


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
        short = df["close"] < low
        stop = df["close"] * (1 - self.params["stop"])
        return pd.DataFrame(
            {
                "entry_long": df["close"] > high,
                "entry_short": short,
                "exit": (df["close"] - mean).abs() < 1e-12,
                "size": 0.5,
                "stop_loss": stop.where(~short, df["close"] * (1 + self.params["stop"])),
            },
            index=df.index,
        )


class Scripted(StrategyCore):
    """Returns whatever frame the test hands it, to probe the checks."""

    type = "TST"
    timeframe = "15m"
    frame: pd.DataFrame | None = None

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        assert self.frame is not None
        return self.frame


def scripted(frame: pd.DataFrame) -> Scripted:
    strategy = Scripted()
    strategy.frame = frame
    return strategy


def test_params_are_defaults_overridden_by_given() -> None:
    assert Breakout().params == {"window": 3, "stop": 0.02}
    assert Breakout({"window": 5}).params == {"window": 5, "stop": 0.02}
    assert Breakout.default_params == {"window": 3, "stop": 0.02}


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


def test_live_signal_is_the_last_row_of_the_backtest_frame() -> None:
    df = bars([10, 11, 12, 13])
    strategy = Breakout()
    frame = strategy.checked_signals(df)
    assert bool(frame["entry_long"].iloc[-1])
    signal = strategy.generate_signal(df)
    assert signal == Signal("long", 0.5, stop_loss=13 * 0.98, take_profit=None, reason="BRE entry_long")


def test_short_and_exit_signals() -> None:
    assert Breakout().generate_signal(bars([13, 12, 11, 10])) == Signal(
        "short", 0.5, stop_loss=10 * 1.02, take_profit=None, reason="BRE entry_short"
    )
    flat = bars([10, 10, 10, 10])
    assert Breakout().generate_signal(flat) == Signal("close", 1.0, reason="BRE exit")


def test_short_needs_its_stop_above_its_target() -> None:
    frame = pd.DataFrame(
        {
            "entry_long": [False],
            "entry_short": [True],
            "exit": [False],
            "stop_loss": [9.0],
            "take_profit": [8.0],
        }
    )
    assert scripted(frame).generate_signal(pd.DataFrame(index=frame.index)) == Signal(
        "short", DEFAULT_SIZE, stop_loss=9.0, take_profit=8.0, reason="TST entry_short"
    )
    frame["stop_loss"], frame["take_profit"] = 8.0, 9.0
    with pytest.raises(InvalidSignal, match="stop_loss > take_profit"):
        scripted(frame).generate_signal(pd.DataFrame(index=frame.index))


def test_no_flag_means_no_signal_and_empty_input_means_no_signal() -> None:
    frame = pd.DataFrame({"entry_long": [True, False], "entry_short": [False, False], "exit": [True, False]})
    assert scripted(frame).generate_signal(pd.DataFrame(index=frame.index)) is None
    empty = pd.DataFrame({"entry_long": [], "entry_short": [], "exit": []})
    assert scripted(empty).generate_signal(pd.DataFrame(index=empty.index)) is None


def test_entry_wins_over_exit_on_the_same_bar() -> None:
    frame = pd.DataFrame({"entry_long": [True], "entry_short": [False], "exit": [True]})
    signal = scripted(frame).generate_signal(pd.DataFrame(index=frame.index))
    assert signal is not None and signal.direction == "long"


def test_both_entries_on_one_bar_is_a_strategy_bug() -> None:
    frame = pd.DataFrame({"entry_long": [True], "entry_short": [True], "exit": [False]})
    with pytest.raises(InvalidSignal, match="both"):
        scripted(frame).generate_signal(pd.DataFrame(index=frame.index))


def test_missing_required_columns_are_named() -> None:
    frame = pd.DataFrame({"entry_long": [True]})
    with pytest.raises(InvalidSignal, match=r"\['entry_short', 'exit'\]"):
        scripted(frame).generate_signal(pd.DataFrame(index=frame.index))


def test_frame_must_be_indexed_like_the_input() -> None:
    frame = pd.DataFrame({"entry_long": [True], "entry_short": [False], "exit": [False]})
    with pytest.raises(InvalidSignal, match="indexed"):
        scripted(frame).generate_signal(pd.DataFrame(index=[5]))


def test_optional_columns_default_and_nan_flags_are_false() -> None:
    frame = pd.DataFrame(
        {"entry_long": [np.nan, 1.0], "entry_short": [None, 0], "exit": [False, False], "size": [np.nan, 0.3]}
    )
    out = scripted(frame).checked_signals(pd.DataFrame(index=frame.index))
    assert list(out.columns) == list(SIGNAL_COLUMNS)
    assert out["entry_long"].tolist() == [False, True]
    assert out["entry_short"].tolist() == [False, False]
    assert out["size"].tolist() == [DEFAULT_SIZE, 0.3]
    assert out["stop_loss"].isna().all() and out["take_profit"].isna().all()


def test_badly_typed_column_is_an_invalid_signal() -> None:
    frame = pd.DataFrame({"entry_long": ["yes"], "entry_short": [False], "exit": [False]})
    with pytest.raises(InvalidSignal):
        scripted(frame).checked_signals(pd.DataFrame(index=frame.index))


def test_out_of_range_size_in_the_frame_is_refused_live() -> None:
    frame = pd.DataFrame({"entry_long": [True], "entry_short": [False], "exit": [False], "size": [1.5]})
    with pytest.raises(InvalidSignal, match="size"):
        scripted(frame).generate_signal(pd.DataFrame(index=frame.index))


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
