"""The HTTP side of the Hyperliquid exchange adapter: reads with retries, signed actions sent once.

Reads (POST /info) are safe to repeat, so they are retried on 429, 5xx, timeouts and dropped
connections with backoff, and fail as ExchangeUnavailable after `retries`. A signed action
(POST /exchange) is sent exactly once per call: whether it may be sent again is the caller's
decision (an order only after the venue said it does not have it), so a failure that leaves the
outcome open is raised as `SendFailed`.

SDK behaviours handled here:
- `Info(...)` requests the perp meta in its constructor unless given one; meta is fetched once
  through a plain `API` (with the retries here) and handed to `Info` and to every SDK `Exchange`,
  whose constructors then make no request; both are built lazily, so wiring stays offline.
- The SDK's `Exchange` methods take the nonce from the clock inside each call and log the whole
  signed payload at DEBUG; actions are therefore built with the SDK's own wire builders, signed
  as its `sign_l1_action` signs (l1_signing.py, the same bytes at a tenth of the CPU) with a
  nonce from our NonceSource, and posted with `Exchange.post`.
- `ClientError`/`ServerError` have empty str(); status and body are read from their attributes.
- The SDK posts through `client.session`, a requests.Session per client; every client here posts
  through one `LeanSession` instead (http_session.py: http.client's keep-alive connections, the
  environment's proxy and CA bundle read once), a quarter of the CPU requests spends per call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import requests
from eth_account.signers.local import LocalAccount
from hyperliquid.api import API
from hyperliquid.exchange import Exchange as SdkExchange
from hyperliquid.info import Info
from hyperliquid.utils.constants import MAINNET_API_URL
from hyperliquid.utils.error import ClientError, ServerError

from adapters.hyperliquid.http_session import LeanSession
from adapters.hyperliquid.l1_signing import L1Signer
from adapters.hyperliquid.rate_limit import NonceSource, TokenBucket
from adapters.hyperliquid.single_flight import SingleFlight
from adapters.hyperliquid.ws_connection import Backoff
from application.ports.exchange import ExchangeError, ExchangeUnavailable, UnknownInstrument
from domain.instruments import Instrument

from .exchange_errors import scrub

logger = logging.getLogger(__name__)
T = TypeVar("T")
EMPTY_SPOT_META: dict[str, list[Any]] = {"universe": [], "tokens": []}
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
BACKGROUND_READS = 8
"""Threads for reads that overlap others (one per subaccount deciding at once, up to this)."""


class SendFailed(Exception):
    """A request whose outcome is open: it may or may not have been processed (timeout, dropped
    connection, 429, 5xx, a reply that is not JSON). Never leaves the adapter."""

    def __init__(self, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


class HyperliquidTransport:
    """Shared by every subaccount of one key: one request budget, one nonce sequence, one meta."""

    def __init__(self, base_url: str, wallet: LocalAccount, *, timeout_s: float, retries: int,
                 backoff: Backoff, requests_per_second: float) -> None:
        if retries < 0 or not timeout_s > 0:
            raise ValueError(f"need retries >= 0 and timeout_s > 0, got {retries}, {timeout_s}")
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self._wallet = wallet
        self._signer = L1Signer(wallet)
        self._timeout_s = timeout_s
        self._backoff = backoff
        self._bucket = TokenBucket(requests_per_second)
        self._nonces = NonceSource()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._meta: dict[str, Any] | None = None
        self._info: Info | None = None
        self._instruments: dict[str, Instrument] = {}
        self._exchanges: dict[str | None, SdkExchange] = {}
        self._background: ThreadPoolExecutor | None = None
        self._http: LeanSession | None = None
        self._mids: SingleFlight[Any] = SingleFlight()

    def __repr__(self) -> str:
        return f"HyperliquidTransport({self.base_url!r})"

    @property
    def is_mainnet(self) -> bool:
        return bool(self.base_url == MAINNET_API_URL)

    def close(self) -> None:
        """Cuts short any retry wait (that call then fails) and refuses new calls."""
        self._closed.set()
        with self._lock:
            background, self._background = self._background, None
            http, self._http = self._http, None
        if http is not None:
            http.close()
        if background is not None:
            background.shutdown(wait=False)

    def in_background(self, call: Callable[[], T]) -> Future[T]:
        """`call` on a thread of the adapter's own (reads that overlap another of the same decision)."""
        with self._lock:
            if self._closed.is_set():
                raise ExchangeUnavailable("Hyperliquid adapter closed")
            if self._background is None:
                self._background = ThreadPoolExecutor(max_workers=BACKGROUND_READS, thread_name_prefix="hl-read")
            return self._background.submit(call)

    # -- the venue's lists ------------------------------------------------------------------------
    def meta(self) -> dict[str, Any]:
        with self._lock:
            if self._meta is not None:
                return self._meta
        api = API(self.base_url, timeout=self._timeout_s)
        api.session = self._session()
        meta = self.read("meta", lambda _: api.post("/info", {"type": "meta"}), client=False)
        universe = meta.get("universe") if isinstance(meta, dict) else None
        if not isinstance(universe, list):
            raise ExchangeError(f"unexpected Hyperliquid meta: {scrub(repr(meta))}")
        instruments = {a["name"]: Instrument(a["name"], int(a["szDecimals"]), int(a.get("maxLeverage", 50)))
                       for a in universe if not a.get("isDelisted", False)}
        with self._lock:
            if self._meta is None:
                self._meta, self._instruments = meta, instruments
            return self._meta

    def instrument(self, symbol: str) -> Instrument:
        self.meta()
        found = self._instruments.get(symbol)
        if found is None:
            raise UnknownInstrument(f"{symbol!r} is not a listed Hyperliquid perp")
        return found

    def asset(self, symbol: str) -> int:
        self.instrument(symbol)
        return int(self._client().name_to_asset(symbol))

    def all_mids(self) -> Any:
        """Every mid price; subaccounts asking at once share one request (single_flight.py)."""
        return self._mids.call(lambda: self.read("allMids", lambda info: info.all_mids()))

    def sdk_exchange(self, vault_address: str | None, account_address: str) -> SdkExchange:
        """The SDK's Exchange bound to one vault (None: the key's own account)."""
        meta = self.meta()
        with self._lock:
            if vault_address not in self._exchanges:
                self._exchanges[vault_address] = SdkExchange(
                    self._wallet, self.base_url, meta=meta, vault_address=vault_address,
                    account_address=account_address, spot_meta=EMPTY_SPOT_META,
                    timeout=self._timeout_s)
                self._exchanges[vault_address].session = self._session_locked()
            return self._exchanges[vault_address]

    # -- requests ---------------------------------------------------------------------------------
    def read(self, what: str, request: Callable[[Info], T], *, client: bool = True) -> T:
        """A /info request, retried while the failure may pass; ExchangeUnavailable after that."""
        attempt = 0
        while True:
            try:
                return self._once(lambda: request(self._client() if client else None))
            except SendFailed as exc:
                failure = exc
            if attempt >= self.retries:
                raise ExchangeUnavailable(f"Hyperliquid {what} failed after {attempt + 1} attempts: "
                                          f"{failure.detail}") from None
            self.pause(attempt, f"{what} failed ({failure.detail})")
            attempt += 1

    def send_action(self, exchange: SdkExchange, action: dict[str, Any]) -> Any:
        """Signs `action` for the exchange's vault with a fresh nonce and posts it, once."""
        nonce = self._nonces.next()
        signature = self._signer.sign(action, exchange.vault_address, nonce, None, self.is_mainnet)
        payload = {"action": action, "nonce": nonce, "signature": signature,
                   "vaultAddress": exchange.vault_address, "expiresAfter": None}
        reply = self._once(lambda: exchange.post("/exchange", payload))
        if isinstance(reply, dict) and set(reply) == {"error"}:  # the SDK's stand-in for a body that is not JSON
            raise SendFailed(f"reply is not JSON: {scrub(reply['error'])}")
        return reply

    def pause(self, attempt: int, why: str) -> None:
        """The backoff before retry `attempt + 1`; raises ExchangeUnavailable once closed."""
        delay = self._backoff.delay(attempt)
        logger.warning("Hyperliquid: %s; retry %d/%d in %.2fs", why, attempt + 1, self.retries, delay)
        if self._closed.wait(delay):
            raise ExchangeUnavailable("Hyperliquid adapter closed")

    # -- internals --------------------------------------------------------------------------------
    def _client(self) -> Info:
        meta = self.meta()
        with self._lock:
            if self._info is None:
                self._info = Info(self.base_url, skip_ws=True, meta=meta,
                                  spot_meta=EMPTY_SPOT_META, timeout=self._timeout_s)
                self._info.session = self._session_locked()
            return self._info

    def _session(self) -> LeanSession:
        with self._lock:
            return self._session_locked()

    def _session_locked(self) -> LeanSession:
        """Built with the first client, so the environment is read when the adapter is first used."""
        if self._http is None:
            self._http = LeanSession(self.base_url)
        return self._http

    def _once(self, call: Callable[[], T]) -> T:
        if self._closed.is_set():
            raise ExchangeUnavailable("Hyperliquid adapter closed")
        self._bucket.acquire()
        try:
            return call()
        except ClientError as exc:
            status, detail = exc.status_code, f"HTTP {exc.status_code}: {scrub(exc.error_message)}"
        except ServerError as exc:
            status, detail = exc.status_code, f"HTTP {exc.status_code}: {scrub(exc.message)}"
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise SendFailed(f"{type(exc).__name__}: {scrub(exc)}") from None
        if status in TRANSIENT_STATUS:
            raise SendFailed(detail, status)
        raise ExchangeError(f"Hyperliquid request refused: {detail}")

