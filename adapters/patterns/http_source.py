"""PatternSource over HTTP: a pattern-discovery service (config: generation.pattern_discovery).

There is no published spec for the service, so this module defines the API it expects:

    GET {api_url}/patterns?tier=N&min_quality=Q[&timeframe=TF][&strategy_type=T]&limit=L
        tier        the worst tier wanted (1 best): the server returns tiers <= N
        min_quality the lowest quality wanted, 0..1
    200 -> {"patterns": [PATTERN, ...]}   (a bare JSON list of PATTERN is accepted too)

    PATTERN = {"pattern_id": str (optional: derived from the definition when absent),
               "name": str, "description": str, "condition": str (pandas expression over the
               indicator columns of domain/patterns/indicators.py), "direction": "long"|"short",
               "timeframe": str, "horizon_bars": int >= 1, "symbols": [str, ...],
               "test_edge": number, "test_win_rate": number 0..1, "train_edge": number,
               "occurrences": int >= 0, "tier": int >= 1, "quality": number 0..1}

The server is never trusted: tier, quality, timeframe and limit are applied again here, each entry
is validated (a malformed one is skipped with a warning naming it, and the count is logged), and
every pattern is marked source="service". Timeouts and 5xx answers are retried twice with a short
backoff; everything else that goes wrong becomes one PatternSourceError naming the URL.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

import httpx

from application.ports.pattern_source import InvalidPattern, Pattern, PatternSourceError, best_first, pattern_id_for

logger = logging.getLogger(__name__)

RETRIES = 2
_TEXT = ("name", "description", "condition", "direction", "timeframe")
_INTS = ("horizon_bars", "occurrences", "tier")
_FLOATS = ("test_edge", "test_win_rate", "train_edge", "quality")


class HttpPatternSource:
    def __init__(self, api_url: str, *, tier_filter: int, min_quality: float, timeout_seconds: float = 10.0,
                 client: httpx.Client | None = None, sleep: Callable[[float], None] = time.sleep,
                 backoff_seconds: float = 0.5) -> None:
        if not api_url.startswith(("http://", "https://")):
            raise ValueError(f"pattern service URL must be http(s): {api_url!r}")
        if tier_filter < 1 or not 0.0 <= min_quality <= 1.0:
            raise ValueError(f"tier_filter must be >= 1 and min_quality in 0..1, got {tier_filter}, {min_quality}")
        self._url = api_url.rstrip("/") + "/patterns"
        self._tier = tier_filter
        self._min_quality = min_quality
        self._timeout = timeout_seconds
        self._client = client
        self._sleep = sleep
        self._backoff = backoff_seconds

    def patterns(self, *, timeframe: str | None = None, strategy_type: str | None = None,
                 limit: int = 20) -> list[Pattern]:
        if limit <= 0:
            return []
        params: dict[str, str | int | float] = {"tier": self._tier, "min_quality": self._min_quality, "limit": limit}
        if timeframe is not None:
            params["timeframe"] = timeframe
        if strategy_type is not None:
            params["strategy_type"] = strategy_type
        body = self._get(params)
        entries = body.get("patterns") if isinstance(body, dict) else body
        if not isinstance(entries, list):
            raise PatternSourceError(f"pattern service at {self._url} answered JSON without a 'patterns' list")
        parsed = [p for i, e in enumerate(entries) if (p := self._parse(i, e)) is not None]
        if skipped := len(entries) - len(parsed):
            logger.warning("pattern service at %s: skipped %d of %d malformed entries", self._url, skipped,
                           len(entries))
        kept = [p for p in parsed if p.tier <= self._tier and p.quality >= self._min_quality
                and (timeframe is None or p.timeframe == timeframe)]
        unique = list({p.pattern_id: p for p in reversed(kept)}.values())  # first one of an id wins
        return best_first(unique, limit)

    def _get(self, params: dict[str, str | int | float]) -> object:
        """The decoded JSON body; timeouts and 5xx retried RETRIES times with doubling backoff."""
        for attempt in range(RETRIES + 1):
            last = attempt == RETRIES
            try:
                response = self._send(params)
            except httpx.TimeoutException:
                if last:
                    raise PatternSourceError(f"pattern service at {self._url} timed out after {self._timeout}s "
                                             f"({RETRIES + 1} attempts)") from None
            except httpx.HTTPError as exc:
                raise PatternSourceError(f"cannot reach pattern service at {self._url}: "
                                         f"{type(exc).__name__}: {exc}") from None
            else:
                if response.status_code < 500 or last:
                    return self._decode(response)
            delay = self._backoff * 2**attempt
            logger.info("pattern service at %s: attempt %d failed, retrying in %.1fs", self._url, attempt + 1, delay)
            self._sleep(delay)
        raise AssertionError("unreachable")

    def _send(self, params: dict[str, str | int | float]) -> httpx.Response:
        if self._client is not None:
            return self._client.get(self._url, params=params, timeout=self._timeout)
        with httpx.Client(timeout=self._timeout) as client:
            return client.get(self._url, params=params)

    def _decode(self, response: httpx.Response) -> object:
        if response.status_code != 200:
            raise PatternSourceError(f"pattern service at {self._url} answered HTTP {response.status_code}: "
                                     f"{response.text[:200]}")
        try:
            return response.json()
        except ValueError:
            raise PatternSourceError(f"pattern service at {self._url} answered non-JSON: "
                                     f"{response.text[:200]!r}") from None

    def _parse(self, index: int, entry: object) -> Pattern | None:
        """A Pattern from one entry, or None (logged with the entry's id or position) when malformed."""
        label = f"#{index}"
        if isinstance(entry, dict):
            label = f"#{index} ({entry.get('pattern_id') or entry.get('name') or 'unnamed'})"
        try:
            return _pattern(entry)
        except (InvalidPattern, TypeError, ValueError) as exc:
            logger.warning("pattern service at %s: skipping entry %s: %s", self._url, label, exc)
            return None


def _pattern(entry: object) -> Pattern:
    if not isinstance(entry, dict):
        raise TypeError(f"not an object but {type(entry).__name__}")
    fields: dict[str, Any] = {}
    for key in _TEXT:
        fields[key] = _typed(entry, key, str)
    for key in _INTS:
        fields[key] = _typed(entry, key, int)
    for key in _FLOATS:
        value = _typed(entry, key, (int, float))
        if not math.isfinite(value):
            raise ValueError(f"{key} is not finite")
        fields[key] = float(value)
    symbols = entry.get("symbols")
    if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
        raise TypeError("symbols is not a list of strings")
    pattern_id = entry.get("pattern_id")
    if pattern_id is None:
        pattern_id = pattern_id_for(fields["condition"], fields["direction"], fields["timeframe"],
                                    fields["horizon_bars"])
    elif not isinstance(pattern_id, str):
        raise TypeError("pattern_id is not a string")
    return Pattern(pattern_id=pattern_id, symbols=tuple(symbols), source="service", **fields)


def _typed(entry: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in entry:
        raise ValueError(f"{key} is missing")
    value = entry[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{key} is {type(value).__name__}, not {getattr(kind, '__name__', 'a number')}")
    return value
