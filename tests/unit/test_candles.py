from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.candles import (
    COLUMNS,
    INDEX_DTYPE,
    InvalidCandles,
    empty_candles,
    merge_candles,
    normalize_candles,
    slice_candles,
    to_utc,
)

T0_MS = 1_735_689_600_000  # 2025-01-01 00:00 UTC
HOUR_MS = 3_600_000


def raw(stamps: list[object], **overrides: list[float]) -> pd.DataFrame:
    n = len(stamps)
    data: dict[str, object] = {"timestamp": stamps}
    data.update({c: overrides.get(c, [float(i + 1) for i in range(n)]) for c in COLUMNS})
    return pd.DataFrame(data)


def expected_index(*hours: int) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([pd.Timestamp(T0_MS + h * HOUR_MS, unit="ms", tz="UTC") for h in hours],
                            name="timestamp").astype(INDEX_DTYPE)


def test_epoch_milliseconds_become_a_utc_index_and_float_columns() -> None:
    df = raw([T0_MS, T0_MS + HOUR_MS], volume=[1, 2])
    out = normalize_candles(df)
    assert list(out.columns) == list(COLUMNS)
    assert all(out[c].dtype == np.float64 for c in COLUMNS)
    assert out.index.dtype == INDEX_DTYPE and out.index.name == "timestamp"
    assert out.index[0] == pd.Timestamp("2025-01-01", tz="UTC")
    pd.testing.assert_index_equal(out.index, expected_index(0, 1))


def test_naive_datetimes_are_taken_as_utc() -> None:
    out = normalize_candles(raw([datetime(2025, 1, 1), datetime(2025, 1, 1, 1)]))
    pd.testing.assert_index_equal(out.index, expected_index(0, 1))


def test_aware_datetimes_are_converted_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    out = normalize_candles(raw([datetime(2025, 1, 1, 1, tzinfo=paris), datetime(2025, 1, 1, 2, tzinfo=paris)]))
    pd.testing.assert_index_equal(out.index, expected_index(0, 1))


def test_a_datetime_index_is_accepted_and_column_case_does_not_matter() -> None:
    index = pd.date_range("2025-01-01", periods=3, freq="1h", tz="Asia/Tokyo")
    df = pd.DataFrame({"Open": [1, 2, 3], "HIGH": [2, 3, 4], "low": [0, 1, 2], "Close": [1, 2, 3],
                       "Volume": [5, 5, 5], "extra": ["a", "b", "c"]}, index=index)
    out = normalize_candles(df)
    assert list(out.columns) == list(COLUMNS)
    assert out.index[0] == pd.Timestamp("2024-12-31 15:00", tz="UTC")
    assert out["high"].tolist() == [2.0, 3.0, 4.0]


def test_unsorted_rows_are_sorted_with_their_values() -> None:
    out = normalize_candles(raw([T0_MS + 2 * HOUR_MS, T0_MS, T0_MS + HOUR_MS], close=[30.0, 10.0, 20.0]))
    pd.testing.assert_index_equal(out.index, expected_index(0, 1, 2))
    assert out["close"].tolist() == [10.0, 20.0, 30.0]


def test_duplicates_keep_the_last_row_seen() -> None:
    df = raw([T0_MS + HOUR_MS, T0_MS, T0_MS + HOUR_MS, T0_MS], close=[1.0, 2.0, 3.0, 4.0])
    out = normalize_candles(df)
    pd.testing.assert_index_equal(out.index, expected_index(0, 1))
    assert out["close"].tolist() == [4.0, 3.0]


def test_missing_columns_are_named() -> None:
    df = raw([T0_MS]).drop(columns=["high", "volume"])
    with pytest.raises(InvalidCandles, match="high, volume"):
        normalize_candles(df)


def test_no_timestamp_anywhere_is_refused() -> None:
    with pytest.raises(InvalidCandles, match="timestamp"):
        normalize_candles(raw([T0_MS]).drop(columns=["timestamp"]))


def test_missing_or_unreadable_timestamps_are_refused() -> None:
    with pytest.raises(InvalidCandles, match="no timestamp"):
        normalize_candles(raw([float(T0_MS), np.nan]))
    with pytest.raises(InvalidCandles, match="cannot be read"):
        normalize_candles(raw(["not a date"]))


def test_non_numeric_prices_are_refused() -> None:
    with pytest.raises(InvalidCandles, match="not numeric"):
        normalize_candles(raw([T0_MS], open=["abc"]))


def test_the_input_frame_is_never_changed_or_shared() -> None:
    df = raw([T0_MS + HOUR_MS, T0_MS])
    before = df.copy()
    out = normalize_candles(df)
    out.iloc[0, 0] = -1.0
    pd.testing.assert_frame_equal(df, before)


def test_attrs_survive_normalisation() -> None:
    df = raw([T0_MS])
    df.attrs["synthetic"] = True
    assert normalize_candles(df).attrs == {"synthetic": True}


def test_empty_frames_normalise_to_the_empty_standard_frame() -> None:
    out = normalize_candles(raw([]))
    pd.testing.assert_frame_equal(out, empty_candles())


def test_merge_prefers_new_rows_and_keeps_the_synthetic_label() -> None:
    old = normalize_candles(raw([T0_MS, T0_MS + HOUR_MS], close=[1.0, 2.0]))
    old.attrs["synthetic"] = True
    new = normalize_candles(raw([T0_MS + HOUR_MS, T0_MS + 2 * HOUR_MS], close=[20.0, 30.0]))
    merged = merge_candles(old, new)
    assert merged["close"].tolist() == [1.0, 20.0, 30.0]
    assert merged.attrs["synthetic"] is True


def test_slice_is_half_open_and_accepts_naive_bounds() -> None:
    df = normalize_candles(raw([T0_MS + h * HOUR_MS for h in range(5)]))
    part = slice_candles(df, datetime(2025, 1, 1, 1), datetime(2025, 1, 1, 3, tzinfo=UTC))
    pd.testing.assert_index_equal(part.index, expected_index(1, 2))
    assert len(slice_candles(df, end="2025-01-01")) == 0
    assert len(slice_candles(df, start="2025-01-01 04:30")) == 0


def test_to_utc_refuses_what_is_not_a_time() -> None:
    with pytest.raises(InvalidCandles):
        to_utc("yesterday-ish")


def test_two_hundred_thousand_rows_normalise_quickly() -> None:
    n = 200_000
    rng = np.random.default_rng(0)
    stamps = T0_MS + rng.permutation(n).astype(np.int64) * 60_000
    df = pd.DataFrame({"timestamp": stamps, **{c: rng.random(n) for c in COLUMNS}})
    started = pd.Timestamp.now()
    out = normalize_candles(df)
    assert (pd.Timestamp.now() - started).total_seconds() < 2.0
    assert out.index.is_monotonic_increasing and out.index.is_unique and len(out) == n


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.floats(1, 1e6)), max_size=40))
def test_normalised_frames_are_sorted_unique_and_keep_the_last_value(rows: list[tuple[int, float]]) -> None:
    df = raw([T0_MS + h * HOUR_MS for h, _ in rows], close=[v for _, v in rows])
    out = normalize_candles(df)
    assert out.index.is_monotonic_increasing and out.index.is_unique
    last = {h: v for h, v in rows}
    assert out["close"].tolist() == [last[h] for h in sorted(last)]
