"""Live-candle read latency: get_data under 10 concurrent readers while candles stream in.

Run: `.venv/bin/python bench/market_data.py [--seconds 3] [--readers 10] [--lookback 200] [--pushes 1200]`.
Offline. A local fake Hyperliquid (tests/fakes) runs in a child process, as the venue would, and
streams 10 coins x 6 timeframes at about --pushes candle messages a second over one real WebSocket
into HyperliquidLiveCandles. Baselines measured in the same run: the same provider with a single
reader, and the obvious pandas cache (a DataFrame per series behind one global lock, updated with
pandas indexing, read with `iloc[-n:].copy()`) fed by the same stream, under the same readers.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd
from rich.console import Console
from rich.table import Table

from adapters.hyperliquid.candles import parse_candle
from adapters.hyperliquid.live_candles import HyperliquidLiveCandles
from adapters.hyperliquid.ws_connection import Backoff, ReconnectingWebSocket
from tests.fakes.hyperliquid import FakeHyperliquid

COINS = ["BTC", "ETH", "SOL", "XRP", "DOGE", "BNB", "LTC", "LINK", "ARB", "kPEPE"]
TIMEFRAMES = ["5m", "15m", "30m", "1h", "4h", "1d"]
SERIES = [(c, tf) for c in COINS for tf in TIMEFRAMES]
Reader = Callable[[str, str, int], pd.DataFrame]


def venue(conn: Connection, clock_ms: Synchronized, pushes: Synchronized, stop: Event, rate: float) -> None:
    """The child process: the fake venue, stepping its market about `rate` pushes a second."""
    with FakeHyperliquid() as fake:
        fake.seed_history(7 * 24 * 60, coins=COINS)
        clock_ms.value = int(fake.clock.now().timestamp() * 1000)
        conn.send(fake.url)
        step_s = len(SERIES) / rate
        next_step = time.monotonic()
        while not stop.is_set():
            if fake.open_connections:
                fake.advance(1, coins=COINS)
                clock_ms.value = int(fake.clock.now().timestamp() * 1000)
                pushes.value = fake.pushes_sent
            next_step += step_s
            time.sleep(max(0.0, next_step - time.monotonic()))
        conn.send(fake.connections_opened)


class VenueClock:
    """The fake venue's clock, read from shared memory, so backfill windows match its data."""

    def __init__(self, clock_ms: Synchronized) -> None:
        self._ms = clock_ms

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._ms.value / 1000, UTC)


class NaivePandasCandles:
    """The baseline: a DataFrame per series, one global lock, pandas indexing for every update."""

    def __init__(self, frames: dict[tuple[str, str], pd.DataFrame], max_candles: int) -> None:
        self._frames, self._max, self._lock = frames, max_candles, threading.Lock()

    def on_message(self, message: str) -> None:
        if not message.startswith("{"):
            return
        payload = json.loads(message)
        if payload.get("channel") != "candle":
            return
        candle = parse_candle(payload["data"])
        key, stamp = (candle.coin, candle.interval), pd.Timestamp(candle.open_ms, unit="ms", tz="UTC")
        with self._lock:
            frame = self._frames[key]
            if len(frame) and frame.index[-1] == stamp:
                frame.iloc[-1] = candle.values
            else:
                extra = pd.DataFrame([candle.values], index=pd.DatetimeIndex([stamp], name="timestamp"),
                                     columns=frame.columns)
                self._frames[key] = pd.concat([frame, extra]).iloc[-self._max:]

    def get_data(self, coin: str, timeframe: str, lookback: int) -> pd.DataFrame:
        with self._lock:
            return self._frames[(coin, timeframe)].iloc[-lookback:].copy()


def measure(read: Reader, readers: int, seconds: float, lookback: int) -> list[float]:
    """Per-call latencies in µs from `readers` threads reading random series for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(readers)]
    go, stop = threading.Barrier(readers + 1), threading.Event()

    def loop(n: int) -> None:
        rng, out = random.Random(n), latencies[n]
        go.wait()
        while not stop.is_set():
            coin, tf = rng.choice(SERIES)
            start = time.perf_counter_ns()
            frame = read(coin, tf, lookback)
            out.append((time.perf_counter_ns() - start) / 1000)
            if len(frame) > lookback:
                raise AssertionError("lookback exceeded")

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(readers)]
    for thread in threads:
        thread.start()
    go.wait()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return [x for chunk in latencies for x in chunk]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--readers", type=int, default=10)
    parser.add_argument("--lookback", type=int, default=200)
    parser.add_argument("--pushes", type=float, default=1200.0, help="candle pushes a second from the venue")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    clock_ms, pushes, stop = ctx.Value("q", 0), ctx.Value("q", 0), ctx.Event()
    process = ctx.Process(target=venue, args=(child, clock_ms, pushes, stop, args.pushes), daemon=True)
    process.start()
    url = parent.recv()
    rows: list[tuple[str, list[float], float, float]] = []

    def phase(label: str, read: Reader, readers: int, received: Callable[[], int]) -> None:
        sent, got, started = pushes.value, received(), time.perf_counter()
        latencies = measure(read, readers, args.seconds, args.lookback)
        elapsed = time.perf_counter() - started
        rows.append((label, latencies, (pushes.value - sent) / elapsed, (received() - got) / elapsed))

    live = HyperliquidLiveCandles(url, COINS, TIMEFRAMES, max_candles=1000, history_candles=500,
                                  backoff=Backoff(0.05, 0.5), clock=VenueClock(clock_ms))
    with live:
        time.sleep(0.5)
        phase("provider, 1 reader (baseline)", live.get_data, 1, lambda: live.pushes_received)
        phase(f"provider, {args.readers} readers", live.get_data, args.readers, lambda: live.pushes_received)
        frames = {key: live.get_data(*key, 1000) for key in SERIES}
        provider_connections = live.connections_opened
    naive = NaivePandasCandles(frames, 1000)
    counted = {"n": 0}

    def count_and_apply(message: str) -> None:
        counted["n"] += 1
        naive.on_message(message)

    def subscribe() -> None:
        for coin, tf in SERIES:
            feed.send({"method": "subscribe", "subscription": {"type": "candle", "coin": coin, "interval": tf}})

    feed = ReconnectingWebSocket(live.ws_url, on_open=subscribe, on_message=count_and_apply, name="naive-feed")
    feed.start()
    feed.wait_connected(10)
    time.sleep(0.5)
    phase(f"naive pandas cache, {args.readers} readers", naive.get_data, args.readers, lambda: counted["n"])
    feed.stop()
    stop.set()
    parent.recv()
    process.join(10)
    report(rows, args, provider_connections)


def report(rows: list[tuple[str, list[float], float, float]], args: argparse.Namespace, connections: int) -> None:
    def p99(values: list[float]) -> float:
        return statistics.quantiles(values, n=100)[98]

    base, ours = rows[0][1], rows[1][1]
    table = Table(title=f"get_data latency (lookback {args.lookback}) while 10 coins x 6 timeframes stream over "
                        f"{connections} provider WebSocket connection; {args.seconds:.0f} s per row")
    for column in ("readers and cache", "median µs", "p99 µs", "reads/s", "pushes sent/s", "pushes applied/s",
                   "median vs 1 reader", "p99 vs 1 reader", "median vs provider", "p99 vs provider"):
        table.add_column(column, justify="left" if column == "readers and cache" else "right")
    for label, latencies, sent, applied in rows:
        median, tail = statistics.median(latencies), p99(latencies)
        table.add_row(label, f"{median:.0f}", f"{tail:.0f}", f"{len(latencies) / args.seconds:,.0f}",
                      f"{sent:,.0f}", f"{applied:,.0f}",
                      f"{median / statistics.median(base):.2f}", f"{tail / p99(base):.2f}",
                      f"{median / statistics.median(ours):.2f}", f"{tail / p99(ours):.2f}")
    Console(width=200).print(table)
    Console(width=200).print("Threads share one GIL: with N readers a call's wall time includes waiting for the "
                             "other readers and the WebSocket thread; reads/s is the throughput.")


if __name__ == "__main__":
    main()
