"""The HTTP client under the Hyperliquid SDK: what its `API.post` uses of `requests.Session`, on
urllib3 directly.

The SDK posts every request through `self.session.post(url, json=..., timeout=...)`. requests
spends ~0.4 ms of CPU per call on top of urllib3 (merging settings, hooks, cookies, re-preparing
headers), ~0.2 ms more than urllib3 itself: with ten subaccounts deciding on one bar, ~60
requests, the client's CPU is most of the time from candle close to order ack (bench/live_loop.py).

Behaviour kept from requests: the proxy variables (NO_PROXY honoured) and the CA bundle variables
(REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, else certifi's), read once when the session is built; TLS
verified; keep-alive connections shared by every thread, a connection the venue dropped while
idle replaced before use; no redirects, no retries (a signed action is sent once; the transport
decides what is retried); failures raised as `requests.ConnectionError` / `requests.Timeout`,
and a reply whose body is not JSON raises ValueError from `json()`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import certifi
import requests
import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, ProxyError, TimeoutError

CONNECTIONS = 32
"""Idle connections kept per host: above the threads that can post at once (deciding subaccounts
plus the background reads), so none is opened and thrown away per request."""
HEADERS = {"Content-Type": "application/json", "Accept": "application/json",
           "Accept-Encoding": "gzip, deflate", "User-Agent": "sixbtc"}


class LeanResponse:
    """The parts of requests.Response the SDK reads."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, content: bytes, headers: Mapping[str, str]) -> None:
        self.status_code = status_code
        self.content = content
        self.headers = headers

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class LeanSession:
    """One connection pool for every SDK client of a transport (Info and one Exchange per vault)."""

    def __init__(self, base_url: str) -> None:
        self.headers = dict(HEADERS)
        proxy = requests.utils.get_environ_proxies(base_url).get(urlsplit(base_url).scheme)
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
        tls: dict[str, Any] = {"cert_reqs": "CERT_REQUIRED", "ca_certs": bundle}
        self.proxy = proxy
        self.ca_bundle = bundle
        self._pool: urllib3.PoolManager = (
            urllib3.ProxyManager(proxy, num_pools=4, maxsize=CONNECTIONS, retries=False, **tls) if proxy
            else urllib3.PoolManager(num_pools=4, maxsize=CONNECTIONS, retries=False, **tls))

    def post(self, url: str, json: Any = None, timeout: float | None = None) -> LeanResponse:
        body = _dumps(json if json is not None else {})
        try:
            reply = self._pool.urlopen("POST", url, body=body, headers=self.headers, redirect=False, retries=False,
                                       timeout=urllib3.Timeout(connect=timeout, read=timeout))
        except ProxyError as exc:
            raise requests.exceptions.ProxyError(f"{type(exc).__name__}: {exc}") from None
        except NewConnectionError as exc:  # a subclass of the connect timeout, kept apart as requests does
            raise requests.ConnectionError(f"{type(exc).__name__}: {exc}") from None
        except TimeoutError as exc:
            raise requests.Timeout(f"{type(exc).__name__}: {exc}") from None
        except (HTTPError, OSError) as exc:
            raise requests.ConnectionError(f"{type(exc).__name__}: {exc}") from None
        return LeanResponse(reply.status, reply.data, reply.headers)

    def close(self) -> None:
        self._pool.clear()


def _dumps(value: Any) -> bytes:
    """As requests encodes `json=`: NaN and infinities refused, UTF-8."""
    return json.dumps(value, allow_nan=False, separators=(",", ":")).encode()
