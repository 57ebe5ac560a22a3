from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from domain.candle_quality import Gap, QualityReport, find_gaps, quality_report
from domain.candles import UnknownTimeframe, normalize_candles

T0 = pd.Timestamp("2025-01-01", tz="UTC")
T0_MS = int(T0.value // 1_000_000)
STEP_MS = 300_000  # 5m


def clean(n: int = 10) -> pd.DataFrame:
    """A raw frame of n clean 5m bars: ms timestamps, consistent OHLC, positive volume."""
    close = 100.0 + np.arange(n, dtype=float)
    return pd.DataFrame({
        "timestamp": T0_MS + np.arange(n, dtype=np.int64) * STEP_MS,
        "open": close - 0.5, "high": close + 1.0, "low": close - 1.0, "close": close,
        "volume": np.full(n, 10.0),
    })


def at(bar: int) -> pd.Timestamp:
    return T0 + pd.Timedelta(minutes=5 * bar)


def report(df: pd.DataFrame) -> QualityReport:
    return quality_report(df, "5m")


def test_a_clean_frame_is_ok_raw_or_normalised() -> None:
    for frame in (clean(), normalize_candles(clean())):
        r = report(frame)
        assert r.ok and r.problems() == []
        assert (r.rows, r.first, r.last) == (10, at(0), at(9))
        assert r.summary() == "10 rows 5m 2025-01-01 00:00 -> 2025-01-01 00:45: ok"


def test_duplicates_are_counted_per_extra_row() -> None:
    df = pd.concat([clean(), clean().iloc[[3, 3, 7]]], ignore_index=True)
    r = report(df)
    assert r.duplicates == 3 and not r.ok
    assert r.gaps == () and r.rows == 13


def test_out_of_order_rows_are_counted_where_time_goes_back() -> None:
    df = clean().iloc[[0, 1, 5, 2, 3, 4, 6, 9, 7, 8]].reset_index(drop=True)
    r = report(df)
    assert r.non_monotonic == 2
    assert r.duplicates == 0 and r.gaps == ()


def test_gaps_give_first_and_last_missing_bar_and_count() -> None:
    df = clean(20).drop(index=[3, 4, 5, 10]).reset_index(drop=True)
    r = report(df)
    assert r.gaps == (Gap(at(3), at(5), 3), Gap(at(10), at(10), 1))
    assert r.missing_bars == 4
    assert "2 gaps (4 missing bars)" in r.summary()


def test_ohlc_violations_are_counted_with_the_earliest_examples() -> None:
    df = clean(10)
    df.loc[6, "high"] = df.loc[6, "close"] - 0.1        # high below close
    df.loc[2, "low"] = df.loc[2, "open"] + 0.1          # low above open
    df.loc[4, ["low", "high"]] = [105.0, 103.0]         # low above high
    r = report(df)
    assert r.ohlc_violations == 3
    assert r.ohlc_violation_examples == (at(2), at(4), at(6))


def test_equal_prices_are_not_violations() -> None:
    df = clean(3)
    df.loc[1, ["open", "high", "low", "close"]] = 100.0
    df.loc[1, "volume"] = 0.0
    r = report(df)
    assert r.ok and r.zero_volume == 1
    assert r.summary().endswith("(1 zero-volume bars)")


def test_negative_volume_non_positive_prices_and_nans() -> None:
    df = clean(10)
    df.loc[1, "volume"] = -1.0
    df.loc[2, ["open", "low"]] = [0.0, -1.0]
    df.loc[3, "close"] = np.nan
    df.loc[8, "volume"] = np.nan
    r = report(df)
    assert (r.negative_volume, r.non_positive_prices, r.nan_rows) == (1, 1, 2)
    assert r.ohlc_violations == 0  # NaN rows are counted as NaN, not twice


def test_rows_without_a_timestamp_are_nan_rows() -> None:
    df = clean(4).astype({"timestamp": float})
    df.loc[2, "timestamp"] = np.nan
    r = report(df)
    assert r.nan_rows == 1 and r.rows == 4
    assert r.gaps == (Gap(at(2), at(2), 1),)


def test_misaligned_open_times_are_counted() -> None:
    df = clean(5)
    df.loc[4, "timestamp"] += 60_000
    r = report(df)
    assert r.misaligned == 1


def test_every_problem_is_named_in_the_summary() -> None:
    df = pd.concat([clean(6).drop(index=[2]), clean(6).iloc[[1]]], ignore_index=True)
    text = report(df).summary()
    assert "1 duplicate timestamps" in text and "1 out-of-order" in text and "1 gaps" in text


def test_empty_frames_report_no_span() -> None:
    r = report(clean(0))
    assert r.ok and r.first is None and r.summary() == "0 rows 5m empty: ok"


def test_find_gaps_sorts_and_dedupes_its_input() -> None:
    index = pd.DatetimeIndex([at(6), at(0), at(1), at(1), at(3)])
    assert find_gaps(index, "5m") == [Gap(at(2), at(2), 1), Gap(at(4), at(5), 2)]
    assert find_gaps(index[:1], "5m") == []


def test_find_gaps_counts_bars_that_fit_in_an_uneven_step() -> None:
    index = pd.DatetimeIndex([at(0), at(2) + pd.Timedelta(minutes=2)])
    assert find_gaps(index, "5m") == [Gap(at(1), at(2), 2)]


def test_unknown_timeframes_are_refused() -> None:
    with pytest.raises(UnknownTimeframe):
        quality_report(clean(), "7m")


def test_two_hundred_thousand_rows_are_checked_quickly() -> None:
    df = clean(200_000)
    started = pd.Timestamp.now()
    r = report(df)
    assert (pd.Timestamp.now() - started).total_seconds() < 2.0 and r.ok
