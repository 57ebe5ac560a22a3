"""API keys: every request that changes state carries a valid X-API-Key; reads too when config says so.

Keys come from the SIXBTC_API_KEYS environment variable only (comma-separated), never from
config.yaml, so a config file copied around carries none. Only their SHA-256 digests are kept and
compared with hmac.compare_digest; each key is also given to the log scrubber. A server with no
key refuses every write with 403 (it could never accept one) instead of running open.

The check is one app-level dependency (`guard`), so an endpoint added later is covered without
anyone remembering to ask for it; `needs_key` is the one rule, shared with the OpenAPI document.
GET /health and GET /ready stay open: liveness and readiness probes carry no secrets.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import Request

from entrypoints.logging_setup import add_secret
from entrypoints.settings import ConfigError, ConfigProblem

API_KEYS_VARIABLE = "SIXBTC_API_KEYS"
HEADER = "X-API-Key"
SCHEME = "ApiKeyHeader"
MIN_KEY_CHARS = 16
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN_PATHS = frozenset({"/health", "/ready"})
HOW_TO = (f"set {API_KEYS_VARIABLE} (comma-separated keys of at least {MIN_KEY_CHARS} characters, e.g. from "
          f"`openssl rand -hex 32`) in the server's environment, restart it, and send one in the {HEADER} header")


class ApiKeyRefused(Exception):
    """A request without the key its method needs; rendered as a problem, never quoting the key sent."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


@dataclass(frozen=True)
class ApiKeys:
    digests: tuple[bytes, ...]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ApiKeys:
        keys = [key.strip() for key in environ.get(API_KEYS_VARIABLE, "").split(",") if key.strip()]
        short = sum(len(key) < MIN_KEY_CHARS for key in keys)
        if short:
            raise ConfigError([ConfigProblem(API_KEYS_VARIABLE, f"{short} of its {len(keys)} keys are shorter than "
                                             f"{MIN_KEY_CHARS} characters; use long random keys")])
        for key in keys:
            add_secret(key)
        return cls(tuple(_digest(key) for key in keys))

    @property
    def count(self) -> int:
        return len(self.digests)

    def accepts(self, candidate: str) -> bool:
        """Every digest is compared, so the time taken does not tell which key came close."""
        digest = _digest(candidate)
        return any([hmac.compare_digest(digest, known) for known in self.digests])


@dataclass(frozen=True)
class ApiAccess:
    keys: ApiKeys
    reads_need_key: bool


def needs_key(method: str, path: str, reads_need_key: bool) -> bool:
    if method.upper() not in READ_METHODS:
        return True
    return reads_need_key and path not in OPEN_PATHS


async def guard(request: Request) -> None:
    """The app-level dependency of every route: raises ApiKeyRefused unless the request may pass."""
    access: ApiAccess = request.app.state.api_access
    route = request.scope.get("route")
    if not needs_key(request.method, getattr(route, "path", request.url.path), access.reads_need_key):
        return
    if not access.keys.count:
        raise ApiKeyRefused(403, "API keys not configured",
                            f"this server has no API keys, so it refuses this request: {HOW_TO}")
    supplied = request.headers.get(HEADER)
    if not supplied:
        raise ApiKeyRefused(401, "API key required", f"this request needs an API key: send it in the {HEADER} header")
    if not access.keys.accepts(supplied):
        raise ApiKeyRefused(401, "Invalid API key", f"the {HEADER} header holds no key this server accepts")


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()
