"""The real ccxt client over real HTTP against the local Binance fake, into the Parquet cache."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from adapters.binance.history import BinanceHistory
from adapters.memory.clock import ManualClock
from adapters.parquet.candle_store import ParquetCandleStore
from application.download_history import DownloadFailed, DownloadHistory
from application.ports.market_data import MarketDataError, UnknownSymbol
from domain.candles import UnknownTimeframe, slice_candles
from tests.fakes.binance import FakeBinanceFutures

NOW = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)
END = pd.Timestamp("2024-03-01 12:00", tz="UTC")  # open time of the 1h bar still forming at NOW
DAYS = 12
START = END - pd.Timedelta(days=DAYS)


def ms(stamp: str | pd.Timestamp) -> str:
    return str(pd.Timestamp(stamp).tz_convert("UTC").value // 1_000_000)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeBinanceFutures]:
    with FakeBinanceFutures(now=clock.now) as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def history(fake: FakeBinanceFutures, clock: ManualClock, sleeps: list[float]) -> Iterator[BinanceHistory]:
    with BinanceHistory(fake.url, {"rateLimit": 1, "timeout": 2_000}, clock=clock, sleep=sleeps.append) as client:
        yield client


@pytest.fixture
def store(tmp_path) -> ParquetCandleStore:
    return ParquetCandleStore(tmp_path / "candles")


def source(fake: FakeBinanceFutures, symbol: str, timeframe: str, start: pd.Timestamp | None = None,
           end: pd.Timestamp | None = None) -> pd.DataFrame:
    """The fake's bars of the download window: the last DAYS days of bars closed at its clock."""
    end = pd.Timestamp(fake.now()).floor(pd.Timedelta(timeframe)) if end is None else end
    start = end - pd.Timedelta(days=DAYS) if start is None else start
    return slice_candles(fake.series(f"{symbol}USDT", timeframe), start, end)


def test_download_then_incremental_update_then_reload_equals_the_source(fake, history, store, clock) -> None:
    use_case = DownloadHistory(history, store, clock)
    results = use_case.execute(["BTC", "ETH"], ["15m", "1h"], days=DAYS)

    assert [(r.symbol, r.timeframe, r.rows_added, r.gaps_left) for r in results] == [
        ("BTC", "15m", 1152, 0), ("BTC", "1h", 288, 0), ("ETH", "15m", 1152, 0), ("ETH", "1h", 288, 0)]
    assert len(fake.kline_requests) == 6  # 1152 bars of 15m take two pages of 1000
    assert fake.weight_used() == 1 + 6 * 5  # exchangeInfo, then klines at limit 1000
    assert [r.path for r in fake.requests].count("/fapi/v1/exchangeInfo") == 1

    clock.advance(timedelta(hours=2))
    fake.reset_log()
    results = use_case.execute(["BTC", "ETH"], ["15m", "1h"], days=DAYS)

    assert [r.rows_added for r in results] == [8, 2, 8, 2]
    after_15m, after_1h = ms("2024-03-01 12:30Z"), ms("2024-03-01 12:00Z")  # first bars not closed at NOW
    assert [(p["symbol"], p["interval"], p["startTime"]) for p in fake.kline_requests] == [
        ("BTCUSDT", "15m", after_15m), ("BTCUSDT", "1h", after_1h),
        ("ETHUSDT", "15m", after_15m), ("ETHUSDT", "1h", after_1h)]
    for symbol in ("BTC", "ETH"):
        for timeframe in ("15m", "1h"):
            cached = store.load(symbol, timeframe)
            assert len(cached) == {"15m": 1160, "1h": 290}[timeframe]  # the window's bars plus the new ones
            pd.testing.assert_frame_equal(cached, source(fake, symbol, timeframe, start=cached.index[0]))


def test_bars_missing_at_the_venue_on_one_run_are_filled_on_the_next(fake, history, store, clock) -> None:
    fake.hide("BTCUSDT", "1h", "2024-02-25 00:00", "2024-02-25 06:00")
    use_case = DownloadHistory(history, store, clock)
    [first] = use_case.execute(["BTC"], ["1h"], days=DAYS)
    assert (first.rows_added, first.gaps_left) == (282, 1)

    fake.unhide()
    fake.reset_log()
    [second] = use_case.execute(["BTC"], ["1h"], days=DAYS)

    assert [(p["startTime"], p["endTime"]) for p in fake.kline_requests] == [
        (ms("2024-02-25 00:00Z"), str(int(ms("2024-02-25 06:00Z")) - 1))]
    assert (second.rows_added, second.gaps_filled, second.gaps_left) == (6, 1, 0)
    pd.testing.assert_frame_equal(store.load("BTC", "1h"), source(fake, "BTC", "1h"))


def test_rows_deleted_from_the_cache_file_are_fetched_again(fake, history, store, clock) -> None:
    use_case = DownloadHistory(history, store, clock)
    use_case.execute(["ETH"], ["1h"], days=DAYS)
    path = store.path_for("ETH", "1h")
    raw = pd.read_parquet(path)
    raw.drop(raw.index[100:110]).to_parquet(path)
    fake.reset_log()

    [result] = use_case.execute(["ETH"], ["1h"], days=DAYS)

    assert len(fake.kline_requests) == 1
    assert (result.rows_added, result.gaps_filled) == (10, 1)
    pd.testing.assert_frame_equal(store.load("ETH", "1h"), source(fake, "ETH", "1h"))


def test_429_with_retry_after_is_waited_out_then_the_download_succeeds(fake, history, store, clock, sleeps) -> None:
    fake.inject(429, retry_after=7, times=2)
    [result] = DownloadHistory(history, store, clock).execute(["BTC"], ["1h"], days=DAYS)

    assert sleeps == [7.0, 7.0]
    assert [r.status for r in fake.requests if r.path == "/fapi/v1/klines"] == [429, 429, 200]
    assert result.rows_added == 288
    pd.testing.assert_frame_equal(store.load("BTC", "1h"), source(fake, "BTC", "1h"))


def test_a_slow_answer_times_out_and_is_retried(fake, clock, sleeps) -> None:
    fake.inject(200, delay=1.0)
    with BinanceHistory(fake.url, {"rateLimit": 1, "timeout": 300}, clock=clock, sleep=sleeps.append) as client:
        frame = client.fetch("BTC", "1h", START.to_pydatetime(), END.to_pydatetime())
    assert sleeps == [1.0]  # first backoff step, no Retry-After on a timeout
    pd.testing.assert_frame_equal(frame, source(fake, "BTC", "1h"))


def test_persistent_5xx_fails_clearly_and_keeps_the_chunks_already_saved(fake, history, store, clock, sleeps) -> None:
    fake.inject(503, after=2, times=None)
    use_case = DownloadHistory(history, store, clock, chunk_bars=100)

    with pytest.raises(DownloadFailed, match=r"BTC 1h.*after 6 attempts.*HTTP 503.*200 bars.*run the download again"):
        use_case.execute(["BTC"], ["1h"], days=DAYS)

    assert sleeps == [1.0, 2.0, 4.0, 8.0, 16.0]
    saved = source(fake, "BTC", "1h", start=END - pd.Timedelta(hours=200))
    pd.testing.assert_frame_equal(store.load("BTC", "1h"), saved)

    fake.clear_faults()
    fake.reset_log()
    [result] = use_case.execute(["BTC"], ["1h"], days=DAYS)
    assert result.rows_added == 88
    assert [p["startTime"] for p in fake.kline_requests] == [ms(START)]
    pd.testing.assert_frame_equal(store.load("BTC", "1h"), source(fake, "BTC", "1h"))


def test_a_long_ban_fails_at_once_and_a_plain_4xx_is_not_retried(fake, history, sleeps) -> None:
    fake.inject(418, retry_after=3600)
    with pytest.raises(MarketDataError, match=r"wait 3600 s.*banned"):
        history.fetch("BTC", "1h", START.to_pydatetime(), END.to_pydatetime())
    fake.inject(403)
    with pytest.raises(MarketDataError, match="refused"):
        history.fetch("BTC", "1h", START.to_pydatetime(), END.to_pydatetime())
    assert sleeps == []


def test_unknown_symbol_names_valid_ones_and_saves_nothing(fake, history, store, clock) -> None:
    with pytest.raises(UnknownSymbol, match=r"'BTCC'; did you mean BTC\?.*ETH.*SOL"):
        DownloadHistory(history, store, clock).execute(["BTCC"], ["1h"], days=1)
    assert store.entries() == []
    assert fake.kline_requests == []


def test_unknown_timeframe_names_valid_ones_before_any_request(fake, history, store, clock) -> None:
    with pytest.raises(UnknownTimeframe, match="'2h'; valid: 1m, 5m, 15m, 30m, 1h, 4h, 1d"):
        DownloadHistory(history, store, clock).execute(["BTC"], ["1h", "2h"], days=1)
    with pytest.raises(UnknownTimeframe):
        history.fetch("BTC", "3m", START.to_pydatetime(), END.to_pydatetime())
    assert fake.requests == []


def test_symbol_spellings_agree_and_the_forming_bar_is_left_out(fake, history) -> None:
    frames = [history.fetch(name, "1h", START.to_pydatetime(), datetime(2024, 3, 2, tzinfo=UTC))
              for name in ("BTC", "btcusdt", "BTC/USDT", "BTC/USDT:USDT")]
    for frame in frames[1:]:
        pd.testing.assert_frame_equal(frame, frames[0])
    assert frames[0].index[-1] == pd.Timestamp("2024-03-01 11:00", tz="UTC")  # 12:00 closes at 13:00
    assert frames[0].index.name == "timestamp"
    assert list(frames[0].dtypes.unique()) == ["float64"]


def test_hyperliquid_k_coins_resolve_to_binance_1000_contracts(fake, history) -> None:
    fake.add_frame("1000PEPEUSDT", "1h", fake.series("DOGEUSDT", "1h"))
    assert history.resolve("kPEPE") == "1000PEPE/USDT:USDT"
    frame = history.fetch("kPEPE", "1h", START.to_pydatetime(), END.to_pydatetime())
    pd.testing.assert_frame_equal(frame, source(fake, "DOGE", "1h"))


def test_ccxt_rate_limiter_spaces_kline_pages_by_their_weight(fake, clock) -> None:
    with BinanceHistory(fake.url, clock=clock, sleep=time.sleep) as client:  # ccxt defaults: 50 ms a unit
        client.fetch("BTC", "15m", START.to_pydatetime(), END.to_pydatetime())
    pages = [r.at for r in fake.requests if r.path == "/fapi/v1/klines"]
    assert len(pages) == 2
    assert pages[1] - pages[0] >= 0.2  # weight 5 at limit 1000: ccxt waits 250 ms; unthrottled it is ~1 ms
