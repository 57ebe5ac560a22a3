"""The HTTP client under the Hyperliquid SDK: what its `API.post` uses of `requests.Session`, on
the standard library's http.client directly.

The SDK posts every request through `self.session.post(url, json=..., timeout=...)`. Measured
against the fake in its own process, one request costs ~0.42 ms of CPU through requests, ~0.2
through urllib3 and ~0.1 through http.client; with ten subaccounts deciding on one bar (~55
requests) the client's CPU is most of the time from candle close to order ack, and this client
took the bench's p99 from ~85 to ~70 ms (bench/live_loop.py, docs/live.md "Latency").

Behaviour kept from requests: the proxy variables (NO_PROXY honoured; through a proxy, urllib3's
ProxyManager sends) and the CA bundle variables (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, else
certifi's), read once when the session is built; TLS verified, host name included; keep-alive
connections shared by every thread, one the venue closed while idle replaced before use; gzip and
deflate bodies decoded; no redirects, no retries (a signed action is sent once; the transport
decides what is retried); failures raised as `requests.ConnectionError` (`SSLError` for TLS) and
`requests.Timeout`, and a reply whose body is not JSON raises ValueError from `json()`.
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import select
import socket
import ssl
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import certifi
import requests
import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, ProxyError
from urllib3.exceptions import TimeoutError as ProxiedTimeout

CONNECTIONS = 32
"""Idle connections kept: above the threads that can post at once (deciding subaccounts plus the
background reads), so none is opened and thrown away per request."""
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
    """One connection pool for every SDK client of a transport (Info and one Exchange per vault),
    to the one venue at `base_url`."""

    def __init__(self, base_url: str) -> None:
        self.headers = dict(HEADERS)
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the venue URL must be http(s)://host[:port], got {base_url!r}")
        self.proxy = requests.utils.get_environ_proxies(base_url).get(parts.scheme)
        self.ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
        self._direct = None if self.proxy else _Connections(parts.scheme, parts.hostname, parts.port, self.ca_bundle)
        self._proxied = urllib3.ProxyManager(self.proxy, maxsize=CONNECTIONS, retries=False, cert_reqs="CERT_REQUIRED",
                                             ca_certs=self.ca_bundle) if self.proxy else None

    def post(self, url: str, json: Any = None, timeout: float | None = None) -> LeanResponse:
        body = _dumps(json if json is not None else {})
        if self._direct is not None:
            return self._direct.post(url, body, self.headers, timeout)
        assert self._proxied is not None
        try:
            reply = self._proxied.urlopen("POST", url, body=body, headers=self.headers, redirect=False, retries=False,
                                          timeout=urllib3.Timeout(connect=timeout, read=timeout))
        except ProxyError as exc:
            raise requests.exceptions.ProxyError(f"{type(exc).__name__}: {exc}") from None
        except NewConnectionError as exc:  # a subclass of the connect timeout, kept apart as requests does
            raise requests.ConnectionError(f"{type(exc).__name__}: {exc}") from None
        except ProxiedTimeout as exc:
            raise requests.Timeout(f"{type(exc).__name__}: {exc}") from None
        except (HTTPError, OSError) as exc:
            raise requests.ConnectionError(f"{type(exc).__name__}: {exc}") from None
        return LeanResponse(reply.status, reply.data, reply.headers)

    def close(self) -> None:
        if self._direct is not None:
            self._direct.close()
        if self._proxied is not None:
            self._proxied.clear()


class _Connections:
    """Keep-alive connections to one host, taken by one request at a time."""

    def __init__(self, scheme: str, host: str, port: int | None, ca_bundle: str) -> None:
        self._scheme, self._host, self._port = scheme, host, port
        self._tls = ssl.create_default_context(cafile=ca_bundle) if scheme == "https" else None
        self._idle: queue.LifoQueue[http.client.HTTPConnection] = queue.LifoQueue()

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float | None) -> LeanResponse:
        parts = urlsplit(url)
        if parts.hostname != self._host or parts.port != self._port or parts.scheme != self._scheme:
            raise requests.ConnectionError(f"this session posts to its venue only, not {parts.netloc}")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection = self._connection(timeout)
        answered = False
        try:
            connection.request("POST", path, body=body, headers=headers)
            reply = connection.getresponse()
            content = _decoded(reply.read(), reply.headers.get("Content-Encoding"))
            answered = True
        except Exception as exc:  # noqa: BLE001 - every failure is translated, none is kept
            raise _translated(exc) from None
        finally:
            if not answered:
                connection.close()  # its state is unknown: never sent on again
        if reply.will_close or connection.sock is None or self._idle.qsize() >= CONNECTIONS:
            connection.close()
        else:
            self._idle.put(connection)
        return LeanResponse(reply.status, content, reply.headers)

    def _connection(self, timeout: float | None) -> http.client.HTTPConnection:
        while True:
            try:
                idle = self._idle.get_nowait()
            except queue.Empty:
                break
            if idle.sock is not None and not _dropped(idle.sock):
                idle.sock.settimeout(timeout)
                return idle
            idle.close()
        if self._tls is not None:
            return http.client.HTTPSConnection(self._host, self._port, timeout=timeout, context=self._tls)
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


def _dropped(sock: socket.socket) -> bool:
    """An idle keep-alive connection that can be read from was closed by the server (or holds
    bytes nobody asked for): not to be sent on."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _decoded(content: bytes, encoding: str | None) -> bytes:
    if not encoding or encoding == "identity":
        return content
    if encoding == "gzip":
        return zlib.decompress(content, 16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        try:
            return zlib.decompress(content)
        except zlib.error:
            return zlib.decompress(content, -zlib.MAX_WBITS)  # raw deflate, as some servers send it
    raise http.client.HTTPException(f"unsupported Content-Encoding {encoding!r}")


def _dumps(value: Any) -> bytes:
    """As requests encodes `json=`: NaN and infinities refused, UTF-8."""
    return json.dumps(value, allow_nan=False, separators=(",", ":")).encode()


def _translated(exc: Exception) -> Exception:
    if isinstance(exc, ssl.SSLError):
        return requests.exceptions.SSLError(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, TimeoutError):  # socket.timeout too
        return requests.Timeout(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, OSError | http.client.HTTPException | zlib.error):
        return requests.ConnectionError(f"{type(exc).__name__}: {exc}")
    return exc
