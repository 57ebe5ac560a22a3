"""The frame `StrategyCore.signals` returns: its checks, its last row as a live Signal, and the slow path.

Generated strategies are untrusted code, so their frame is checked before anything trades on
it, and a refusal names the column and the first bad row: that is what a person (or the AI
that wrote the strategy) needs to fix it. Values are only checked where they are used (size
and stops on entry rows), so a strategy may leave anything in the other rows.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
import pandas as pd

from domain.errors import InvalidSignal
from domain.signal import Direction, Signal

FLAG_COLUMNS: tuple[str, ...] = ("long_entry", "short_entry", "exit")
VALUE_COLUMNS: tuple[str, ...] = ("size", "sl_pct", "tp_pct")
SIGNAL_COLUMNS: tuple[str, ...] = (*FLAG_COLUMNS, *VALUE_COLUMNS)


class LiveStrategy(Protocol):
    def generate_signal(self, df: pd.DataFrame) -> Signal | None: ...


def checked_frame(out: object, index: pd.Index, owner: str, last_rows: int | None = None) -> pd.DataFrame:
    """`out` as a frame with exactly SIGNAL_COLUMNS (bool, bool, bool, float64 x3) on `index`.

    With `last_rows`, only the last rows come back and only their values are checked (the live
    loop acts on the last row alone); columns and index are still checked on the whole frame.
    """
    columns, tail = _checked_tail(out, index, owner, last_rows)
    return _signal_frame(columns, tail)


def checked_arrays(out: object, index: pd.Index, owner: str, last_rows: int | None = None) -> dict[str, np.ndarray]:
    """checked_frame's columns as arrays, with no frame built: a sandbox worker sends arrays, and
    building the frame cost more than all of the checks."""
    return _checked_tail(out, index, owner, last_rows)[0]


def _checked_tail(out: object, index: pd.Index, owner: str, last_rows: int | None,
                  ) -> tuple[dict[str, np.ndarray], pd.Index]:
    check_last_rows(last_rows)
    where = f"{owner}.signals"
    if not isinstance(out, pd.DataFrame):
        raise InvalidSignal(f"{where} must return a DataFrame, got {type(out).__name__}")
    _require_columns(out.columns, where)
    _check_index(out.index, index, where)
    rows = len(index) if last_rows is None else min(last_rows, len(index))
    tail = index if rows == len(index) else index[len(index) - rows:]
    flags = {c: _flags(out[c], rows, c, tail, where) for c in FLAG_COLUMNS}
    values = {c: _numbers(out[c], rows, c, tail, where) for c in VALUE_COLUMNS}
    _check_values(flags, values, tail, where)
    return {**flags, **values}, tail


def checked_columns(columns: Mapping[str, np.ndarray], index: pd.Index, owner: str) -> pd.DataFrame:
    """As checked_frame, for columns that arrive as arrays (a sandbox worker's reply): exactly
    SIGNAL_COLUMNS, bool flags and float64 values, one value per row of `index`."""
    where = f"{owner}.signals"
    _require_columns(columns, where)
    for name in SIGNAL_COLUMNS:
        array = columns[name]
        wanted = np.bool_ if name in FLAG_COLUMNS else np.float64
        if not isinstance(array, np.ndarray) or array.dtype != wanted or array.shape != (len(index),):
            raise InvalidSignal(f"{where}: column {name!r} must be {len(index)} values of {np.dtype(wanted)}")
    flags, values = {c: columns[c] for c in FLAG_COLUMNS}, {c: columns[c] for c in VALUE_COLUMNS}
    _check_values(flags, values, index, where)
    return _signal_frame({**flags, **values}, index)


def _signal_frame(columns: Mapping[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    """The frame of arrays already checked (one per column, one value per row of `index`), built
    without a second check and on one shared column index. The live loop builds one per strategy
    and bar, and DataFrame(dict) cost seven times as much, most of it making the column labels."""
    return pd.DataFrame._from_arrays([columns[c] for c in SIGNAL_COLUMNS], columns=_column_index(), index=index,
                                     verify_integrity=False)


@functools.cache
def _column_index() -> pd.Index:
    """Made on first use, not on import: a sandbox worker imports this module before it confines
    itself, and string labels load pyarrow, whose allocator then holds address space that the
    worker's memory limit counts (a strategy's read_csv then ran out of memory instead of being
    refused the network)."""
    return pd.Index(SIGNAL_COLUMNS)


def check_last_rows(last_rows: int | None) -> None:
    """A caller's mistake, refused before any strategy runs (never the strategy's rejection)."""
    if last_rows is not None and (isinstance(last_rows, bool) or not isinstance(last_rows, int) or last_rows < 1):
        raise ValueError(f"last_rows must be a whole number of at least 1, got {last_rows!r}")


def _require_columns(present: Any, where: str) -> None:
    missing = [c for c in SIGNAL_COLUMNS if c not in present]
    if missing:
        raise InvalidSignal(f"{where} is missing column(s) {', '.join(repr(c) for c in missing)}")


def _check_values(flags: dict[str, np.ndarray], values: dict[str, np.ndarray], index: pd.Index, where: str) -> None:
    """The value checks on rows of `index`."""
    long, short = flags["long_entry"], flags["short_entry"]
    _refuse(long & short, "long_entry", "is True on the same row as short_entry", short, index, where)
    entry = long | short
    size, sl, tp = values["size"], values["sl_pct"], values["tp_pct"]
    with np.errstate(invalid="ignore"):
        _refuse(entry & ~((size > 0) & (size <= 1)), "size", "must be in (0, 1] on entry rows", size, index, where)
        for name, pct in (("sl_pct", sl), ("tp_pct", tp)):
            bad = entry & ~np.isnan(pct) & ~((pct > 0) & np.isfinite(pct))
            _refuse(bad, name, "must be a positive fraction of the entry price or NaN", pct, index, where)
        _refuse(long & (sl >= 1), "sl_pct", "must be below 1 on long entries (a stop at or below 0)", sl,
                index, where)
        _refuse(short & (tp >= 1), "tp_pct", "must be below 1 on short entries (a target at or below 0)", tp,
                index, where)


def signal_from_row(row: pd.Series, close: float, strategy_type: str) -> Signal | None:
    """The live Signal for one checked row; stops become absolute prices from the bar's close."""
    long, short = bool(row["long_entry"]), bool(row["short_entry"])
    if long or short:
        direction: Direction = "long" if long else "short"
        sign = 1.0 if long else -1.0
        sl, tp = float(row["sl_pct"]), float(row["tp_pct"])
        return Signal(
            direction=direction,
            size=float(row["size"]),
            stop_loss=None if math.isnan(sl) else close * (1 - sign * sl),
            take_profit=None if math.isnan(tp) else close * (1 + sign * tp),
            reason=f"{strategy_type} {direction}_entry",
        )
    if bool(row["exit"]):
        return Signal(direction="close", size=1.0, reason=f"{strategy_type} exit")
    return None


def signals_bar_by_bar(strategy: LiveStrategy, df: pd.DataFrame, window: int) -> pd.DataFrame:
    """The signals frame of an old-style strategy: `generate_signal` on a trailing window per bar.

    Absolute stops become fractions of that bar's close, the price the strategy saw.
    """
    n = len(df)
    flags = {c: np.zeros(n, dtype=bool) for c in FLAG_COLUMNS}
    values = {c: np.full(n, np.nan) for c in VALUE_COLUMNS}
    closes = df["close"].to_numpy(dtype=float)
    for t in range(n):
        signal = strategy.generate_signal(df.iloc[max(0, t - window + 1): t + 1])
        if signal is None:
            continue
        if not isinstance(signal, Signal):
            raise InvalidSignal(
                f"{type(strategy).__name__}.generate_signal must return a Signal or None, got {type(signal).__name__}"
            )
        if signal.direction == "close":
            flags["exit"][t] = True
            continue
        sign = 1.0 if signal.direction == "long" else -1.0
        close = closes[t]
        flags["long_entry" if sign > 0 else "short_entry"][t] = True
        values["size"][t] = signal.size
        if signal.stop_loss is not None:
            values["sl_pct"][t] = sign * (close - signal.stop_loss) / close
        if signal.take_profit is not None:
            values["tp_pct"][t] = sign * (signal.take_profit - close) / close
    return pd.DataFrame({**flags, **values}, index=df.index)


def _check_index(got: pd.Index, expected: pd.Index, where: str) -> None:
    if got.equals(expected):
        return
    if len(got) != len(expected):
        raise InvalidSignal(f"{where} must return one row per input bar: {len(got)} rows for {len(expected)} bars")
    differs = np.flatnonzero(np.asarray(got != expected))
    first = int(differs[0]) if len(differs) else 0
    raise InvalidSignal(
        f"{where} must return a frame on its input's index; first bad row {first}: "
        f"{got[first]!r} instead of {expected[first]!r}"
    )


def _refuse(bad: np.ndarray, column: str, problem: str, values: np.ndarray, index: pd.Index, where: str) -> None:
    if bad.any():
        row = int(np.argmax(bad))
        value = values[row].item() if isinstance(values[row], np.generic) else values[row]
        raise InvalidSignal(
            f"{where}: column {column!r} {problem}; first bad row {index[row]} (row {row}): {value!r}"
        )


def _flags(column: pd.Series, rows: int, name: str, index: pd.Index, where: str) -> np.ndarray:
    """Booleans of the last `rows`; missing values (NaN, None, NA: what shift() leaves) count as False."""
    dtype = column.dtype
    if dtype == np.bool_:  # numpy booleans hold no missing values: the common case, without the checks below
        return np.asarray(column.to_numpy(), dtype=bool)[len(column) - rows:]
    column = _last(column, rows)
    if pd.api.types.is_bool_dtype(dtype):
        filled = column.fillna(False) if column.hasnans else column
        return np.asarray(filled.to_numpy(dtype=bool), dtype=bool)
    if pd.api.types.is_numeric_dtype(dtype):
        numbers = np.asarray(column.to_numpy(dtype=float, na_value=np.nan), dtype=float)
        _refuse(~(np.isnan(numbers) | (numbers == 0) | (numbers == 1)), name, "must be boolean", numbers,
                index, where)
        return np.asarray(numbers == 1, dtype=bool)
    raw = column.to_numpy(dtype=object)
    ok = np.fromiter((_is_flag(v) for v in raw), dtype=bool, count=len(raw))
    _refuse(~ok, name, "must be boolean", raw, index, where)
    return np.fromiter((v is not None and v == v and bool(v) for v in raw), dtype=bool, count=len(raw))


def _is_flag(value: Any) -> bool:
    if value is None or value is pd.NA or isinstance(value, bool | np.bool_):
        return True
    return isinstance(value, int | float | np.number) and (value != value or value in (0, 1))


def _numbers(column: pd.Series, rows: int, name: str, index: pd.Index, where: str) -> np.ndarray:
    if column.dtype == np.float64:
        return np.asarray(column.to_numpy(), dtype=float)[len(column) - rows:]
    column = _last(column, rows)
    if pd.api.types.is_numeric_dtype(column.dtype):
        return np.asarray(column.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    coerced = pd.to_numeric(column, errors="coerce")
    raw = column.to_numpy(dtype=object)
    _refuse(np.asarray(coerced.isna() & column.notna()), name, "must be numeric", raw, index, where)
    return np.asarray(coerced.to_numpy(dtype=float, na_value=np.nan), dtype=float)


def _last(column: pd.Series, rows: int) -> pd.Series:
    return column if rows == len(column) else column.iloc[len(column) - rows:]
