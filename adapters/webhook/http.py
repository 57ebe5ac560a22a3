"""One POST with a timeout and a small bounded retry, its failures told without the secrets.

Retried (RETRIES times, doubling backoff): timeouts, connection errors, 429 and 5xx answers; a
notification is small and idempotent for the receiver (it carries an id), so sending it again
is safe. Anything else, and the last failed attempt, becomes one NotificationFailed whose text
has every secret (tokens, secret URLs) replaced by `***` and never chains httpx's exception,
whose message and traceback would carry the full URL. httpx itself logs every request's URL
(at INFO, on the "httpx" logger), so each poster's secrets are also scrubbed from that logger's
records, whatever the application's logging setup.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from application.ports.notifier import NotificationFailed

log = logging.getLogger(__name__)

RETRIES = 2
_RETRIED_STATUS = frozenset({429, 500, 502, 503, 504})


class _ScrubHttpxRecords(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()

    def add(self, secrets: tuple[str, ...]) -> None:
        with self._lock:
            self._secrets = tuple(sorted(set(self._secrets) | set(secrets), key=len, reverse=True))
        logging.getLogger("httpx").addFilter(self)  # once: a logger keeps a filter only once

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        scrubbed = text
        for secret in self._secrets:
            scrubbed = scrubbed.replace(secret, "***")
        if scrubbed != text:
            record.msg, record.args = scrubbed, None
        return True


_HTTPX_FILTER = _ScrubHttpxRecords()


def public_origin(url: str) -> str:
    """scheme://host[:port] only: webhook paths and queries often hold the token (Slack, Discord)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")


class HttpPoster:
    def __init__(self, label: str, url: str, *, secrets: Iterable[str], timeout_seconds: float, retries: int = RETRIES,
                 client: httpx.Client | None = None, sleep: Callable[[float], None] = time.sleep,
                 backoff_seconds: float = 0.5) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"{label} URL must be http(s)")
        if timeout_seconds <= 0 or retries < 0:
            raise ValueError(f"{label}: timeout_seconds must be > 0 and retries >= 0")
        self._label = label
        self._url = url
        self._secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
        _HTTPX_FILTER.add(self._secrets)
        self._timeout = timeout_seconds
        self._retries = retries
        self._client = client
        self._sleep = sleep
        self._backoff = backoff_seconds

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def post(self, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> httpx.Response:
        """The 2xx answer; raises NotificationFailed once the retries are spent."""
        for attempt in range(self._retries + 1):
            last = attempt == self._retries
            try:
                response = self._send(body, headers or {})
            except httpx.TimeoutException:
                problem = f"timed out after {self._timeout:g}s"
            except httpx.TransportError as exc:
                problem = f"unreachable: {type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    return response
                problem = f"answered HTTP {response.status_code}: {response.text[:300]}"
                if response.status_code not in _RETRIED_STATUS:
                    raise NotificationFailed(self.scrub(f"{self._label} {problem}"))
            if last:
                raise NotificationFailed(self.scrub(f"{self._label} {problem} ({attempt + 1} attempts)"))
            delay = self._backoff * 2**attempt
            log.info("notification attempt failed, retrying",
                     extra={"target": self._label, "attempt": attempt + 1, "problem": self.scrub(problem),
                            "retry_in_seconds": delay})
            self._sleep(delay)
        raise AssertionError("unreachable")

    def _send(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> httpx.Response:
        if self._client is not None:
            return self._client.post(self._url, json=dict(body), headers=dict(headers), timeout=self._timeout)
        with httpx.Client(timeout=self._timeout) as client:
            return client.post(self._url, json=dict(body), headers=dict(headers))
