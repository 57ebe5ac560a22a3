"""Closed candles of Binance USDT-M perpetuals through ccxt, fetched page by page with retries.

Binance is the long-history source: Hyperliquid keeps only ~5000 bars per series. The venue
limits request weight per IP and sometimes fails transiently (429, 5xx, timeouts), so every call
is retried with exponential backoff, honouring Retry-After, before a MarketDataError says what
failed. Nothing ccxt-shaped leaves this module: callers get the standard candle frame.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from difflib import get_close_matches
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlparse

import ccxt
import pandas as pd

from adapters.clock.system import SystemClock
from application.ports.clock import Clock
from application.ports.market_data import MarketDataError, UnknownSymbol
from application.symbols import UnmappableSymbol, coin_to_binance
from domain.candles import COLUMNS, empty_candles, normalize_candles, timeframe_delta, to_utc

logger = logging.getLogger(__name__)

T = TypeVar("T")

# ccxt caps fetch_ohlcv at 1000 bars per request for Binance even though the futures API takes
# 1500; 1000 is also the cheaper page per bar (weight 5 per 1000 bars against 10 per 1500).
PAGE_LIMIT = 1000
SETTLE = "USDT"
DEFAULT_OPTIONS: dict[str, Any] = {
    "enableRateLimit": True,  # ccxt spaces calls by the endpoint's weight (50 ms per unit)
    "timeout": 15_000,
    # Only the USDT-M exchangeInfo: no spot, inverse or sapi calls during load_markets.
    "options": {"defaultType": "swap", "fetchMarkets": {"types": ["linear"]}, "fetchCurrencies": False},
}
_MS = 1_000_000  # nanoseconds per millisecond


class _BinanceUSDM(ccxt.binanceusdm):  # type: ignore[misc]
    """ccxt's client, remembering the HTTP status of the last answer: ccxt maps some 4xx
    (400, 403, 404) to ExchangeNotAvailable, which must not be retried like a real outage."""

    last_status: int | None = None

    def on_rest_response(self, code: int, reason: str, url: str, method: str, response_headers: Any,
                         response_body: str, request_headers: Any, request_body: Any) -> str:
        self.last_status = int(code)
        return str(super().on_rest_response(code, reason, url, method, response_headers, response_body,
                                             request_headers, request_body))


def rebase_api_urls(urls: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    """ccxt's urls['api'] with every host replaced by `base_url`, paths kept (/fapi/v1 ...), so a
    local fake answers every endpoint and nothing can reach the real venue by accident."""
    base = base_url.rstrip("/")
    return {name: base + urlparse(url).path if isinstance(url, str) else url for name, url in urls.items()}


class BinanceHistory:
    """HistoricalCandles on Binance USDT-M. Symbols may be written BTC, BTCUSDT or BTC/USDT:USDT.

    One instance per thread: it wraps one synchronous ccxt client and its HTTP session.
    """

    def __init__(self, base_url: str | None = None, options: Mapping[str, Any] | None = None, *,
                 clock: Clock | None = None, sleep: Callable[[float], None] = time.sleep,
                 retries: int = 5, backoff_s: float = 1.0, max_backoff_s: float = 60.0,
                 max_retry_after_s: float = 300.0, overrides: Mapping[str, str] | None = None) -> None:
        """`options` is ccxt's exchange config (timeout, rateLimit, options ...), merged over
        DEFAULT_OPTIONS; `retries` counts attempts after the first. A Retry-After longer than
        `max_retry_after_s` (a 418 IP ban lasts up to days) fails at once instead of hanging.
        `overrides` maps Hyperliquid coins to ccxt symbols where the naming rule fails."""
        config = {**DEFAULT_OPTIONS, **(options or {})}
        config["options"] = {**DEFAULT_OPTIONS["options"], **dict((options or {}).get("options", {}))}
        self._exchange = _BinanceUSDM(config)
        if base_url is not None:
            self._exchange.urls["api"] = rebase_api_urls(self._exchange.urls["api"], base_url)
        self._clock = clock or SystemClock()
        self._sleep = sleep
        self._retries = retries
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._max_retry_after_s = max_retry_after_s
        self._overrides = dict(overrides or {})

    def __enter__(self) -> BinanceHistory:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._exchange.session.close()

    def fetch(self, symbol: str, timeframe: str, start: datetime, end: datetime) -> pd.DataFrame:
        """Closed candles with open time in [start, end); the still-forming bar is left out."""
        step_ms = timeframe_delta(timeframe).value // _MS
        market = self.resolve(symbol)
        now_ms = to_utc(self._clock.now()).value // _MS
        since = -(-to_utc(start).value // _MS)
        until = min(to_utc(end).value // _MS, now_ms - step_ms + 1)  # exclusive; last closed bar opens before
        rows: list[list[Any]] = []
        while since < until:
            page: list[list[Any]] = self._call(
                lambda since=since: self._exchange.fetch_ohlcv(market, timeframe, since=since, limit=PAGE_LIMIT,
                                                               params={"until": until - 1}),
                f"{market} {timeframe} candles from {_iso(since)}", symbol)
            page = [row for row in page if since <= row[0] < until]
            rows.extend(page)
            logger.debug("binance %s %s: %d bars from %s", market, timeframe, len(page), _iso(since))
            if len(page) < PAGE_LIMIT:
                break  # Binance fills a page whenever more bars exist before endTime
            since = int(page[-1][0]) + step_ms
        if not rows:
            return empty_candles()
        return normalize_candles(pd.DataFrame([row[:6] for row in rows], columns=["timestamp", *COLUMNS]))

    def resolve(self, symbol: str) -> str:
        """The ccxt symbol for BTC, btcusdt, BTC/USDT, BTC/USDT:USDT, or a Hyperliquid coin
        (kPEPE -> 1000PEPE/USDT:USDT, plus the overrides given), so caches can be keyed by coin."""
        markets = self._markets()
        text = symbol.strip().upper()
        for candidate in (symbol.strip(), text, f"{text}:{SETTLE}", f"{text}/{SETTLE}:{SETTLE}"):
            if candidate in markets:
                return candidate
        by_id = self._exchange.markets_by_id or {}
        if text in by_id:
            return str(by_id[text][0]["symbol"])
        try:
            mapped = coin_to_binance(symbol.strip(), self._overrides)
        except UnmappableSymbol:
            mapped = None  # not a coin name either: reported below with the valid ones
        if mapped in markets:
            return str(mapped)
        raise self._unknown(symbol)

    def perp_volumes(self) -> dict[str, float]:
        """24h quote volume (USDT) of every active USDT-settled perp, keyed by ccxt symbol: the
        Binance side of the symbol universe (PerpVolumes)."""
        markets = self._markets()
        tickers: dict[str, Any] = self._call(self._exchange.fetch_tickers, "the 24h tickers", None)
        return {
            symbol: float(ticker.get("quoteVolume") or 0.0)
            for symbol, ticker in tickers.items()
            if symbol in markets and markets[symbol].get("swap") and markets[symbol].get("settle") == SETTLE
        }

    def valid_symbols(self) -> list[str]:
        """Base coins of the active USDT-settled perpetuals, as users type them (BTC, ETH ...)."""
        markets = self._markets()
        return sorted({m["base"] for m in markets.values()
                       if m.get("swap") and m.get("settle") == SETTLE and m.get("active") is not False})

    def _markets(self) -> dict[str, Any]:
        if not self._exchange.markets:
            self._call(self._exchange.load_markets, "the market list (exchangeInfo)", None)
        return dict(self._exchange.markets)

    def _unknown(self, symbol: str) -> UnknownSymbol:
        valid = self.valid_symbols()
        close = get_close_matches(symbol.strip().upper().removesuffix(SETTLE), valid, n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        shown = ", ".join(valid[:30]) + (f" ... ({len(valid)} in all)" if len(valid) > 30 else "")
        return UnknownSymbol(f"unknown Binance USDT-M symbol {symbol!r}; {hint}valid: {shown} "
                             f"(also written BTCUSDT or BTC/USDT:USDT)")

    def _call(self, action: Callable[[], T], what: str, symbol: str | None) -> T:
        """`action` retried on transient failures; any other ccxt error becomes a MarketDataError."""
        attempt = 0
        while True:
            self._exchange.last_status = None
            self._exchange.last_response_headers = None
            try:
                return action()
            except ccxt.BadSymbol as exc:
                if symbol is None:
                    raise MarketDataError(f"Binance refused {what}: {exc}") from exc
                raise self._unknown(symbol) from exc
            except ccxt.BaseError as exc:
                if not self._transient(exc):
                    raise MarketDataError(f"Binance refused {what}: {exc}") from exc
                if attempt >= self._retries:
                    status = self._exchange.last_status
                    raise MarketDataError(
                        f"Binance failed to deliver {what} after {attempt + 1} attempts"
                        f"{f' (last answer HTTP {status})' if status else ''}: {_short(exc)}") from exc
                delay = self._delay(attempt, exc, what)
                attempt += 1
                logger.warning("binance: %s failed (%s: %s); retry %d/%d in %.1f s", what, type(exc).__name__,
                               _short(exc), attempt, self._retries, delay)
                self._sleep(delay)

    def _transient(self, exc: ccxt.BaseError) -> bool:
        """Worth another try: ccxt's OperationFailed family (network, 418/429, 5xx, timeouts,
        garbled answers) or any 5xx, but not a plain 4xx that ccxt files as an outage."""
        status = self._exchange.last_status
        if status is not None and 400 <= status < 500 and status not in (408, 418, 429):
            return False
        return isinstance(exc, ccxt.OperationFailed) or (status is not None and status >= 500)

    def _delay(self, attempt: int, exc: ccxt.BaseError, what: str) -> float:
        retry_after = self._retry_after()
        if retry_after is None:
            return float(min(self._max_backoff_s, self._backoff_s * 2**attempt))
        if retry_after > self._max_retry_after_s:
            status = self._exchange.last_status
            ban = " (HTTP 418: this IP is banned for ignoring rate limits)" if status == 418 else ""
            raise MarketDataError(f"Binance asks to wait {retry_after:.0f} s before {what}{ban}; "
                                  f"more than the {self._max_retry_after_s:.0f} s allowed, try again later") from exc
        return retry_after

    def _retry_after(self) -> float | None:
        """Seconds from the last answer's Retry-After header (delta-seconds or an HTTP date)."""
        headers = self._exchange.last_response_headers
        value = headers.get("Retry-After") if headers else None
        if not value:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = (parsedate_to_datetime(value) - self._clock.now()).total_seconds()
            except (TypeError, ValueError):
                logger.warning("binance: unreadable Retry-After %r; using backoff", value)
                return None
        return max(0.0, seconds) if math.isfinite(seconds) else None


def _iso(ms: int) -> str:
    return pd.Timestamp(ms * _MS, tz="UTC").strftime("%Y-%m-%d %H:%M")


def _short(exc: BaseException, limit: int = 200) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "..."
