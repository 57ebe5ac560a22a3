"""The contract every strategy follows, in backtests and live alike.

A strategy is one `signals(df)` function over OHLCV bars. The backtest engine reads the whole
frame it returns; live trading reads only its last row through `generate_signal`. Both go
through `checked_signals`, so a strategy cannot behave one way in a backtest and another live.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, get_args

import pandas as pd

from domain.errors import InvalidSignal, InvalidStrategy

Direction = Literal["long", "short", "close"]
DIRECTIONS: tuple[str, ...] = get_args(Direction)
TIMEFRAMES: tuple[str, ...] = ("5m", "15m", "30m", "1h", "4h", "1d")
MAX_GRID_PARAMS = 4

REQUIRED_COLUMNS: tuple[str, ...] = ("entry_long", "entry_short", "exit")
SIGNAL_COLUMNS: tuple[str, ...] = (*REQUIRED_COLUMNS, "size", "stop_loss", "take_profit")

DEFAULT_SIZE = 1.0
"""Size used when a strategy states none: "as much as the risk policy allows".

Sizing is the risk policy's job (risk per trade, max position size); a strategy only narrows it.
A smaller default would silently shrink every strategy that forgot the column.
"""


def _check_price(name: str, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidSignal(f"{name} must be a number or None, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise InvalidSignal(f"{name} must be a finite positive price, got {value!r}")


@dataclass(frozen=True)
class Signal:
    """What a strategy wants now; the risk policy decides how much of it happens."""

    direction: Direction
    size: float
    stop_loss: float | None = None
    take_profit: float | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise InvalidSignal(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")
        size = self.size
        if isinstance(size, bool) or not isinstance(size, int | float) or not 0 < size <= 1:
            raise InvalidSignal(f"size must be a fraction of equity in (0, 1], got {size!r}")
        _check_price("stop_loss", self.stop_loss)
        _check_price("take_profit", self.take_profit)
        if self.direction == "close" and (self.stop_loss is not None or self.take_profit is not None):
            raise InvalidSignal("a close signal carries no stop_loss or take_profit")
        if self.stop_loss is not None and self.take_profit is not None:
            if self.direction == "long" and not self.stop_loss < self.take_profit:
                raise InvalidSignal(
                    f"long signal needs stop_loss < take_profit, got {self.stop_loss} >= {self.take_profit}"
                )
            if self.direction == "short" and not self.stop_loss > self.take_profit:
                raise InvalidSignal(
                    f"short signal needs stop_loss > take_profit, got {self.stop_loss} <= {self.take_profit}"
                )


class StrategyCore(ABC):
    """Base of every strategy; shared code (params, checks, live signal), hence an ABC."""

    type: ClassVar[str]
    timeframe: ClassVar[str]
    default_params: ClassVar[dict[str, Any]] = {}
    param_grid: ClassVar[dict[str, list[Any]]] = {}

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        self.check_definition()
        given = dict(params or {})
        known = set(self.default_params) | set(self.param_grid)
        unknown = sorted(set(given) - known)
        if unknown:
            raise InvalidStrategy(
                f"{type(self).__name__} has no parameter(s) {unknown}; known: {sorted(known)}"
            )
        self.params: dict[str, Any] = {**self.default_params, **given}

    @classmethod
    def check_definition(cls) -> None:
        """Refuse a malformed class before it runs, so a generated strategy fails on load, not live."""
        name = cls.__name__
        strategy_type = getattr(cls, "type", None)
        if not isinstance(strategy_type, str) or not strategy_type.strip():
            raise InvalidStrategy(f"{name}.type must be a non-empty string such as 'MOM'")
        timeframe = getattr(cls, "timeframe", None)
        if timeframe not in TIMEFRAMES:
            raise InvalidStrategy(f"{name}.timeframe must be one of {TIMEFRAMES}, got {timeframe!r}")
        if len(cls.param_grid) > MAX_GRID_PARAMS:
            raise InvalidStrategy(
                f"{name}.param_grid has {len(cls.param_grid)} parameters; at most {MAX_GRID_PARAMS}"
            )
        for key, values in cls.param_grid.items():
            if not isinstance(values, list | tuple) or not values:
                raise InvalidStrategy(f"{name}.param_grid[{key!r}] must be a non-empty list of values")

    @abstractmethod
    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        """Return one row per bar of `df` with the columns named in SIGNAL_COLUMNS.

        `entry_long`, `entry_short` and `exit` are required; `size` (fraction of equity),
        `stop_loss` and `take_profit` (absolute prices, NaN for none) are optional. Rows may
        only use data up to their own bar.
        """

    def checked_signals(self, df: pd.DataFrame) -> pd.DataFrame:
        """`signals(df)` checked and completed: every column present, booleans really boolean."""
        out = self.signals(df)
        if not isinstance(out, pd.DataFrame):
            raise InvalidSignal(f"{type(self).__name__}.signals must return a DataFrame, got {type(out)}")
        missing = [c for c in REQUIRED_COLUMNS if c not in out.columns]
        if missing:
            raise InvalidSignal(f"{type(self).__name__}.signals is missing column(s) {missing}")
        if not out.index.equals(df.index):
            raise InvalidSignal(f"{type(self).__name__}.signals must be indexed like its input")
        try:
            return _completed(out, df.index)
        except (TypeError, ValueError) as exc:
            raise InvalidSignal(f"{type(self).__name__}.signals has a badly typed column: {exc}") from None

    def generate_signal(self, df: pd.DataFrame) -> Signal | None:
        """The signal for the last bar, or None; entries win over an exit on the same bar."""
        if len(df) == 0:
            return None
        row = self.checked_signals(df).iloc[-1]
        long, short = bool(row["entry_long"]), bool(row["entry_short"])
        if long and short:
            raise InvalidSignal(f"{type(self).__name__} signals both entry_long and entry_short on one bar")
        if long or short:
            direction: Direction = "long" if long else "short"
            return Signal(
                direction=direction,
                size=float(row["size"]),
                stop_loss=_optional_price(row["stop_loss"]),
                take_profit=_optional_price(row["take_profit"]),
                reason=f"{self.type} entry_{direction}",
            )
        if bool(row["exit"]):
            return Signal(direction="close", size=1.0, reason=f"{self.type} exit")
        return None


def _optional_price(value: Any) -> float | None:
    number = float(value)
    return None if math.isnan(number) else number


def _completed(out: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    result = pd.DataFrame(index=index)
    for column in REQUIRED_COLUMNS:
        result[column] = out[column].astype("boolean").fillna(False).astype(bool)
    size = out["size"] if "size" in out.columns else pd.Series(DEFAULT_SIZE, index=index)
    result["size"] = pd.to_numeric(size).astype(float).fillna(DEFAULT_SIZE)
    for column in ("stop_loss", "take_profit"):
        values = out[column] if column in out.columns else pd.Series(math.nan, index=index)
        result[column] = pd.to_numeric(values).astype(float)
    return result
