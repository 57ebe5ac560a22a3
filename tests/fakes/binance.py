"""A local Binance USDT-M futures REST server, so the real ccxt client can be tested offline.

It speaks the public market-data endpoints ccxt's `binanceusdm` uses (exchangeInfo, klines,
ticker/24hr, time, ping) with Binance's payload shapes and error codes, serving candles from the
shared Parquet files (BINANCEUSDM_{SYMBOL}_{TF}.parquet) or from frames handed in. Tests steer it:
they read the request log, inject 429/418/5xx answers or slow responses, hide ranges of candles
(venue outages) and watch the request weight. Point ccxt at it with `ccxt_urls()`.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd
from aiohttp import web

from tests.fakes import binance_payloads as payloads
from tests.fakes.binance_book import SHARED_OHLCV, CandleBook, to_ms

_TICKER_INTERVALS = ("1h", "15m", "5m", "30m", "4h", "1m", "1d")  # cheapest series first


@dataclass(frozen=True)
class LoggedRequest:
    path: str
    params: dict[str, str]
    status: int
    weight: int
    at: float  # time.monotonic() when the request arrived


@dataclass
class Fault:
    """An answer to impose on requests to `path`: an error status, a delay, or both.

    The first `after` matching requests pass untouched; the next `times` (None: all) get the
    fault. status 200 with a delay is a slow but correct answer.
    """

    status: int = 503
    times: int | None = 1
    after: int = 0
    retry_after: float | None = None
    delay: float = 0.0
    path: str = "/fapi/v1/klines"
    hits: int = 0

    def take(self) -> bool:
        """Whether this request gets the fault (counts the request either way)."""
        self.hits += 1
        if self.hits <= self.after:
            return False
        return self.times is None or self.hits - self.after <= self.times


class FakeBinanceFutures:
    """Thread-safe: the server runs on its own event loop thread; controls lock shared state."""

    def __init__(self, data_dir: Path | None = SHARED_OHLCV,
                 frames: Mapping[tuple[str, str], pd.DataFrame] | None = None,
                 now: Callable[[], datetime] | None = None, weight_limit: int | None = None) -> None:
        """`frames` maps (Binance id such as "BTCUSDT", interval) to candles in any form the
        domain normalises; `now`, when given, is the server's clock: bars opening after it are
        not served (the one containing it is, as the still-forming bar)."""
        self._lock = threading.Lock()
        self.book = CandleBook(data_dir, frames)
        self._now = now
        self.weight_limit = weight_limit
        self._faults: list[Fault] = []
        self._log: list[LoggedRequest] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> FakeBinanceFutures:
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="fake-binance", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(sock), loop).result(timeout=10)
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = self._runner = None

    def __enter__(self) -> FakeBinanceFutures:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def ccxt_urls(self) -> dict[str, str]:
        """urls['api'] for ccxt.binanceusdm with every host replaced by this server."""
        import ccxt  # local: only tests that talk to ccxt need it

        template: dict[str, str] = ccxt.binanceusdm().urls["api"]
        return {name: self.url + urlparse(value).path for name, value in template.items()}

    # --- controls --------------------------------------------------------------------------
    def add_frame(self, symbol: str, interval: str, frame: pd.DataFrame) -> None:
        self.book.add(symbol, interval, frame)

    def inject(self, status: int = 503, *, times: int | None = 1, after: int = 0, retry_after: float | None = None,
               delay: float = 0.0, path: str = "/fapi/v1/klines") -> Fault:
        fault = Fault(status=status, times=times, after=after, retry_after=retry_after, delay=delay, path=path)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def hide(self, symbol: str, interval: str, start: datetime | str, end: datetime | str) -> None:
        """Serve no bars of (symbol, interval) opening in [start, end), as during an outage."""
        self.book.hide(symbol, interval, start, end)

    def unhide(self) -> None:
        self.book.unhide()

    @property
    def requests(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._log)

    @property
    def kline_requests(self) -> list[dict[str, str]]:
        """Query parameters of every klines request answered 200, in order."""
        return [r.params for r in self.requests if r.path == "/fapi/v1/klines" and r.status == 200]

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    def weight_used(self, window_s: float = 60.0) -> int:
        """Request weight spent in the last `window_s` seconds (Binance's X-MBX-USED-WEIGHT-1M)."""
        since = time.monotonic() - window_s
        return sum(r.weight for r in self.requests if r.at >= since)

    def now(self) -> pd.Timestamp:
        """The server's clock: the injected one, else the wall clock."""
        return pd.Timestamp(self._server_ms() * 1_000_000, tz="UTC")

    def series(self, symbol: str, interval: str) -> pd.DataFrame:
        """Every bar held for (symbol, interval), hidden ones included, as a standard frame."""
        return self.book.frame(symbol, interval)

    # --- server ----------------------------------------------------------------------------
    async def _serve(self, sock: socket.socket) -> None:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/fapi/v1/ping", self._ping)
        app.router.add_get("/fapi/v1/time", self._time)
        app.router.add_get("/fapi/v1/exchangeInfo", self._exchange_info)
        app.router.add_get("/fapi/v1/klines", self._klines)
        app.router.add_get("/fapi/v1/ticker/24hr", self._ticker)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    @web.middleware
    async def _middleware(self, request: web.Request,
                          handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        arrived = time.monotonic()
        with self._lock:
            fault = next((f for f in self._faults if f.path == request.path and f.take()), None)
            over_limit = self.weight_limit is not None and self._weight_locked() >= self.weight_limit
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if over_limit:
            response: web.StreamResponse = self._error(429, retry_after=1)
        elif fault is not None and fault.status != 200:
            response = self._error(fault.status, retry_after=fault.retry_after)
        else:
            response = await handler(request)
        weight = 0 if response.status >= 500 or response.status in (418, 429) else _weight(request)
        with self._lock:
            self._log.append(LoggedRequest(request.path, dict(request.query), response.status, weight, arrived))
            response.headers["X-MBX-USED-WEIGHT-1M"] = str(self._weight_locked())
        return response

    async def _ping(self, _: web.Request) -> web.Response:
        return self._json({})

    async def _time(self, _: web.Request) -> web.Response:
        return self._json({"serverTime": self._server_ms()})

    async def _exchange_info(self, _: web.Request) -> web.Response:
        prices = {symbol: self.book.last_price(symbol) for symbol in self.book.symbols()}
        return self._json(payloads.exchange_info(prices, self._server_ms()))

    async def _klines(self, request: web.Request) -> web.Response:
        q = request.query
        symbol, interval = q.get("symbol", ""), q.get("interval", "")
        if symbol not in self.book.symbols():
            return self._json(payloads.INVALID_SYMBOL, status=400)
        if interval not in payloads.INTERVAL_MS:
            return self._json(payloads.INVALID_INTERVAL, status=400)
        limit = _int(q.get("limit", "500"))
        if limit is None or not 1 <= limit <= 1500:
            return self._json(payloads.INVALID_LIMIT, status=400)
        start = int(q["startTime"]) if "startTime" in q else None
        end = int(q["endTime"]) if "endTime" in q else None
        times, values = self._window(symbol, interval, start, end)
        keep = slice(0, limit) if start is not None else slice(max(0, len(times) - limit), None)
        return self._json(payloads.klines(times[keep], values[keep], payloads.INTERVAL_MS[interval]))

    async def _ticker(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol")
        if symbol is not None and symbol not in self.book.symbols():
            return self._json(payloads.INVALID_SYMBOL, status=400)
        stats = []
        for name in [symbol] if symbol else self.book.symbols():
            interval = next((i for i in _TICKER_INTERVALS if self.book.has(name, i)), "1h")
            times, values = self._window(name, interval, None, None)
            # The last day of what is served: with no injected clock the data may end long ago.
            close_ms = int(times[-1]) + payloads.INTERVAL_MS[interval] if len(times) else self._server_ms()
            day = times >= close_ms - payloads.INTERVAL_MS["1d"]
            stats.append(payloads.ticker_24hr(name, times[day], values[day], close_ms - 1))
        return self._json(stats[0] if symbol else stats)

    def _window(self, symbol: str, interval: str, start: int | None,
                end: int | None) -> tuple[np.ndarray, np.ndarray]:
        """What Binance would serve: bars in [start, end], none opening after the server's clock."""
        if self._now is not None:
            end = self._server_ms() if end is None else min(end, self._server_ms())
        return self.book.window(symbol, interval, start, end)

    def _server_ms(self) -> int:
        return to_ms(self._now()) if self._now is not None else int(time.time() * 1000)

    def _weight_locked(self) -> int:
        since = time.monotonic() - 60.0
        return sum(r.weight for r in self._log if r.at >= since)

    @staticmethod
    def _json(body: Any, status: int = 200) -> web.Response:
        return web.json_response(body, status=status)

    def _error(self, status: int, retry_after: float | None) -> web.Response:
        body = payloads.ERRORS.get(status, {"code": -1000, "msg": "An unknown error occurred."})
        response = self._json(body, status=status)
        if retry_after is not None:
            response.headers["Retry-After"] = f"{retry_after:g}"
        return response


def _weight(request: web.Request) -> int:
    if request.path == "/fapi/v1/klines":
        return payloads.kline_weight(_int(request.query.get("limit", "500")) or 500)
    if request.path == "/fapi/v1/ticker/24hr":
        return 1 if "symbol" in request.query else 40
    return 1


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None
