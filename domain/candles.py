"""The candle frame every part of SixBTC exchanges, and the checks that keep it honest.

Columns open, high, low, close, volume (float64); index: UTC DatetimeIndex of bar open times
(nanosecond unit), named "timestamp", sorted and unique. Anything else is normalised here or
refused with a clear reason, so code downstream never has to guess which form it was given.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime

import numpy as np
import pandas as pd

from domain.errors import DomainError

COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
TIMEFRAME_MINUTES: dict[str, int] = {"1m": 1, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "4h": 240, "1d": 1440}
TIMESTAMP = "timestamp"
# One resolution everywhere: pandas 3 picks s/ms/us by input, and mixed units break equality checks.
INDEX_DTYPE = "datetime64[ns, UTC]"


class InvalidCandles(DomainError):
    """A candle frame that cannot be made into the standard form."""


class UnknownTimeframe(DomainError):
    """A timeframe outside TIMEFRAME_MINUTES."""


_DELTAS: dict[str, pd.Timedelta] = {}
"""Made once per timeframe: a Timedelta costs more to build than most of what reads candles does."""


def timeframe_delta(timeframe: str) -> pd.Timedelta:
    found = _DELTAS.get(timeframe) if isinstance(timeframe, str) else None
    if found is not None:
        return found
    try:
        return _DELTAS.setdefault(timeframe, pd.Timedelta(minutes=TIMEFRAME_MINUTES[timeframe]))
    except KeyError:
        raise UnknownTimeframe(
            f"unknown timeframe {timeframe!r}; valid: {', '.join(TIMEFRAME_MINUTES)}"
        ) from None


def empty_candles() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype="float64") for c in COLUMNS},
        index=pd.DatetimeIndex([], dtype=INDEX_DTYPE, name=TIMESTAMP),
    )


def parse_timestamps(values: pd.Index | pd.Series) -> pd.DatetimeIndex:
    """Bar open times as a UTC index in input order; unreadable entries become NaT.

    Numbers are epoch milliseconds (what exchanges and freqtrade write); naive datetimes are
    taken as UTC because every venue we use reports UTC; aware ones are converted.
    """
    dtype = values.dtype
    try:
        if isinstance(dtype, pd.DatetimeTZDtype):
            index = pd.DatetimeIndex(values).tz_convert("UTC")
        elif pd.api.types.is_datetime64_dtype(dtype):
            index = pd.DatetimeIndex(values).tz_localize("UTC")
        elif pd.api.types.is_bool_dtype(dtype):
            raise InvalidCandles("timestamps are booleans, expected epoch ms or datetimes")
        elif pd.api.types.is_numeric_dtype(dtype):
            index = pd.DatetimeIndex(pd.to_datetime(values, unit="ms", utc=True))
        else:
            index = pd.DatetimeIndex(pd.to_datetime(values, utc=True))
        return index.as_unit("ns").rename(TIMESTAMP)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidCandles(f"timestamps cannot be read: {exc}") from exc


def candle_timestamps(df: pd.DataFrame) -> pd.DatetimeIndex:
    """The frame's bar open times in row order: its `timestamp` column, else its index."""
    columns = _column_map(df)
    if TIMESTAMP in columns:
        return parse_timestamps(df[columns[TIMESTAMP]])
    if isinstance(df.index, pd.DatetimeIndex) or str(df.index.name).lower() == TIMESTAMP:
        return parse_timestamps(df.index)
    raise InvalidCandles("no 'timestamp' column, and the index is neither a DatetimeIndex nor named 'timestamp'")


def candle_values(df: pd.DataFrame) -> np.ndarray:
    """The five candle columns as one (rows, 5) float64 array, in COLUMNS order, NaN for missing."""
    columns = _column_map(df)
    missing = [c for c in COLUMNS if c not in columns]
    if missing:
        found = ", ".join(str(c) for c in df.columns) or "none"
        raise InvalidCandles(f"missing candle columns: {', '.join(missing)} (found: {found})")
    try:
        values: np.ndarray = df[[columns[c] for c in COLUMNS]].to_numpy(dtype="float64", na_value=np.nan, copy=True)
    except (ValueError, TypeError) as exc:
        raise InvalidCandles(f"candle columns are not numeric: {exc}") from exc
    return values


def normalize_candles(df: pd.DataFrame) -> pd.DataFrame:
    """The standard candle frame built from `df`; `df` itself is never changed or shared.

    Rows are sorted by open time; of rows sharing one open time the last one wins, since a later
    row is a later observation of the same bar. Extra columns are dropped; `attrs` are kept so
    labels such as attrs["synthetic"] survive.
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidCandles(f"expected a pandas DataFrame, got {type(df).__name__}")
    values = candle_values(df)
    index = candle_timestamps(df)
    if index.hasnans:
        raise InvalidCandles(f"{int(index.isna().sum())} rows have no timestamp")
    if not index.is_monotonic_increasing:
        order = np.argsort(index.asi8, kind="stable")
        index, values = index[order], values[order]
    if index.has_duplicates:
        keep = ~index.duplicated(keep="last")
        index, values = index[keep], values[keep]
    out = pd.DataFrame(values, index=index, columns=list(COLUMNS))
    out.attrs = dict(df.attrs)
    return out


def merge_candles(existing: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Both frames' bars in one standard frame; on equal open times the row from `new` wins.

    attrs are merged the same way, except that a synthetic label is sticky: one synthetic bar
    makes the whole series synthetic, so it can never be shown as real.
    """
    if len(new) == 0:
        merged = normalize_candles(existing)
    elif len(existing) == 0:
        merged = normalize_candles(new)
    else:
        merged = normalize_candles(pd.concat([normalize_candles(existing), normalize_candles(new)]))
    merged.attrs = {**existing.attrs, **new.attrs}
    if existing.attrs.get("synthetic") or new.attrs.get("synthetic"):
        merged.attrs["synthetic"] = True
    return merged


def to_utc(moment: datetime | str) -> pd.Timestamp:
    """A point in time as a UTC Timestamp; naive values are UTC, as in the candle frame."""
    try:
        stamp = pd.Timestamp(moment)
    except (ValueError, TypeError) as exc:
        raise InvalidCandles(f"not a point in time: {moment!r}") from exc
    if stamp is pd.NaT:
        raise InvalidCandles(f"not a point in time: {moment!r}")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def slice_candles(df: pd.DataFrame, start: datetime | str | None = None,
                  end: datetime | str | None = None) -> pd.DataFrame:
    """A copy of the bars of a standard frame whose open time lies in [start, end)."""
    index: pd.DatetimeIndex = df.index
    lo = 0 if start is None else int(index.searchsorted(to_utc(start), side="left"))
    hi = len(index) if end is None else int(index.searchsorted(to_utc(end), side="left"))
    return df.iloc[lo:max(lo, hi)].copy()


def last_days(frame: pd.DataFrame, timeframe: str, days: int | None) -> pd.DataFrame:
    """The bars of the last `days` days of data (all of them when None)."""
    if days is None or len(frame) == 0:
        return frame
    start = frame.index[-1] + timeframe_delta(timeframe) - pd.Timedelta(days=days)
    return frame.loc[frame.index >= start]


def _column_map(df: pd.DataFrame) -> dict[str, Hashable]:
    """Lower-cased column name -> the column's real label; two labels that collide are refused."""
    mapping: dict[str, Hashable] = {}
    for label in df.columns:
        key = str(label).strip().lower()
        if key in mapping and key in (*COLUMNS, TIMESTAMP):
            raise InvalidCandles(f"ambiguous columns {mapping[key]!r} and {label!r}")
        mapping.setdefault(key, label)
    return mapping
