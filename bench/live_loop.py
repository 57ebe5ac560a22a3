"""Live loop latency: candle close to order acknowledged, 10 strategies, every number measured in this run.

For each bar the feed is given the bar that just closed and the new bar's opening price (as
application/replay.py drives it), then t0 = time.perf_counter() and LiveTrader.on_bar_close(the
10 strategies, bar time) runs:
per strategy, closed bars from the feed, signals in the sandbox, the risk policy, and orders
through the Exchange port (application/open_position.py). The venue's SubaccountExchange.market_order
and market_orders are wrapped: an order's latency is from t0 to the moment the call returns its
OrderAck. Measured are the entry orders (the position each strategy's signal asks for; on a reversal
the closing order goes in the same request, ahead of it), one per strategy, symbol and bar. Each
venue runs once per `--parallel` value:
1 decides the subaccounts one after the other (the k-th strategy waits for the k-1 before it), N
decides N subaccounts on threads at once (LiveTrader.parallel, deployment.parallel_decisions).

Strategies: 10 copies (different parameters) of a benchmark strategy that alternates long and
short every bar, with ATR stop and target, so every bar of every strategy sends orders: a
reversal is cancel the old stop and target, close, enter, place the new stop and target. Each
runs on its own subaccount 1..10, on real 1h candles from ../shared/data/ohlcv, with the last
`--lookback` closed bars (LiveTrader's default, 1000). Sandbox: in process (trusted benchmark
code), or `--sandbox process` for the confined worker.

Venues: (a) the paper adapter on the in-memory event store (the baseline for the ratios),
(b) the paper adapter on PostgreSQL (SIXBTC_TEST_DATABASE_URL, else 127.0.0.1:5432, in a scratch
database dropped afterwards; skipped when neither answers), (c) the real Hyperliquid adapter
(HyperliquidExchange, the SDK) over HTTP to the fake Hyperliquid on 127.0.0.1 (tests/fakes), served
from a process of its own (tests/fakes/hyperliquid_process.py; `--hl-in-process` for a thread of
this one), once per `--hl-rtt-ms` value (default 0 and 20: every request answered that much later,
a venue farther away), at the request budget `--hl-rps` (default 1000/s as the contract harness;
the adapter's own default is 8/s); its mid follows the real candles, and its clock and the trader's
move on an hour per bar (the fake stamps fills on wall time: unpaced, every fill of the run would
fall within the few minutes of clock skew the fills reads allow, and each read would carry them
all). The subaccount books (the ledger) live on the venue's event store, on the in-memory one for
Hyperliquid. No network.
Counted too: event store calls and HTTP requests per bar; CPU per bar of this process, of the fake
venue's process and of the sandbox workers (psutil, 10 ms resolution); `--profile` prints cProfile's top
(BENCH_SORT=tottime, BENCH_TOP=60 change the order and length; BENCH_DUMP=FILE saves the raw stats).

Run: `.venv/bin/python bench/live_loop.py [--bars 60] [--warmup 5] [--symbols BTC] [--sandbox inprocess]`.

Figures (2-core machine shared with other work; medians of 3 interleaved runs of `--bars 15`,
entry median / p99 ms, before -> after the shared bar frames, the paper venue's one read of the
bars per call and reads-free writes, the sandbox's worker pool and orders sent as soon as a
subaccount's own signals are in): `--sandbox process`, 10 at once: paper in memory 226/373 ->
115/187 (first strategy 187 -> 46), paper on PostgreSQL 483/696 -> 358/605, fake Hyperliquid 20 ms
away 719/896 -> 574/831; in turn, paper in memory 152/312 -> 135/295. In-process sandbox, in turn,
paper in memory: 184 -> 136 ms of CPU per bar. Second round (last row only from the sandbox, kept
deciding threads, one mid per reversal, triggers of a fresh entry sent without a status check), 2
interleaved rounds, `--sandbox process`, entry p99: 10 at once, paper in memory 85/89 -> 52/62
(host CPU per bar 52/67 -> 34/35 ms), fake Hyperliquid 0 ms 364/368 -> 260/242; HTTP requests per
bar 134 -> 105. Third round (requests' environment read once, L1 signing from the digest, cancel by
cloid, stop and target in one action, close and entry in one action and one fills read, the
fired-stop read left to the close when slots are not contended), 2 interleaved rounds, entry
p99, 10 at once: fake Hyperliquid 0 ms 518/602 -> 211/319, 20 ms 438/983 -> 239/362, paper in
memory 118/171 -> 120/115; HTTP requests per bar 105 -> 61. Fourth round (one pool of keep-alive
connections under the SDK, allMids shared by subaccounts asking at once, stop and target sent before the fills read,
PostgreSQL append in one round trip), 2 interleaved rounds, entry p99, 10 at once: fake Hyperliquid
0 ms 117/118 -> 89/83 (host CPU per bar ~85 -> ~56 ms), 20 ms 142/148 -> 128/128, paper on
PostgreSQL 120/139 -> 99/103, paper in memory 40/42 -> 37/43. Tables and reasons in docs/live.md,
"Latency".
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from adapters.memory.clock import ManualClock  # noqa: E402
from adapters.memory.event_store import InMemoryEventStore  # noqa: E402
from adapters.memory.live_candles import MemoryLiveCandles  # noqa: E402
from adapters.parquet.loader import load_candles  # noqa: E402
from application.live_trader import Decision, LiveStrategy, LiveTrader  # noqa: E402
from application.ports.exchange import Exchange, MarketOrderRequest, OrderAck, SubaccountExchange  # noqa: E402
from application.ports.strategy_sandbox import StrategySandbox  # noqa: E402
from application.subaccount_ledger import SubaccountLedger  # noqa: E402
from domain.instruments import Instrument  # noqa: E402
from domain.risk import RiskPolicy  # noqa: E402
from entrypoints.quiet_heap import QuietHeap  # noqa: E402

OHLCV = ROOT.parent / "shared" / "data" / "ohlcv"
TIMEFRAME = "1h"
PERIOD = timedelta(hours=1)
STRATEGIES = 10
TARGET_MS = 50.0
MEMORY = "paper adapter, in-memory store"
CAPITAL = 10_000.0
FEE, SLIPPAGE, MAX_SLIPPAGE = 0.00045, 0.0005, 0.01
INSTRUMENTS = {"BTC": Instrument("BTC", 5), "ETH": Instrument("ETH", 4)}

ALTERNATING = '''"""Benchmark only: a position every bar, long on even hours, short on odd ones; ATR stop and target."""

import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class AlternatingBench(StrategyCore):
    type = "MOM"
    timeframe = "1h"
    default_params = {"fast": 12, "slow": 48, "atr_period": 14, "stop_atr": 2.0, "target_atr": 4.0}
    param_grid = {"fast": [8, 12, 20], "slow": [34, 48, 96]}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        close = df["close"]
        trend_up = close.ewm(span=p["fast"], adjust=False).mean() > close.ewm(span=p["slow"], adjust=False).mean()
        even = pd.Series(df.index.hour % 2 == 0, index=df.index)
        prev_close = close.shift(1)
        true_range = pd.concat(
            [df["high"] - df["low"], (df["high"] - prev_close).abs(), (df["low"] - prev_close).abs()], axis=1
        ).max(axis=1)
        atr = true_range.rolling(p["atr_period"]).mean()
        warm = pd.Series(np.arange(len(df)) >= p["slow"], index=df.index) & atr.notna()
        with_trend = even == trend_up
        return pd.DataFrame({
            "long_entry": even & warm,
            "short_entry": ~even & warm,
            "exit": False,
            "size": with_trend.map({True: 0.5, False: 0.25}).astype(float),
            "sl_pct": p["stop_atr"] * atr / close,
            "tp_pct": p["target_atr"] * atr / close,
        }, index=df.index)
'''


def strategies() -> list[LiveStrategy]:
    grid = [(f, s) for f in (8, 12, 20) for s in (34, 48, 96)] + [(16, 64)]
    return [LiveStrategy(f"bench-{n}", ALTERNATING, TIMEFRAME, n,
                         {"fast": fast, "slow": slow, "stop_atr": 1.5 + 0.25 * (n % 4), "target_atr": 4.0})
            for n, (fast, slow) in enumerate(grid[:STRATEGIES], start=1)]


# --- what is timed ------------------------------------------------------------------------------

@dataclass
class Acks:
    """perf_counter() at each market_order's return: (subaccount, symbol, reduce_only, seconds)."""

    records: list[tuple[int, str, bool, float]] = field(default_factory=list)


class TimedSubaccount:
    def __init__(self, inner: SubaccountExchange, acks: Acks) -> None:
        self._inner = inner
        self._acks = acks

    def market_order(self, request: MarketOrderRequest) -> OrderAck:
        ack = self._inner.market_order(request)
        self._acks.records.append((self._inner.subaccount, request.symbol, request.reduce_only, time.perf_counter()))
        return ack

    def market_orders(self, requests: Sequence[MarketOrderRequest]) -> list[Any]:
        """A reversal's close and entry in one request: both acknowledged when it returns."""
        outcomes = self._inner.market_orders(requests)
        now = time.perf_counter()
        self._acks.records.extend((self._inner.subaccount, r.symbol, r.reduce_only, now)
                                  for r, o in zip(requests, outcomes, strict=True) if isinstance(o, OrderAck))
        return outcomes

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class TimedExchange:
    """The venue, unchanged, except that market orders are timestamped when acknowledged."""

    def __init__(self, inner: Exchange, acks: Acks) -> None:
        self._inner = inner
        self._subaccounts = {n: TimedSubaccount(inner.subaccount(n), acks) for n in inner.subaccounts()}

    @property
    def mode(self) -> Any:
        return self._inner.mode

    def subaccounts(self) -> tuple[int, ...]:
        return self._inner.subaccounts()

    def subaccount(self, number: int) -> Any:
        return self._subaccounts[number] if number in self._subaccounts else self._inner.subaccount(number)

    def close(self) -> None:
        self._inner.close()


class TimedSandbox:
    """Seconds per signals() call (one strategy, every symbol)."""

    def __init__(self, inner: StrategySandbox) -> None:
        self.inner = inner
        self.seconds: list[float] = []

    def signals(self, code: str, origin: str, params: Mapping[str, Any] | None,
                frames: Mapping[str, pd.DataFrame], last_rows: int | None = None) -> dict[str, pd.DataFrame]:
        started = time.perf_counter()
        out = self.inner.signals(code, origin, params, frames, last_rows)
        self.seconds.append(time.perf_counter() - started)
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class CountingStore:
    """The event store, unchanged, counting its calls by method (each is a round trip on PostgreSQL)
    and timing appends and stream reads (what a caller waits, lock and GIL queues included)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.seconds: dict[str, list[float]] = {"append": [], "read_stream": []}
        self.by_stream = bool(os.environ.get("BENCH_STREAMS"))

    def append(self, stream_id: str, events: Sequence[Any], expected_version: int | None) -> int:
        self.calls["append"] += 1
        if self.by_stream:
            self.calls["append " + stream_id.split("-")[0]] += 1
        started = time.perf_counter()
        try:
            return int(self.inner.append(stream_id, events, expected_version))
        finally:
            self.seconds["append"].append(time.perf_counter() - started)

    def read_stream(self, stream_id: str, from_version: int = 1) -> list[Any]:
        self.calls["read_stream"] += 1
        if self.by_stream:
            self.calls["read " + stream_id.split("-")[0] + (f" from {from_version}" if from_version > 1 else "")] += 1
        started = time.perf_counter()
        try:
            return list(self.inner.read_stream(stream_id, from_version))
        finally:
            self.seconds["read_stream"].append(time.perf_counter() - started)

    def stream_version(self, stream_id: str) -> int:
        self.calls["stream_version"] += 1
        return int(self.inner.stream_version(stream_id))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


# --- venues ---------------------------------------------------------------------------------------

@dataclass
class Rig:
    """One venue wired as live: `show(symbol, open_time, o, h, l, c)` moves the venue's market."""

    name: str
    exchange: Exchange
    store: Any
    clock: Any
    show: Callable[[str, datetime, float, float, float, float], None] = lambda *_: None
    requests: Callable[[], Counter[str]] | None = None
    """HTTP requests the fake Hyperliquid has served so far, by kind."""
    venue_cpu: Callable[[], float] | None = None
    """CPU seconds of the fake Hyperliquid's process so far (None: the venue runs in this process)."""
    pace: Callable[[timedelta], None] | None = None
    """Moves this rig's clocks (the trader's and the venue's) a bar on, for a clock that is not a
    ManualClock (the fake Hyperliquid stamps fills on wall time)."""


def paper_rig(name: str, store: Any, clock: ManualClock, feed: MemoryLiveCandles) -> Rig:
    """The paper venue and the subaccount books on one event store, as the container wires paper mode."""
    from adapters.paper.exchange import PaperExchange

    counted = CountingStore(store)
    venue = PaperExchange(counted, feed, clock, subaccounts=range(1, STRATEGIES + 1), capital=CAPITAL, fee_rate=FEE,
                          slippage=SLIPPAGE, price_timeframe=TIMEFRAME, instruments=INSTRUMENTS)
    return Rig(name, venue, counted, clock)


@contextmanager
def hyperliquid_rig(rps: float, first_prices: Mapping[str, float], separate: bool, rtt_ms: float) -> Iterator[Rig]:
    """The fake Hyperliquid with 10 funded subaccounts and the SDK adapter against it (as
    tests/contract/hyperliquid_harness.py builds them, which maps only 3); `separate`: the fake
    serves from a process of its own (tests/fakes/hyperliquid_process.py), as a remote venue would."""
    from eth_account import Account

    from adapters.clock.system import SystemClock
    from adapters.hyperliquid.exchange import HyperliquidExchange
    from tests.contract.hyperliquid_harness import FAST, MASTER_KEY

    with ExitStack() as stack:
        fake = stack.enter_context(_fake_hyperliquid(dict(first_prices), separate, rtt_ms))
        master = Account.from_key(MASTER_KEY).address.lower()
        fake.add_master(master)
        addresses = {n: "0x" + f"{0xa0 + n:02x}" * 20 for n in range(1, STRATEGIES + 1)}
        for address in addresses.values():
            fake.add_subaccount(master, address, CAPITAL)
        venue = HyperliquidExchange(fake.url(), MASTER_KEY, addresses, timeout_s=2.0, retries=3, backoff=FAST,
                                    requests_per_second=rps)

        def show(symbol: str, _: datetime, o: float, h: float, low: float, c: float) -> None:
            fake.set_mids(symbol, list(dict.fromkeys((o, h, low, c))))  # the fake fires the triggers crossed

        def requests() -> Counter[str]:
            return Counter(fake.requests())

        clock = PacedClock(SystemClock())

        def pace(by: timedelta) -> None:  # the venue's fill times move with the bars, as live
            clock.advance(by)
            fake.advance_clock(by.total_seconds())

        where = "its own process" if separate else "this process"
        yield Rig(f"Hyperliquid SDK adapter, fake in {where}, {rtt_ms:g} ms round trip", venue,
                  CountingStore(InMemoryEventStore()), clock, show, requests,
                  fake.cpu_seconds if separate else None, pace)  # run_venue closes the adapter


class PacedClock:
    """The wall clock plus an offset moved a bar at a time (see Rig.pace)."""

    def __init__(self, wall: Any) -> None:
        self._wall = wall
        self._offset = timedelta()

    def now(self) -> datetime:
        return self._wall.now() + self._offset

    def advance(self, by: timedelta) -> None:
        self._offset += by


@contextmanager
def _fake_hyperliquid(prices: dict[str, float], separate: bool, rtt_ms: float) -> Iterator[Any]:
    if separate:
        from tests.fakes import hyperliquid_process

        manager, handle = hyperliquid_process.start(prices, FEE, SLIPPAGE, rtt_ms)
        try:
            yield handle
        finally:
            handle.stop()
            manager.shutdown()
        return
    from tests.fakes.hyperliquid_process import FakeHandle

    handle = FakeHandle(prices, FEE, SLIPPAGE, rtt_ms)
    try:
        yield handle
    finally:
        handle.stop()


@contextmanager
def postgres_store() -> Iterator[Any]:
    """A PostgresEventStore in a scratch database (dropped afterwards), or None when no server answers."""
    from sqlalchemy.engine import make_url

    from adapters.postgres.engine import create_engine
    from adapters.postgres.event_store import PostgresEventStore
    from adapters.postgres.migrate import upgrade_to_head
    from tests.postgres_server import LOCAL, _local_answers, fresh_database

    configured = os.environ.get("SIXBTC_TEST_DATABASE_URL")
    if not configured and not _local_answers():
        yield None
        return
    with fresh_database(make_url(configured or LOCAL)) as url:
        engine = create_engine(url)  # the pool the app wires (database.pool_size 5, max_overflow 10)
        try:
            upgrade_to_head(engine)
            yield PostgresEventStore(engine)
        finally:
            engine.dispose()


# --- the loop -----------------------------------------------------------------------------------

@dataclass
class Result:
    name: str
    entry_ms: list[float] = field(default_factory=list)
    close_ms: list[float] = field(default_factory=list)
    bar_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    """CPU time of this process (every thread, not the sandbox workers) per on_bar_close."""
    venue_cpu_ms: list[float] = field(default_factory=list)
    """CPU time of the fake venue's own process per on_bar_close (empty: no such process)."""
    children_cpu_ms: list[float] = field(default_factory=list)
    """CPU time of every child process (the sandbox workers, and the fake venue's when it has one)."""
    by_slot: dict[int, list[float]] = field(default_factory=dict)
    signals_ms: list[float] = field(default_factory=list)
    actions: dict[str, int] = field(default_factory=dict)
    store_calls_per_bar: dict[str, float] = field(default_factory=dict)
    store_call_ms: dict[str, list[float]] = field(default_factory=dict)
    requests_per_bar: dict[str, float] = field(default_factory=dict)
    profile: str = ""


def load(symbols: Sequence[str], bars: int) -> dict[str, pd.DataFrame]:
    frames = {s: load_candles(OHLCV / f"BINANCEUSDM_{s}USDT_{TIMEFRAME}.parquet") for s in symbols}
    index = sorted(set.intersection(*(set(f.index) for f in frames.values())))[-bars:]
    return {s: f.loc[index] for s, f in frames.items()}


def run_loop(rig: Rig, sandbox: StrategySandbox, candles: dict[str, pd.DataFrame], lookback: int, warmup: int,
             feed: MemoryLiveCandles, profile: bool, parallel: int, heap: QuietHeap | None) -> Result:
    """Drives the bars after the first `lookback` (history) through the live loop as replay.py does;
    `heap` settles as LiveRunner does, before the first bar and after each (outside the timings)."""
    acks = Acks()
    timed = TimedExchange(rig.exchange, acks)
    timed_sandbox = TimedSandbox(sandbox)
    ledger = SubaccountLedger(rig.store)
    symbols = tuple(candles)
    first_run = next(iter(candles.values())).index[lookback]
    if isinstance(rig.clock, ManualClock):
        rig.clock.advance(first_run.to_pydatetime() - timedelta(minutes=1) - rig.clock.now())
    for symbol, frame in candles.items():
        feed.put(symbol, TIMEFRAME, frame.iloc[:lookback])
        last = frame.iloc[lookback - 1]
        rig.show(symbol, frame.index[lookback - 1].to_pydatetime(), last["open"], last["high"], last["low"],
                 last["close"])
    live = strategies()
    for strategy in live:
        book = ledger.load(strategy.subaccount)
        book.fund(CAPITAL, rig.clock.now())
        book.assign(strategy.strategy_id, timed.mode, CAPITAL, rig.clock.now())
        ledger.save(book)
    risk = RiskPolicy(max_drawdown=0.99, max_daily_loss=0.99, max_position_size=0.2,
                      max_open_positions=STRATEGIES * len(symbols))
    trader = LiveTrader(timed_sandbox, feed, ledger, timed, rig.clock, risk, symbols, max_slippage=MAX_SLIPPAGE,
                        lookback=lookback, parallel=parallel)
    result = Result(f"{rig.name}, " + ("in turn" if parallel == 1 else f"{parallel} at once"))
    slot_of = {s.subaccount: k for k, s in enumerate(live, start=1)}
    previous = next(iter(candles.values())).index[lookback - 1]
    profiler = cProfile.Profile() if profile else None
    store_before: Counter[str] = Counter()
    timed_before: dict[str, int] = {}
    requests_before: Counter[str] = Counter()
    if heap is not None:
        heap.settle()
    for i, opened in enumerate(next(iter(candles.values())).index[lookback:]):
        measured = i >= warmup
        if measured and i == warmup:
            store_before = Counter(rig.store.calls)
            timed_before = {k: len(v) for k, v in rig.store.seconds.items()}
            requests_before = rig.requests() if rig.requests is not None else Counter()
        moment = opened.to_pydatetime()
        if isinstance(rig.clock, ManualClock):
            rig.clock.advance(moment + timedelta(seconds=1) - rig.clock.now())
        for symbol, frame in candles.items():  # the bar that closed is in; the new bar shows its open
            o = float(frame.at[opened, "open"])
            feed.append(symbol, TIMEFRAME, moment, o, o, o, o, 0.0)
            rig.show(symbol, moment, o, o, o, o)
        acks.records.clear()
        signals_before = len(timed_sandbox.seconds)
        if profiler is not None and measured:
            profiler.enable()
        venue0 = rig.venue_cpu() if rig.venue_cpu is not None and measured else 0.0
        children0 = children_cpu_seconds() if measured else 0.0
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        decisions: list[Decision] = trader.on_bar_close(live, previous.to_pydatetime())
        done = time.perf_counter()
        cpu = time.process_time() - cpu0
        if profiler is not None and measured:
            profiler.disable()
        if measured:
            result.bar_ms.append((done - t0) * 1e3)
            result.cpu_ms.append(cpu * 1e3)
            if rig.venue_cpu is not None:
                result.venue_cpu_ms.append((rig.venue_cpu() - venue0) * 1e3)
            result.children_cpu_ms.append((children_cpu_seconds() - children0) * 1e3)
            result.signals_ms += [s * 1e3 for s in timed_sandbox.seconds[signals_before:]]
            for subaccount, _, reduce_only, at in acks.records:
                ms = (at - t0) * 1e3
                if reduce_only:
                    result.close_ms.append(ms)
                else:
                    result.entry_ms.append(ms)
                    result.by_slot.setdefault(slot_of[subaccount], []).append(ms)
            for decision in decisions:
                result.actions[decision.action] = result.actions.get(decision.action, 0) + 1
        bad = [d for d in decisions if d.action in ("failed", "rejected")]
        if bad:
            raise SystemExit(f"{rig.name}: {bad[0].action} decision at {previous}: {bad[0].detail}")
        for symbol, frame in candles.items():  # the rest of the bar: the venue's stops see its high and low
            bar = frame.loc[opened]
            feed.append(symbol, TIMEFRAME, moment, bar["open"], bar["high"], bar["low"], bar["close"],
                        float(bar["volume"]))
            rig.show(symbol, moment, float(bar["open"]), float(bar["high"]), float(bar["low"]), float(bar["close"]))
        if isinstance(rig.clock, ManualClock):
            rig.clock.advance(moment + PERIOD - timedelta(seconds=1) - rig.clock.now())
        elif rig.pace is not None:
            rig.pace(PERIOD)
        if heap is not None:
            heap.settle()
        previous = opened
    bars = max(1, len(result.bar_ms))
    result.store_calls_per_bar = {k: n / bars for k, n in (rig.store.calls - store_before).most_common()}
    result.store_call_ms = {k: [t * 1e3 for t in v[timed_before.get(k, 0):]] for k, v in rig.store.seconds.items()}
    if rig.requests is not None:
        result.requests_per_bar = {k: n / bars for k, n in (rig.requests() - requests_before).most_common()}
    if profiler is not None:
        out = io.StringIO()
        order, top = os.environ.get("BENCH_SORT", "cumulative"), int(os.environ.get("BENCH_TOP", "25"))
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
        result.profile = out.getvalue()
        if os.environ.get("BENCH_DUMP"):
            profiler.dump_stats(os.environ["BENCH_DUMP"])
    return result


def children_cpu_seconds() -> float:
    """User and system CPU of this process's children so far (a worker that exited is not counted)."""
    import psutil

    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def run_venue(build: Callable[[MemoryLiveCandles, ManualClock], Rig], sandbox: StrategySandbox,
              candles: dict[str, pd.DataFrame], args: argparse.Namespace, profile: bool, parallel: int) -> Result:
    start = next(iter(candles.values())).index[0].to_pydatetime()
    clock = ManualClock(start)
    feed = MemoryLiveCandles(clock=clock)
    rig = build(feed, clock)
    try:
        return run_loop(rig, sandbox, candles, args.lookback, args.warmup, feed, profile, parallel,
                        QuietHeap() if args.gc == "quiet" else None)
    finally:
        rig.exchange.close()


def sandbox_cpu_ms(result: Result) -> float:
    """Median per bar of the children's CPU less the fake venue's (the sandbox workers' share)."""
    venue = result.venue_cpu_ms or [0.0] * len(result.children_cpu_ms)
    return statistics.median(c - v for c, v in zip(result.children_cpu_ms, venue, strict=True))


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bars", type=int, default=60, help="bars timed per venue (after the warm-up)")
    parser.add_argument("--warmup", type=int, default=5, help="bars run first and not timed")
    parser.add_argument("--lookback", type=int, default=1000, help="closed bars shown to each strategy")
    parser.add_argument("--symbols", default="BTC", help="comma-separated: BTC, or BTC,ETH")
    parser.add_argument("--sandbox", choices=("inprocess", "process"), default="inprocess")
    parser.add_argument("--hl-rps", type=float, default=1000.0,
                        help="the Hyperliquid adapter's request budget (its default is 8 req/s)")
    parser.add_argument("--skip", default="", help="comma-separated venues to leave out: memory, postgres, hl")
    parser.add_argument("--profile", action="store_true", help="print the top of cProfile per venue")
    parser.add_argument("--gc", choices=("quiet", "default"), default="quiet",
                        help="quiet: the heap settled between bars as LiveRunner does (entrypoints/quiet_heap.py); "
                             "default: Python's collector left alone")
    parser.add_argument("--parallel", default="1,10",
                        help="comma-separated LiveTrader.parallel values, each venue run once per value")
    parser.add_argument("--hl-rtt-ms", default="0,20",
                        help="comma-separated round trips (ms) the fake Hyperliquid adds to every request")
    parser.add_argument("--hl-in-process", action="store_true",
                        help="serve the fake Hyperliquid from a thread of this process instead of its own process")
    args = parser.parse_args()
    if not OHLCV.is_dir():
        raise SystemExit(f"real candles not found at {OHLCV}")
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()]
    unknown = set(symbols) - set(INSTRUMENTS)
    if unknown:
        raise SystemExit(f"symbols must be among {sorted(INSTRUMENTS)}, got {sorted(unknown)}")
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    parallels = [int(p) for p in args.parallel.split(",") if p.strip()]
    if not parallels or min(parallels) < 1:
        raise SystemExit(f"--parallel needs values of at least 1, got {args.parallel!r}")
    args.load_start = os.getloadavg()[0]

    candles = load(symbols, args.lookback + args.warmup + args.bars)
    first_prices = {s: float(f["close"].iloc[args.lookback - 1]) for s, f in candles.items()}
    results: list[Result] = []
    notes: list[str] = []
    with ExitStack() as stack:
        if args.sandbox == "process":
            from adapters.sandbox.process_sandbox import ProcessSandbox

            sandbox: Any = ProcessSandbox()
            stack.callback(sandbox.close)
        else:
            from adapters.inprocess.sandbox import InProcessSandbox

            sandbox = InProcessSandbox()
        gc.collect()
        for parallel in parallels:
            if "memory" not in skip:
                results.append(run_venue(lambda feed, clock: paper_rig(MEMORY, InMemoryEventStore(), clock, feed),
                                         sandbox, candles, args, args.profile, parallel))
            if "postgres" not in skip:
                with postgres_store() as found:
                    if found is None:
                        notes.append("paper adapter on PostgreSQL: skipped, nothing answers on 127.0.0.1:5432 and "
                                     "SIXBTC_TEST_DATABASE_URL is unset")
                    else:
                        results.append(run_venue(lambda feed, clock: paper_rig(
                            "paper adapter, PostgreSQL store", found, clock, feed), sandbox, candles, args,
                            args.profile, parallel))
            for rtt_ms in ([] if "hl" in skip else [float(r) for r in args.hl_rtt_ms.split(",") if r.strip()]):
                with hyperliquid_rig(args.hl_rps, first_prices, not args.hl_in_process, rtt_ms) as rig:
                    results.append(run_venue(lambda feed, clock: rig, sandbox, candles, args, args.profile,
                                             parallel))

    report(results, notes, candles, symbols, args)


def report(results: list[Result], notes: list[str], candles: dict[str, pd.DataFrame], symbols: list[str],
           args: argparse.Namespace) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(150, Console().width))
    span = next(iter(candles.values())).index
    sandbox = ("in process (trusted benchmark code)" if args.sandbox == "inprocess" else
               f"ProcessSandbox (confined), up to {os.cpu_count()} workers (one per CPU), started as calls overlap")
    console.print(
        f"{STRATEGIES} strategies (AlternatingBench, a benchmark strategy: long on even hours, short on odd ones, "
        f"ATR stop and target, parameters differ: every bar is a reversal on every subaccount), one per subaccount "
        f"1..{STRATEGIES}, on real {TIMEFRAME} perp candles of {', '.join(symbols)}; {args.bars} bars timed per venue "
        f"after {args.warmup} warm-up bars ({span[args.lookback + args.warmup]:%Y-%m-%d %H:%M} to "
        f"{span[-1]:%Y-%m-%d %H:%M} UTC), {args.lookback} closed bars shown per decision; sandbox: {sandbox}.",
        markup=False)
    console.print("Measured: t0 = perf_counter() once the closed bar and the new bar's open are in the feed and the "
                  f"venue, then LiveTrader.on_bar_close(the {STRATEGIES} strategies); an entry order's latency is t0 "
                  "-> SubaccountExchange.market_order returning its OrderAck. 'in turn': the subaccounts are decided "
                  "one after the other (LiveTrader.parallel = 1), so the k-th waits for the k-1 before it; 'N at "
                  "once': N subaccounts on threads, each its signals then its orders (every entry the bar could bring "
                  "fits the open-positions limit here), their signals, venue and database round trips overlapping.",
                  markup=False)
    if not results:
        raise SystemExit("every venue was skipped")
    baseline = results[0]
    against = "paper in-memory" if baseline.name.startswith(MEMORY) else baseline.name
    table = Table(title="bench/live_loop.py: candle close -> entry order acknowledged (every number measured in "
                        "this run)")
    for column in ("", "orders", "median ms", "p95 ms", "p99 ms", "max ms", "p99 / 50 ms target",
                   f"p99 / {against}"):
        table.add_column(column, justify="left" if not column else "right")

    def row(label: str, values: Sequence[float], target: bool = True, ratio: str = "", verdict: bool = False) -> None:
        p99 = pct(values, 99)
        mark = (" ok" if p99 <= TARGET_MS else " MISSED") if verdict else ""
        table.add_row(label, str(len(values)), f"{pct(values, 50):.2f}", f"{pct(values, 95):.2f}", f"{p99:.2f}",
                      f"{max(values):.2f}", f"{p99 / TARGET_MS:.2f}{mark}" if target else "", ratio)

    row(f"baseline: sandbox signals(), one strategy ({len(symbols)} x {args.lookback} bars)", baseline.signals_ms)
    for result in results:
        row(result.name, result.entry_ms, ratio=f"{pct(result.entry_ms, 99) / pct(baseline.entry_ms, 99):.2f}",
            verdict=True)
        row("   first strategy in the loop only", result.by_slot.get(1, []))
        row(f"   whole bar: on_bar_close, all {STRATEGIES} (stops placed too)", result.bar_ms, target=False)
    console.print(table)

    slots = Table(title="median ms from t0 to the entry ack, by the strategy's place in the loop")
    slots.add_column("")
    for k in range(1, STRATEGIES + 1):
        slots.add_column(str(k), justify="right")
    slots.add_column("bar / 10", justify="right")
    slots.add_column("host CPU / bar", justify="right")
    slots.add_column("venue CPU / bar", justify="right")
    slots.add_column("sandbox CPU / bar", justify="right")
    for result in results:
        medians = [statistics.median(result.by_slot[k]) if result.by_slot.get(k) else float("nan")
                   for k in range(1, STRATEGIES + 1)]
        slots.add_row(result.name, *(f"{m:.1f}" for m in medians),
                      f"{statistics.median(result.bar_ms) / STRATEGIES:.1f}", f"{statistics.median(result.cpu_ms):.1f}",
                      f"{statistics.median(result.venue_cpu_ms):.1f}" if result.venue_cpu_ms else "-",
                      f"{sandbox_cpu_ms(result):.1f}")
    console.print(slots)
    for result in results:
        actions = ", ".join(f"{k} {v}" for k, v in sorted(result.actions.items()))
        line = f"{result.name}: decisions {actions}; {len(result.close_ms)} closing orders"
        if result.close_ms:
            line += f" (t0 -> close ack median {pct(result.close_ms, 50):.2f} ms)"
        for unit, calls in (("event store calls", result.store_calls_per_bar),
                            ("HTTP requests", result.requests_per_bar)):
            if calls:
                kinds = ", ".join(f"{k} {n:.1f}" for k, n in calls.items())
                line += f"; {sum(calls.values()):.0f} {unit} per bar ({kinds})"
        waits = [f"{k} median {pct(v, 50):.2f}, p90 {pct(v, 90):.2f}" for k, v in result.store_call_ms.items() if v]
        if waits:
            line += f"; ms per event store call: {'; '.join(waits)}"
        if result.requests_per_bar:
            total = sum(result.requests_per_bar.values())
            line += (f"; at the adapter's default budget of 8 req/s (bursts of 8) one bar's requests would take "
                     f"~{max(0.0, total - 8) / 8:.0f} s")
        console.print(line, markup=False)
    for note in notes:
        console.print(note, markup=False)
    console.print(f"Load average (1 min) at the start {args.load_start:.2f}, at the end {os.getloadavg()[0]:.2f}, on "
                  f"{os.cpu_count()} CPUs: latency percentiles move with what else the machine runs. The fake "
                  "Hyperliquid has no network delay.", markup=False)
    for result in results:
        if result.profile:
            console.print(f"\n--- cProfile, {result.name} (timed bars only) ---", markup=False)
            console.print(result.profile, markup=False)


if __name__ == "__main__":
    main()
