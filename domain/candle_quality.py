"""What is wrong with a candle frame, counted exactly, before anyone trades or backtests on it.

A backtest on data with holes, doubled bars or impossible OHLC rows produces confident nonsense,
so the defects are counted on the raw rows (before normalisation hides duplicates and ordering)
and reported, never repaired silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from domain.candles import candle_timestamps, candle_values, parse_timestamps, timeframe_delta

EXAMPLES = 5


class Gap(NamedTuple):
    """A run of missing bars: open times of the first and last missing bar, and how many."""

    first_missing: pd.Timestamp
    last_missing: pd.Timestamp
    missing_bars: int


def find_gaps(index: pd.DatetimeIndex, timeframe: str) -> list[Gap]:
    """Every place where consecutive bars are more than one timeframe apart.

    The index is read as sorted unique open times (it is sorted here if it is not); NaT is
    ignored. A step that is not a whole number of bars still counts the bars that fit in it.
    """
    step = timeframe_delta(timeframe).value
    stamps = parse_timestamps(index)
    ns = stamps.asi8[~stamps.isna()]
    if not stamps.is_monotonic_increasing or stamps.has_duplicates:
        ns = np.unique(ns)
    if len(ns) < 2:
        return []
    diffs = np.diff(ns)
    where = np.flatnonzero(diffs > step)
    missing = (diffs[where] - 1) // step
    firsts = ns[where] + step
    lasts = ns[where] + missing * step
    return [
        Gap(pd.Timestamp(int(f), tz="UTC"), pd.Timestamp(int(last), tz="UTC"), int(m))
        for f, last, m in zip(firsts, lasts, missing, strict=True)
    ]


@dataclass(frozen=True)
class QualityReport:
    """Defect counts of one candle frame; zero_volume is information only (venues pause)."""

    timeframe: str
    rows: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    duplicates: int                  # rows whose open time an earlier row already had
    non_monotonic: int               # places where the open time goes backwards
    misaligned: int                  # open times not on the timeframe's grid (epoch-aligned)
    gaps: tuple[Gap, ...]
    ohlc_violations: int             # rows breaking low <= min(o, c) <= max(o, c) <= high
    ohlc_violation_examples: tuple[pd.Timestamp, ...]  # the earliest few such rows
    negative_volume: int
    non_positive_prices: int
    nan_rows: int                    # rows with a NaN value or no timestamp
    zero_volume: int

    @property
    def missing_bars(self) -> int:
        return sum(g.missing_bars for g in self.gaps)

    @property
    def ok(self) -> bool:
        return not self.problems()

    def problems(self) -> list[str]:
        """One phrase per kind of defect found; empty when the frame is clean."""
        found: list[str] = []
        counts = (
            (self.duplicates, "duplicate timestamps"),
            (self.non_monotonic, "out-of-order timestamps"),
            (self.misaligned, f"timestamps off the {self.timeframe} grid"),
            (self.negative_volume, "negative volumes"),
            (self.non_positive_prices, "non-positive prices"),
            (self.nan_rows, "rows with NaN"),
        )
        found.extend(f"{n} {what}" for n, what in counts if n)
        if self.gaps:
            found.append(f"{len(self.gaps)} gaps ({self.missing_bars} missing bars)")
        if self.ohlc_violations:
            first = _fmt(self.ohlc_violation_examples[0]) if self.ohlc_violation_examples else "?"
            found.append(f"{self.ohlc_violations} OHLC violations (first {first})")
        return found

    def summary(self) -> str:
        span = f"{_fmt(self.first)} -> {_fmt(self.last)}" if self.first is not None else "empty"
        verdict = "; ".join(self.problems()) or "ok"
        info = f" ({self.zero_volume} zero-volume bars)" if self.zero_volume else ""
        return f"{self.rows} rows {self.timeframe} {span}: {verdict}{info}"


def quality_report(df: pd.DataFrame, timeframe: str) -> QualityReport:
    """Defects of `df`: a raw frame with a `timestamp` column or an already normalised frame."""
    step = timeframe_delta(timeframe).value
    stamps = candle_timestamps(df)
    values = candle_values(df)
    has_time = ~np.asarray(stamps.isna())
    ns = stamps.asi8
    valid_ns = ns[has_time]
    nan_rows = np.isnan(values).any(axis=1) | ~has_time
    o, h, lo, c, v = values.T
    with np.errstate(invalid="ignore"):
        sane = (lo <= np.minimum(o, c)) & (np.maximum(o, c) <= h) & (lo <= h)
    bad_ohlc = ~sane & ~nan_rows
    unique_count = len(np.unique(valid_ns))
    return QualityReport(
        timeframe=timeframe,
        rows=len(df),
        first=pd.Timestamp(int(valid_ns.min()), tz="UTC") if len(valid_ns) else None,
        last=pd.Timestamp(int(valid_ns.max()), tz="UTC") if len(valid_ns) else None,
        duplicates=len(valid_ns) - unique_count,
        non_monotonic=int(np.count_nonzero(np.diff(valid_ns) < 0)),
        misaligned=int(np.count_nonzero(valid_ns % step)),
        gaps=tuple(find_gaps(stamps, timeframe)),
        ohlc_violations=int(bad_ohlc.sum()),
        ohlc_violation_examples=tuple(
            pd.Timestamp(int(t), tz="UTC") for t in np.unique(ns[bad_ohlc])[:EXAMPLES]
        ),
        negative_volume=int(np.count_nonzero(v < 0)),
        non_positive_prices=int(np.count_nonzero((values[:, :4] <= 0).any(axis=1))),
        nan_rows=int(nan_rows.sum()),
        zero_volume=int(np.count_nonzero(v == 0)),
    )


def _fmt(stamp: pd.Timestamp | None) -> str:
    return "-" if stamp is None else stamp.strftime("%Y-%m-%d %H:%M")
