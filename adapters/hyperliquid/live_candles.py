"""LiveCandles for Hyperliquid perps: every (symbol, timeframe) over ONE WebSocket, gaps refilled
over REST.

Why one connection for everything: Hyperliquid limits connections and subscriptions per IP, and a
single stream gives one place to detect a drop and one backfill to run after it. Why REST backfill
on every (re)connect: candle pushes are state, not deltas, so a missed push only matters for bars
that closed while we were not listening; refetching from the newest bar held (inclusive) restores
those bars' final values and any whole bars missed. Each series is refetched once its subscription
is acknowledged: a snapshot taken earlier could miss updates the new stream will not resend. A push
that skips bars (open time more than one period after the newest held bar) schedules the same
refetch for its series.

Threads: the WebSocket supervisor (messages are applied on it), its keepalive pinger, and one
backfill worker, so slow REST calls never delay the stream. Readers call get_data from any thread.

Rate limits: the first load is one candleSnapshot per series (60 for 10 coins x 6 timeframes);
Hyperliquid weighs these against a per-IP budget, so 429s are retried with backoff in
HyperliquidRest rather than failing the start.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType

import pandas as pd

from adapters.clock.system import SystemClock
from adapters.hyperliquid.candle_cache import CandleCache, CandleSeries
from adapters.hyperliquid.candles import parse_candle
from adapters.hyperliquid.rest import HyperliquidRest
from adapters.hyperliquid.ws_connection import Backoff, ReconnectingWebSocket
from application.ports.clock import Clock
from application.ports.market_data import MarketDataError, UnknownSymbol
from application.symbols import to_coin
from domain.candles import timeframe_delta

logger = logging.getLogger(__name__)

Key = tuple[str, str]  # (coin, timeframe)


class HyperliquidLiveCandles:
    """Streams candles for `symbols` x `timeframes` (symbols as Hyperliquid coins or ccxt names).

    base_url/ws_url: the venue (ws_url defaults to base_url's host + /ws); max_candles: bars kept
    per series; history_candles: bars loaded at start; backoff: reconnect and REST retry delays;
    ping_interval_s/idle_timeout_s: keepalive, and how long silence is tolerated before the
    connection is replaced; clock: the time used for backfill windows and last_update.
    Nothing touches the network before start().
    """

    def __init__(self, base_url: str, symbols: Sequence[str], timeframes: Sequence[str], *,
                 ws_url: str | None = None, max_candles: int = 1000, history_candles: int = 500,
                 backoff: Backoff | None = None, ping_interval_s: float = 50.0,
                 idle_timeout_s: float | None = None, start_timeout_s: float = 60.0, ack_timeout_s: float = 10.0,
                 clock: Clock | None = None, rest: HyperliquidRest | None = None,
                 symbol_overrides: Mapping[str, str] | None = None) -> None:
        if not 1 <= history_candles <= max_candles:
            raise ValueError(f"need 1 <= history_candles ({history_candles}) <= max_candles ({max_candles})")
        self._period_ms = {tf: int(timeframe_delta(tf) / timedelta(milliseconds=1)) for tf in timeframes}
        self._overrides = dict(symbol_overrides or {})
        self._coins = list(dict.fromkeys(to_coin(s, self._overrides) for s in symbols))
        if not self._coins or not self._period_ms:
            raise ValueError("need at least one symbol and one timeframe")
        self._keys: list[Key] = [(c, tf) for c in self._coins for tf in self._period_ms]
        self._cache = CandleCache(self._keys, self._period_ms, max_candles)
        self._max_candles = max_candles
        self._history_candles = history_candles
        self._backoff = backoff or Backoff()
        self._start_timeout_s = start_timeout_s
        self._clock: Clock = clock or SystemClock()
        self._owns_rest = rest is None
        self._rest = rest or HyperliquidRest(base_url, backoff=self._backoff)
        self.ws_url = ws_url or "ws" + base_url.rstrip("/")[len("http"):] + "/ws"
        self._ws = ReconnectingWebSocket(self.ws_url, on_open=self._subscribe_all, on_message=self._handle,
                                         backoff=self._backoff, ping_interval_s=ping_interval_s,
                                         idle_timeout_s=idle_timeout_s, name="hl-candles-ws")
        # Backfill requests: {series: refetch from this bar open (ms), None = load history}; None stops.
        self._requests: queue.Queue[dict[Key, int | None] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._running = False
        self.last_error: BaseException | None = None
        self.pushes_received = 0  # candle messages applied; written by the WebSocket thread only
        self._ack_timeout_s = ack_timeout_s
        self._ack_lock = threading.Lock()
        self._awaiting_ack: dict[Key, int | None] = {}
        self._ack_timer: threading.Timer | None = None

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Checks the symbols against the venue, connects, subscribes and loads history; returns
        once every series holds its history, or raises MarketDataError (and stops) on timeout."""
        if self._worker is not None:
            raise RuntimeError("HyperliquidLiveCandles can be started once")
        listed = self._rest.perp_coins()
        unknown = [c for c in self._coins if c not in listed]
        if unknown:
            raise UnknownSymbol(f"not Hyperliquid perps: {', '.join(unknown)}; listed: {', '.join(sorted(listed))}")
        self._worker = threading.Thread(target=self._backfill_loop, name="hl-candles-backfill", daemon=True)
        self._worker.start()
        self._ws.start()
        self._running = True
        deadline = time.monotonic() + self._start_timeout_s
        if not self._ws.wait_connected(self._start_timeout_s):
            self.stop()
            raise MarketDataError(f"no WebSocket connection to {self.ws_url} within {self._start_timeout_s:.0f}s")
        if not self._ready.wait(max(0.0, deadline - time.monotonic())):
            self.stop()
            raise MarketDataError(f"candle history not loaded within {self._start_timeout_s:.0f}s; "
                                  f"last error: {self.last_error!r}") from self.last_error
        logger.info("streaming %d coins x %s over %s", len(self._coins), ", ".join(self._period_ms), self.ws_url)

    def stop(self) -> None:
        """Closes the connection and joins every thread; safe to call twice."""
        self._running = False
        self._stop.set()
        self._requests.put(None)
        if self._owns_rest:
            self._rest.close()
        self._ws.stop()
        with self._ack_lock:
            if self._ack_timer is not None:
                self._ack_timer.cancel()
        if self._worker is not None:
            self._worker.join(10.0)
            if self._worker.is_alive():
                logger.error("backfill worker did not stop within 10s")

    def __enter__(self) -> HyperliquidLiveCandles:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- LiveCandles ----------------------------------------------------------------------------------
    def get_data(self, symbol: str, timeframe: str, lookback: int) -> pd.DataFrame:
        if lookback < 1:
            raise ValueError(f"lookback must be at least 1, got {lookback}")
        series = self._series(symbol, timeframe)
        if not self._running:
            raise MarketDataError("Hyperliquid live candles are not running (start() first)")
        return series.frame(lookback)

    def last_update(self, symbol: str, timeframe: str) -> datetime | None:
        return self._series(symbol, timeframe).updated_at()

    def staleness(self, now: datetime | None = None) -> dict[Key, timedelta | None]:
        """Time since each series last heard from the venue (None: never), for health checks."""
        moment = now or self._clock.now()
        out: dict[Key, timedelta | None] = {}
        for key, series in self._cache.items():
            updated = series.updated_at()
            out[key] = None if updated is None else moment - updated
        return out

    @property
    def keys(self) -> list[Key]:
        return list(self._keys)

    @property
    def connected(self) -> bool:
        return self._ws.connected

    @property
    def connections_opened(self) -> int:
        return self._ws.connections_opened

    def _series(self, symbol: str, timeframe: str) -> CandleSeries:
        timeframe_delta(timeframe)  # UnknownTimeframe, listing the valid ones
        coin = to_coin(symbol, self._overrides)
        series = self._cache.get(coin, timeframe)
        if series is None:
            streamed = ", ".join(f"{c} {tf}" for c, tf in self._keys)
            raise UnknownSymbol(f"{symbol} {timeframe} is not streamed; streamed: {streamed}")
        return series

    # -- stream (WebSocket supervisor thread) -----------------------------------------------------
    def _subscribe_all(self) -> None:
        """Subscribes every series; each one's refetch is requested when its subscription is
        acknowledged, since a snapshot taken before that could miss updates the stream never sends."""
        # Read before subscribing: once pushes flow, the newest bar held may already be after the gap.
        with self._ack_lock:
            self._awaiting_ack = {key: series.last_open_ms() for key, series in self._cache.items()}
            if self._ack_timer is not None:
                self._ack_timer.cancel()
            # Should acknowledgements never come (a changed message format), refetch anyway.
            self._ack_timer = threading.Timer(self._ack_timeout_s, self._acks_overdue)
            self._ack_timer.daemon = True
            self._ack_timer.start()
        self._cache.connection_opened()
        for coin, timeframe in self._keys:
            self._ws.send({"method": "subscribe",
                           "subscription": {"type": "candle", "coin": coin, "interval": timeframe}})

    def _acks_overdue(self) -> None:
        with self._ack_lock:
            overdue, self._awaiting_ack = self._awaiting_ack, {}
        if overdue and not self._stop.is_set():
            logger.warning("no subscription acknowledgement within %.0fs for %s; refetching anyway",
                           self._ack_timeout_s, ", ".join(f"{c} {tf}" for c, tf in overdue))
            self._requests.put(overdue)

    def _handle(self, message: str) -> None:
        if not message.startswith("{"):
            logger.debug("Hyperliquid WebSocket says: %s", message)  # "Websocket connection established."
            return
        payload = json.loads(message)
        channel = payload.get("channel")
        if channel == "candle":
            candle = parse_candle(payload["data"])
            self.pushes_received += 1
            series = self._cache.get(candle.coin, candle.interval)
            if series is None:
                logger.warning("candle for %s %s, which is not subscribed", candle.coin, candle.interval)
                return
            gap_after = series.push(candle.open_ms, candle.values, self._clock.now()).gap_after
            if gap_after is not None:
                logger.info("bars missing between %d and %d in %s %s; refetching", gap_after, candle.open_ms,
                            candle.coin, candle.interval)
                self._requests.put({(candle.coin, candle.interval): gap_after})
        elif channel == "subscriptionResponse":
            subscription = (payload.get("data") or {}).get("subscription") or {}
            key = (subscription.get("coin"), subscription.get("interval"))
            with self._ack_lock:
                acknowledged = key in self._awaiting_ack
                since = self._awaiting_ack.pop(key, None)
            if acknowledged:
                self._requests.put({key: since})
        elif channel == "error":
            logger.error("Hyperliquid WebSocket error: %s", payload.get("data"))
        elif channel != "pong":
            logger.debug("ignored Hyperliquid message on channel %s", channel)

    # -- backfill (worker thread) ---------------------------------------------------------------------
    def _backfill_loop(self) -> None:
        done_once: set[Key] = set()
        pending: dict[Key, int | None] = {}
        failures = 0
        while not self._stop.is_set():
            try:
                item = self._requests.get(timeout=None if not pending else 0.0)
            except queue.Empty:
                item = {}
            if item is None:
                break
            for key, since in item.items():
                earlier = pending.get(key, since)
                pending[key] = None if since is None or earlier is None else min(since, earlier)
            for key in sorted(pending):
                if self._stop.is_set():
                    break
                try:
                    self._backfill(key, None if key not in done_once else pending[key])
                except Exception as exc:  # retried below; logged in full every time
                    if self._stop.is_set():
                        logger.info("backfill of %s %s abandoned: stopping (%s)", *key, exc)
                        break
                    self.last_error = exc
                    delay = self._backoff.delay(failures)
                    failures += 1
                    logger.exception("backfill of %s %s failed; retrying in %.2fs", *key, delay)
                    self._stop.wait(delay)
                    break
                failures = 0
                del pending[key]
                done_once.add(key)
            if len(done_once) == len(self._keys) and not pending:
                self._ready.set()
        logger.info("backfill worker stopped")

    def _backfill(self, key: Key, since_ms: int | None) -> None:
        """Refetches from bar `since_ms` on, that bar included since its final values may have been
        missed; None (the first time, as pushes may land before any history): `history_candles`."""
        coin, timeframe = key
        series = self._series(coin, timeframe)
        period = self._period_ms[timeframe]
        now_ms = int(self._clock.now().timestamp() * 1000)
        current = now_ms - now_ms % period
        if since_ms is None:
            start = current - (self._history_candles - 1) * period
        else:
            start = max(since_ms, current - (self._max_candles - 1) * period)
        times, values = self._rest.candles(coin, timeframe, start, current + period - 1)
        series.merge_snapshot(times, values, self._clock.now())
        logger.debug("backfilled %s %s: %d bars from %d", coin, timeframe, len(times), start)
