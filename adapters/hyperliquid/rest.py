"""Hyperliquid REST (POST /info) through the official SDK, with retries and typed errors.

SDK behaviours handled here:
- `Info(base_url)` does network I/O in its constructor (spotMeta and meta requests) and, unless
  skip_ws=True, starts its own WebSocket thread. It is built lazily on first use with skip_ws=True
  and an empty spot meta (SixBTC trades perps only), so building the container stays offline.
- `ClientError`/`ServerError` carry no exception message (str() is empty); status and body are
  read from their attributes.
- A 2xx body that is not JSON comes back as {"error": ...} instead of raising; callers check shapes.
- `candles_snapshot` looks the coin up in the meta the client loaded and raises a bare KeyError for
  an unknown one, and a 4xx body that is JSON without "code"/"msg" also surfaces as KeyError from
  the SDK's error handler; coins are checked here first so a KeyError never means "unknown coin".
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
import requests
from hyperliquid.info import Info
from hyperliquid.utils.error import ClientError, ServerError

from adapters.hyperliquid.candles import parse_candles
from adapters.hyperliquid.ws_connection import Backoff
from application.ports.market_data import MarketDataError, UnknownSymbol

logger = logging.getLogger(__name__)

SNAPSHOT_LIMIT = 5000  # Hyperliquid returns at most this many candles per candleSnapshot request
EMPTY_SPOT_META: dict[str, list[Any]] = {"universe": [], "tokens": []}
_RETRYABLE_STATUS = {429, 500, 502, 503, 504}


class HyperliquidRequestError(MarketDataError):
    """A /info request that failed for good (after retries where a retry could help)."""

    def __init__(self, what: str, status: int | None, detail: str) -> None:
        super().__init__(f"Hyperliquid {what} failed" + (f" with HTTP {status}" if status else "") + f": {detail}")
        self.status = status


class HyperliquidRest:
    """The /info calls SixBTC needs. The SDK client is built once, behind a lock, and then shared
    (its requests.Session is safe for these independent calls from several threads)."""

    def __init__(self, base_url: str, *, timeout_s: float = 10.0, retries: int = 4,
                 backoff: Backoff | None = None, page_limit: int = SNAPSHOT_LIMIT) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout_s = timeout_s
        self._retries = retries
        self._backoff = backoff or Backoff(initial_s=0.5, max_s=8.0)
        self._lock = threading.Lock()
        self._info: Info | None = None
        self._page_limit = page_limit
        self._closed = threading.Event()

    def close(self) -> None:
        """Cuts short any retry wait in progress (that call then fails) and refuses new calls."""
        self._closed.set()

    def meta(self) -> dict[str, Any]:
        """The perp universe as Hyperliquid returns it: {"universe": [{"name", "szDecimals", ...}]}."""
        meta = self._call("meta", lambda info: info.meta())
        if not isinstance(meta, dict) or not isinstance(meta.get("universe"), list):
            raise HyperliquidRequestError("meta", None, f"unexpected body {str(meta)[:200]!r}")
        return meta

    def perp_coins(self) -> list[str]:
        """Names of the listed perps, delisted ones left out."""
        return [asset["name"] for asset in self.meta()["universe"] if not asset.get("isDelisted", False)]

    def candles(self, coin: str, interval: str, start_ms: int, end_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """Every bar overlapping [start_ms, end_ms], paging past the per-request limit.

        Hyperliquid answers with the bars whose span overlaps the window (the first one may open
        before start_ms). Paging continues after the last bar received while full pages come back,
        which is right whether the server cuts a long window at its start or keeps its newest bars.
        """
        if coin not in self._client().name_to_coin:
            raise UnknownSymbol(f"{coin!r} is not a Hyperliquid perp")
        pages_t: list[np.ndarray] = []
        pages_v: list[np.ndarray] = []
        cursor = start_ms
        while True:
            payload = self._call("candleSnapshot",
                                 lambda info, s=cursor: info.candles_snapshot(coin, interval, s, end_ms))
            times, values = parse_candles(payload)
            pages_t.append(times)
            pages_v.append(values)
            if len(times) < self._page_limit or int(times[-1]) <= cursor:
                break
            cursor = int(times[-1]) + 1
        times, values = np.concatenate(pages_t), np.concatenate(pages_v)
        if len(pages_t) > 1:  # pages overlap by the bar spanning each cursor; keep its later copy
            order = np.argsort(times, kind="stable")
            times, values = times[order], values[order]
            keep = np.r_[times[1:] != times[:-1], True]
            times, values = times[keep], values[keep]
        return times, values

    # -- internals --------------------------------------------------------------------------------
    def _client(self) -> Info:
        with self._lock:
            if self._info is None:
                self._info = Info(self.base_url, skip_ws=True, spot_meta=EMPTY_SPOT_META, timeout=self._timeout_s)
            return self._info

    def _call(self, what: str, request: Any) -> Any:
        attempt = 0
        while True:
            if self._closed.is_set():
                raise HyperliquidRequestError(what, None, "client closed")
            try:
                return request(self._client())
            except ClientError as exc:
                status, detail = exc.status_code, f"{exc.error_code} {exc.error_message}"
            except ServerError as exc:
                status, detail = exc.status_code, str(exc.message)
            except (requests.ConnectionError, requests.Timeout) as exc:
                status, detail = None, f"{type(exc).__name__}: {exc}"
            retryable = status is None or status in _RETRYABLE_STATUS
            if not retryable or attempt >= self._retries:
                raise HyperliquidRequestError(what, status, detail)
            delay = self._backoff.delay(attempt)
            attempt += 1
            logger.warning("Hyperliquid %s failed (%s %s); retry %d/%d in %.2fs",
                           what, status, detail[:200], attempt, self._retries, delay)
            self._closed.wait(delay)
