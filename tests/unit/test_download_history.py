"""DownloadHistory on in-memory adapters: what it asks the venue for, and what ends up cached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from adapters.memory.candle_store import InMemoryCandleStore
from adapters.memory.clock import ManualClock
from application.download_history import DownloadFailed, DownloadHistory, InvalidDownloadRequest
from application.ports.market_data import MarketDataError, UnknownSymbol
from domain.candles import UnknownTimeframe, normalize_candles, slice_candles

NOW = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
HOUR = pd.Timedelta(hours=1)


def make_candles(start: str, periods: int, freq: str = "1h") -> pd.DataFrame:
    index = pd.date_range(start, periods=periods, freq=freq, tz="UTC")
    close = 100.0 + np.arange(periods, dtype="float64")
    frame = pd.DataFrame({"timestamp": index, "open": close - 0.5, "high": close + 1.0, "low": close - 1.0,
                          "close": close, "volume": np.full(periods, 10.0)})
    return normalize_candles(frame)


class FakeVenue:
    """HistoricalCandles over fixed frames; records each window asked for, fails on demand."""

    def __init__(self, clock: ManualClock, frames: dict[tuple[str, str], pd.DataFrame]) -> None:
        self.clock = clock
        self.frames = frames
        self.calls: list[tuple[str, str, pd.Timestamp, pd.Timestamp]] = []
        self.fail_from_call: int | None = None

    def fetch(self, symbol: str, timeframe: str, start: datetime, end: datetime) -> pd.DataFrame:
        self.calls.append((symbol, timeframe, pd.Timestamp(start), pd.Timestamp(end)))
        if self.fail_from_call is not None and len(self.calls) >= self.fail_from_call:
            raise MarketDataError("Binance failed to deliver candles after 6 attempts: 503")
        if (symbol, timeframe) not in self.frames:
            raise UnknownSymbol(f"unknown symbol {symbol!r}; valid: BTC")
        closed_before = pd.Timestamp(self.clock.now()) - pd.Timedelta(timeframe)
        frame = slice_candles(self.frames[(symbol, timeframe)], start, end)
        return frame[frame.index <= closed_before]


class RecordingProgress:
    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def start(self, total: int) -> None:
        self.events.append(("start", total))

    def advance(self, n: int) -> None:
        self.events.append(("advance", n))

    def finish(self) -> None:
        self.events.append(("finish", 0))

    @property
    def done(self) -> int:
        return sum(n for kind, n in self.events if kind == "advance")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def source() -> pd.DataFrame:
    return make_candles("2024-01-01", 24 * 70)  # 2024-01-01 .. 2024-03-10, beyond NOW


@pytest.fixture
def venue(clock: ManualClock, source: pd.DataFrame) -> FakeVenue:
    return FakeVenue(clock, {("BTC", "1h"): source})


def expected(source: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    return slice_candles(source, pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC"))


def test_first_download_fills_the_window_with_closed_bars_only(venue, clock, source) -> None:
    store = InMemoryCandleStore()
    [result] = DownloadHistory(venue, store, clock).execute(["BTC"], ["1h"], days=10)

    cached = store.load("BTC", "1h")
    pd.testing.assert_frame_equal(cached, expected(source, "2024-02-20 12:00", "2024-03-01 12:00"))
    assert (result.rows_added, result.rows, result.gaps_left) == (240, 240, 0)
    assert result.first == datetime(2024, 2, 20, 12, tzinfo=UTC)
    assert result.last == datetime(2024, 3, 1, 11, tzinfo=UTC)  # 12:00 is still forming at 12:30


def test_second_run_fetches_only_bars_closed_since(venue, clock, source) -> None:
    store = InMemoryCandleStore()
    use_case = DownloadHistory(venue, store, clock)
    use_case.execute(["BTC"], ["1h"], days=10)
    venue.calls.clear()

    assert use_case.execute(["BTC"], ["1h"], days=10)[0].rows_added == 0
    assert venue.calls == []  # nothing closed since: the venue is not asked at all

    clock.advance(timedelta(hours=3))
    [result] = use_case.execute(["BTC"], ["1h"], days=10)
    assert venue.calls == [("BTC", "1h", pd.Timestamp("2024-03-01 12:00", tz="UTC"),
                            pd.Timestamp("2024-03-01 15:00", tz="UTC"))]
    assert result.rows_added == 3
    pd.testing.assert_frame_equal(store.load("BTC", "1h"), expected(source, "2024-02-20 12:00", "2024-03-01 15:00"))


def test_a_hole_in_the_cache_is_fetched_and_filled(venue, clock, source) -> None:
    store = InMemoryCandleStore()
    store.save("BTC", "1h", expected(source, "2024-02-20 12:00", "2024-02-25 00:00"))
    store.save("BTC", "1h", expected(source, "2024-02-26 00:00", "2024-03-01 12:00"))

    [result] = DownloadHistory(venue, store, clock).execute(["BTC"], ["1h"], days=10)

    assert [(c[2], c[3]) for c in venue.calls] == [(pd.Timestamp("2024-02-25 00:00", tz="UTC"),
                                                    pd.Timestamp("2024-02-26 00:00", tz="UTC"))]
    assert (result.rows_added, result.gaps_filled, result.gaps_left) == (24, 1, 0)
    pd.testing.assert_frame_equal(store.load("BTC", "1h"), expected(source, "2024-02-20 12:00", "2024-03-01 12:00"))


def test_a_hole_the_venue_also_has_is_reported_not_invented(clock, source) -> None:
    holey = source.drop(source.index[(source.index >= "2024-02-25") & (source.index < "2024-02-25 05:00")])
    venue = FakeVenue(clock, {("BTC", "1h"): holey})
    [result] = DownloadHistory(venue, InMemoryCandleStore(), clock).execute(["BTC"], ["1h"], days=10)
    assert (result.rows_added, result.gaps_filled, result.gaps_left) == (235, 0, 1)


def test_more_days_fetch_backwards_and_stop_where_the_venue_history_begins(venue, clock, source) -> None:
    store = InMemoryCandleStore()
    use_case = DownloadHistory(venue, store, clock, chunk_bars=24 * 20)
    use_case.execute(["BTC"], ["1h"], days=10)
    venue.calls.clear()

    [result] = use_case.execute(["BTC"], ["1h"], days=200)  # the venue's data starts on 2024-01-01

    starts = [c[2] for c in venue.calls]
    assert starts == sorted(starts, reverse=True)  # newest first, so the cache stays contiguous
    assert len(venue.calls) == 4  # 2024-01-31, 2024-01-11, 2023-12-22 (partly), 2023-12-02 (empty): stop
    assert result.first == datetime(2024, 1, 1, tzinfo=UTC)
    assert result.rows_added == len(expected(source, "2024-01-01", "2024-02-20 12:00"))


def test_a_failing_venue_keeps_earlier_chunks_and_a_rerun_resumes(venue, clock, source) -> None:
    store = InMemoryCandleStore()
    progress = RecordingProgress()
    use_case = DownloadHistory(venue, store, clock, progress, chunk_bars=48)
    venue.fail_from_call = 3

    with pytest.raises(DownloadFailed, match=r"BTC 1h .*96 bars .* are in the cache; run the download again") as info:
        use_case.execute(["BTC"], ["1h"], days=10)

    assert isinstance(info.value.__cause__, MarketDataError)
    assert info.value.saved_rows == 96
    pd.testing.assert_frame_equal(store.load("BTC", "1h"), expected(source, "2024-02-26 12:00", "2024-03-01 12:00"))
    assert progress.events[-1] == ("finish", 0)

    venue.fail_from_call = None
    venue.calls.clear()
    [result] = use_case.execute(["BTC"], ["1h"], days=10)
    assert all(c[3] <= pd.Timestamp("2024-02-26 12:00", tz="UTC") for c in venue.calls)
    assert result.rows_added == 240 - 96
    pd.testing.assert_frame_equal(store.load("BTC", "1h"), expected(source, "2024-02-20 12:00", "2024-03-01 12:00"))


def test_progress_counts_every_planned_bar_once(clock) -> None:
    venue = FakeVenue(clock, {("BTC", "1h"): make_candles("2024-01-01", 24 * 70),
                              ("ETH", "15m"): make_candles("2024-02-29", 4 * 24 * 5, "15min")})
    progress = RecordingProgress()
    DownloadHistory(venue, InMemoryCandleStore(), clock, progress, chunk_bars=100).execute(
        ["BTC"], ["1h"], days=10)
    DownloadHistory(venue, InMemoryCandleStore(), clock, progress, chunk_bars=100).execute(
        ["ETH"], ["15m"], days=10)  # listed two days ago: the rest of the window is skipped at once

    starts = [n for kind, n in progress.events if kind == "start"]
    assert starts == [240, 960]
    assert progress.done == 240 + 960
    assert [kind for kind, _ in progress.events].count("finish") == 2


def test_unknown_symbol_passes_through_and_nothing_is_saved(venue, clock) -> None:
    store = InMemoryCandleStore()
    with pytest.raises(UnknownSymbol, match="valid: BTC"):
        DownloadHistory(venue, store, clock).execute(["NOPE"], ["1h"], days=1)
    assert store.entries() == []


def test_unknown_timeframe_fails_before_any_download(venue, clock) -> None:
    with pytest.raises(UnknownTimeframe, match="valid: 1m, 5m"):
        DownloadHistory(venue, InMemoryCandleStore(), clock).execute(["BTC"], ["1h", "2h"], days=1)
    assert venue.calls == []


@pytest.mark.parametrize(("symbols", "timeframes", "days"), [([], ["1h"], 1), (["BTC"], [], 1), (["BTC"], ["1h"], 0)])
def test_requests_that_describe_nothing_are_refused(venue, clock, symbols, timeframes, days) -> None:
    with pytest.raises(InvalidDownloadRequest):
        DownloadHistory(venue, InMemoryCandleStore(), clock).execute(symbols, timeframes, days)


def test_status_lists_what_the_cache_holds(venue, clock) -> None:
    use_case = DownloadHistory(venue, InMemoryCandleStore(), clock)
    use_case.execute(["BTC"], ["1h"], days=2)
    [entry] = use_case.status()
    assert (entry.symbol, entry.timeframe, entry.rows, entry.gaps) == ("BTC", "1h", 48, 0)
