"""The live candle provider against the local fake Hyperliquid, through the real SDK (REST) and a
real WebSocket: one connection for 60 series, in-place updates, reconnect + backfill, readers."""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hyperliquid.info import Info

from adapters.hyperliquid.live_candles import HyperliquidLiveCandles
from adapters.hyperliquid.rest import HyperliquidRest
from adapters.hyperliquid.ws_connection import Backoff
from application.ports.market_data import UnknownSymbol
from domain.candles import UnknownTimeframe, timeframe_delta
from tests.fakes.hyperliquid import FakeHyperliquid, recorded

COINS = ["BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "LTC", "LINK", "ARB", "kPEPE"]
TIMEFRAMES = ["5m", "15m", "30m", "1h", "4h", "1d"]
FAST = Backoff(initial_s=0.05, max_s=0.4, factor=2.0, jitter=0.1)
HISTORY = 200


def wait_until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def fake() -> Iterator[FakeHyperliquid]:
    with FakeHyperliquid() as server:
        server.seed_history(5 * 24 * 60, coins=COINS)
        yield server


@pytest.fixture
def provider(fake: FakeHyperliquid) -> Iterator[HyperliquidLiveCandles]:
    live = HyperliquidLiveCandles(fake.url, COINS, TIMEFRAMES, history_candles=HISTORY, max_candles=400,
                                  backoff=FAST, clock=fake.clock, start_timeout_s=15)
    live.start()
    yield live
    live.stop()


def matches_store(live: HyperliquidLiveCandles, fake: FakeHyperliquid, coin: str, tf: str) -> bool:
    held = live.get_data(coin, tf, 10_000)
    stored = fake.candles(coin, tf)
    return len(held) > 0 and held.equals(stored.iloc[-len(held):])


def all_match(live: HyperliquidLiveCandles, fake: FakeHyperliquid) -> bool:
    return all(matches_store(live, fake, coin, tf) for coin in COINS for tf in TIMEFRAMES)


def test_every_series_streams_over_one_connection(fake: FakeHyperliquid, provider: HyperliquidLiveCandles) -> None:
    assert fake.connections_opened == 1
    assert fake.subscriptions() == [{(c, tf) for c in COINS for tf in TIMEFRAMES}]
    for coin in COINS:
        for tf in TIMEFRAMES:
            frame = provider.get_data(coin, tf, 10_000)
            period = timeframe_delta(tf)
            oldest = pd.Timestamp(fake.clock.now()).floor(period) - (HISTORY - 1) * period
            stored = fake.candles(coin, tf)
            assert len(frame) == (stored.index >= oldest).sum(), (coin, tf)
    assert all_match(provider, fake)
    fake.advance(45)
    wait_until(lambda: all_match(provider, fake), what="45 minutes of pushes")
    assert fake.connections_opened == 1
    assert provider.get_data("1000PEPE/USDT:USDT", "5m", 3).equals(provider.get_data("kPEPE", "5m", 3))


def test_forming_bar_updates_in_place_then_a_new_bar_is_appended(
        fake: FakeHyperliquid, provider: HyperliquidLiveCandles) -> None:
    fake.advance(2)  # 00:02: the 00:00 bar is forming
    wait_until(lambda: matches_store(provider, fake, "ETH", "5m"))
    before = provider.get_data("ETH", "5m", 50)
    top = before["high"].iloc[-1] * 1.01
    fake.push_tick("ETH", top, volume=3.0)
    wait_until(lambda: provider.get_data("ETH", "5m", 50)["high"].iloc[-1] == pytest.approx(top, rel=1e-5))
    after = provider.get_data("ETH", "5m", 50)
    assert after.index.equals(before.index)
    assert after["close"].iloc[-1] == after["high"].iloc[-1]
    assert after["volume"].iloc[-1] == pytest.approx(before["volume"].iloc[-1] + 3.0)

    fake.advance(5)
    wait_until(lambda: provider.get_data("ETH", "5m", 60).index[-1] == before.index[-1] + timedelta(minutes=5))
    wait_until(lambda: matches_store(provider, fake, "ETH", "5m"))
    assert provider.last_update("ETH", "5m") == fake.clock.now()


@pytest.mark.parametrize("abrupt", [False, True], ids=["close-frame", "reset"])
def test_reconnect_resubscribes_and_backfills_every_missed_bar(
        fake: FakeHyperliquid, provider: HyperliquidLiveCandles, abrupt: bool) -> None:
    fake.reject_ws(times=3)  # the outage lasts three failed attempts, with backoff between them
    assert fake.drop_connections(abrupt=abrupt) == 1
    fake.advance(70)  # pushes of 14 five-minute bars go nowhere
    wait_until(lambda: provider.connections_opened == 2 and provider.connected, what="reconnect")
    fake.advance(5)  # pushes on the new connection race the backfill of the outage
    wait_until(lambda: all_match(provider, fake), what="backfill of the outage")
    assert fake.ws_rejected == 3
    assert fake.connections_opened == 2
    assert fake.subscriptions() == [{(c, tf) for c in COINS for tf in TIMEFRAMES}]
    for coin in COINS:
        for tf in TIMEFRAMES:
            steps = np.diff(provider.get_data(coin, tf, 10_000).index.asi8)
            assert (steps == timeframe_delta(tf).value).all(), (coin, tf)
    fake.advance(10)
    wait_until(lambda: all_match(provider, fake), what="streaming after the reconnect")


def test_a_silent_connection_is_pinged_then_replaced(fake: FakeHyperliquid) -> None:
    with HyperliquidLiveCandles(fake.url, ["BTC", "ETH"], ["5m"], backoff=FAST, clock=fake.clock,
                                ping_interval_s=0.1, idle_timeout_s=0.6, history_candles=20) as live:
        wait_until(lambda: fake.pings_received >= 2, what="application pings")
        fake.silence_connections()  # open but mute, pongs included: a half-open link
        wait_until(lambda: live.connections_opened == 2 and fake.open_connections == 1, what="replacement")
        fake.advance(12)
        wait_until(lambda: all(matches_store(live, fake, c, "5m") for c in ("BTC", "ETH")), what="catch-up")


def test_history_still_loads_when_subscriptions_are_never_acknowledged(fake: FakeHyperliquid) -> None:
    fake.ack_subscriptions = False
    fake.advance(1)
    with HyperliquidLiveCandles(fake.url, ["SOL"], ["1h"], backoff=FAST, clock=fake.clock,
                                history_candles=24, ack_timeout_s=0.3) as live:
        assert matches_store(live, fake, "SOL", "1h") and len(live.get_data("SOL", "1h", 100)) == 24


def test_pushes_lost_without_a_disconnect_are_refetched_when_a_bar_is_skipped(
        fake: FakeHyperliquid, provider: HyperliquidLiveCandles) -> None:
    fake.pause_pushes()
    fake.advance(20)
    staleness = provider.staleness()
    assert len(staleness) == len(COINS) * len(TIMEFRAMES)
    assert all(age is not None and age >= timedelta(minutes=20) for age in staleness.values())
    fake.resume_pushes()
    fake.advance(1)  # the next 5m push opens a bar well past the last one held: a gap
    wait_until(lambda: all(matches_store(provider, fake, c, "5m") for c in COINS), what="gap refetch")
    assert fake.connections_opened == 1


def test_concurrent_readers_always_see_whole_frames(fake: FakeHyperliquid, provider: HyperliquidLiveCandles) -> None:
    stop = threading.Event()
    problems: list[str] = []
    reads = [0] * 10

    def reader(n: int) -> None:
        rng = random.Random(n)
        while not stop.is_set():
            coin, tf, lookback = rng.choice(COINS), rng.choice(TIMEFRAMES), rng.randint(1, 300)
            try:
                frame = provider.get_data(coin, tf, lookback)
            except Exception as exc:
                problems.append(f"{coin} {tf}: {exc!r}")
                return
            reads[n] += 1
            index = frame.index
            if not (index.is_monotonic_increasing and index.is_unique and str(index.dtype) == "datetime64[ns, UTC]"):
                problems.append(f"{coin} {tf}: bad index")
            if len(frame) > lookback or len(frame) == 0 or list(frame.dtypes.unique()) != [np.dtype("float64")]:
                problems.append(f"{coin} {tf}: {len(frame)} rows for lookback {lookback}, dtypes {frame.dtypes}")
            opens, highs, lows, closes = (frame[col].to_numpy() for col in ("open", "high", "low", "close"))
            if not ((highs >= np.maximum(opens, closes)) & (lows <= np.minimum(opens, closes))).all():
                problems.append(f"{coin} {tf}: OHLC inconsistent")
            frame.iloc[-1, 0] = -1.0  # the copy is the caller's: writing to it must not reach the cache

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(10)]
    # A short GIL switch interval interleaves the threads more finely (more chances to catch a torn
    # read) and keeps the fake's many small socket writes from waiting 5 ms each behind the readers.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    for thread in threads:
        thread.start()
    try:
        for minute in range(60):
            fake.advance(1)
            if minute == 30:
                fake.drop_connections()
    finally:
        time.sleep(0.2)
        stop.set()
        for thread in threads:
            thread.join(5)
        sys.setswitchinterval(switch_interval)
    assert problems == []
    assert min(reads) > 10
    wait_until(lambda: all_match(provider, fake), what="final state")


def test_unknown_symbols_and_timeframes_are_refused_with_the_valid_ones(
        fake: FakeHyperliquid, provider: HyperliquidLiveCandles) -> None:
    with pytest.raises(UnknownSymbol, match=r"NOPE.*listed: .*BTC"):
        HyperliquidLiveCandles(fake.url, ["BTC", "NOPE"], ["5m"], clock=fake.clock).start()
    with pytest.raises(UnknownSymbol, match="streamed: BTC 5m"):
        provider.get_data("APT", "5m", 10)
    with pytest.raises(UnknownSymbol, match="not streamed"):
        provider.get_data("BTC", "1m", 10)
    with pytest.raises(UnknownTimeframe, match="valid: 1m, 5m"):
        provider.get_data("BTC", "2m", 10)
    with pytest.raises(UnknownTimeframe):
        HyperliquidLiveCandles(fake.url, ["BTC"], ["7m"])
    with pytest.raises(UnknownSymbol):
        provider.get_data("BTC/USDT", "5m", 10)  # a spot symbol has no perp counterpart


def test_rate_limits_and_server_errors_at_start_are_retried(fake: FakeHyperliquid) -> None:
    fake.advance(1)  # 00:01: the 00:00 bar is forming
    fake.fail_info(500, times=1, kind="meta")
    fake.fail_info(429, times=2, kind="candleSnapshot")
    with HyperliquidLiveCandles(fake.url, ["BTC"], ["1h"], backoff=FAST, clock=fake.clock,
                                history_candles=24) as live:
        assert len(live.get_data("BTC", "1h", 100)) == 24
    assert fake.info_requests["meta"] == 3  # the SDK client's own, then ours: retried once
    assert fake.info_requests["candleSnapshot"] == 3
    assert not [t for t in threading.enumerate() if t.name.startswith("hl-candles")]


def test_backfill_pages_past_the_per_request_limit() -> None:
    with FakeHyperliquid(snapshot_limit=50) as fake:
        fake.seed_history(24 * 60, coins=["BTC"])
        rest = HyperliquidRest(fake.url, page_limit=50)
        end = int(fake.clock.now().timestamp() * 1000)
        times, values = rest.candles("BTC", "5m", end - 288 * 300_000, end)
        assert len(times) == 288 and (np.diff(times) == 300_000).all()
        stored = fake.candles("BTC", "5m")
        assert (pd.to_datetime(times, unit="ms", utc=True) == stored.index).all()
        assert (values == stored.to_numpy()).all()
        assert fake.info_requests["candleSnapshot"] == 6
        assert fake.candles_served == 288 + 5  # each later page repeats the bar spanning its cursor


def test_the_fake_answers_the_sdk_as_recorded(fake: FakeHyperliquid) -> None:
    info = Info(fake.url, skip_ws=True)
    assert [a["name"] for a in info.meta()["universe"]] == [a["name"] for a in recorded("info_meta")["universe"]]
    user = "0x5e9ee1089755c3435139848e47e6635505d5a13a"
    assert info.user_state(user) == recorded("info_clearinghouseState")
    mids = info.all_mids()
    assert set(mids) == set(recorded("info_allMids")) and float(mids["BTC"]) > 0
    fake.advance(3)
    bars = info.candles_snapshot("kPEPE", "1m", 0, int(fake.clock.now().timestamp() * 1000))
    assert len(bars) == 5000  # the per-request cap
    bars = info.candles_snapshot("kPEPE", "5m", 0, int(fake.clock.now().timestamp() * 1000))
    assert len(bars) == 5 * 24 * 12 + 1 and set(bars[-1]) == set(recorded(
        "info_candleSnapshot_kPEPE_1h_with_end_time")[0])
