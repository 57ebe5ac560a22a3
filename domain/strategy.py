"""The contract every strategy follows, in backtests and live alike.

A strategy is one `signals(df)` function over OHLCV bars that computes every bar at once. The
backtest engine reads the whole frame it returns; live trading reads only its last row through
`generate_signal`. Both go through `checked_signals`, so a strategy cannot behave one way in a
backtest and another live.

Strategies written in the seed's older style override only `generate_signal`. They still load:
their `signals` becomes a bar-by-bar loop over a trailing window (`legacy = True`), which is
correct but slow, and the backtest says so.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from domain.errors import InvalidStrategy
from domain.signal import DIRECTIONS, Direction, Signal
from domain.signal_frame import checked_arrays, checked_frame, signal_from_row, signals_bar_by_bar

__all__ = ["DIRECTIONS", "LEGACY_WINDOW", "MAX_GRID_PARAMS", "TIMEFRAMES", "Direction", "Signal", "StrategyCore"]

TIMEFRAMES: tuple[str, ...] = ("5m", "15m", "30m", "1h", "4h", "1d")
MAX_GRID_PARAMS = 4
LEGACY_WINDOW = 500
"""Bars handed to an old-style `generate_signal` per step: bounded, so the slow path stays linear."""


class StrategyCore(ABC):
    """Base of every strategy; shared code (params, checks, live signal), hence an ABC."""

    type: ClassVar[str]                 # MOM, REV, TRN, BRE, VOL, ...
    timeframe: ClassVar[str]            # 5m, 15m, 30m, 1h, 4h, 1d
    default_params: ClassVar[dict[str, Any]] = {}
    param_grid: ClassVar[dict[str, list[Any]]] = {}
    legacy: ClassVar[bool] = False
    """True when the class overrides only `generate_signal`: its signals come bar by bar (slow path)."""
    legacy_window: ClassVar[int] = LEGACY_WINDOW

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Runs before ABCMeta collects abstract methods, so the class below becomes instantiable.
        if "generate_signal" in cls.__dict__ and getattr(cls.signals, "__isabstractmethod__", False):
            cls.legacy = True
            cls.signals = _signals_from_generate_signal  # type: ignore[method-assign]

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
        """One row per bar of `df`: long_entry, short_entry, exit (bool), size, sl_pct, tp_pct (float).

        `size` is a fraction of equity in (0, 1]; `sl_pct`/`tp_pct` are fractions of the entry
        price, NaN for none. Row t may only use rows <= t: it is acted on at bar t+1's open.
        """

    def checked_signals(self, df: pd.DataFrame, last_rows: int | None = None) -> pd.DataFrame:
        """`signals(df)` checked and normalised (exact dtypes), or InvalidSignal naming column and row;
        with `last_rows`, only that many rows at the end (domain.signal_frame.checked_frame)."""
        return checked_frame(self.signals(df), df.index, type(self).__name__, last_rows)

    def checked_signal_arrays(self, df: pd.DataFrame, last_rows: int | None = None) -> dict[str, np.ndarray]:
        """As checked_signals, the columns as arrays (no frame built: the sandbox worker's wire)."""
        return checked_arrays(self.signals(df), df.index, type(self).__name__, last_rows)

    def generate_signal(self, df: pd.DataFrame) -> Signal | None:
        """Live: the signal of the last row of `signals(df)`; an entry wins over an exit on one bar."""
        if len(df) == 0:
            return None
        frame = self.checked_signals(df)
        return signal_from_row(frame.iloc[-1], float(df["close"].iloc[-1]), self.type)

    def warmup_bars(self) -> int:
        """Bars a strategy needs before its first meaningful row; a backtest needs more than this.

        The default reads integer parameters as lookback lengths, which holds for every strategy
        we generate (fast, slow, period, window ...); a strategy whose integers mean something
        else overrides this.
        """
        lengths = [v for v in self.params.values() if isinstance(v, int) and not isinstance(v, bool)]
        return max([0, *lengths])


def _signals_from_generate_signal(self: StrategyCore, df: pd.DataFrame) -> pd.DataFrame:
    return signals_bar_by_bar(self, df, self.legacy_window)
