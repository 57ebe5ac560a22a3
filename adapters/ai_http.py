"""What the Anthropic and OpenAI adapters share: prices, HTTP status → typed error, redaction.

Both SDKs report the same HTTP facts (a status, headers, a message), so one table decides
what is worth retrying, and one place reads Retry-After and scrubs keys from messages.
Messages are scrubbed because providers echo the key (partly or fully) in 401 bodies and the
text ends up in logs, events and API answers.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from application.ports.ai_provider import ProviderError, ProviderRejected, ProviderUnavailable, RateLimited

Price = tuple[float, float]
"""USD per million (input, output) tokens."""

DEFAULT_PRICE_KEY = "*"

ANTHROPIC_PRICES: Mapping[str, Price] = {
    "claude-opus-4-5": (5.0, 25.0),
    "claude-opus-4": (15.0, 75.0),
    "claude-sonnet-4": (3.0, 15.0),
    "claude-3-7-sonnet": (3.0, 15.0),
    "claude-haiku-4-5": (1.0, 5.0),
    "claude-3-5-haiku": (0.8, 4.0),
    DEFAULT_PRICE_KEY: (3.0, 15.0),
}
"""Model-id prefixes (dated ids such as claude-sonnet-4-5-20250929 match); unknown models
cost like Sonnet, so the spending cap still counts them."""

OPENAI_PRICES: Mapping[str, Price] = {
    "gpt-5-nano": (0.05, 0.4),
    "gpt-5-mini": (0.25, 2.0),
    "gpt-5": (1.25, 10.0),
    "gpt-4.1-nano": (0.1, 0.4),
    "gpt-4.1-mini": (0.4, 1.6),
    "gpt-4.1": (2.0, 8.0),
    "gpt-4o-mini": (0.15, 0.6),
    "gpt-4o": (2.5, 10.0),
    "o4-mini": (1.1, 4.4),
    "o3": (2.0, 8.0),
    "gemini-2.5-flash": (0.3, 2.5),
    "gemini-2.5-pro": (1.25, 10.0),
    DEFAULT_PRICE_KEY: (2.0, 8.0),
}
"""OpenAI models and the Gemini models reached through its OpenAI-compatible endpoint."""

_RETRYABLE_4XX = {408, 409}
_SDK_PREFIX = re.compile(r"^Error code: \d+ - ")
_KEY_LIKE = re.compile(r"\b(sk-[A-Za-z0-9_\-]{6,}|AIza[0-9A-Za-z_\-]{20,})")


class PriceTable:
    """Longest-prefix lookup of a model's price; `overrides` win over the built-in table."""

    def __init__(self, builtin: Mapping[str, Price], overrides: Mapping[str, Price] | None = None) -> None:
        self._prices = {**builtin, **(overrides or {})}
        for model, (input_price, output_price) in self._prices.items():
            if not (input_price >= 0 and output_price >= 0):
                raise ValueError(f"price of {model!r} must be non-negative, got {(input_price, output_price)}")

    def price(self, model: str) -> Price:
        matches = [key for key in self._prices if key != DEFAULT_PRICE_KEY and model.startswith(key)]
        return self._prices[max(matches, key=len)] if matches else self._prices[DEFAULT_PRICE_KEY]

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float:
        input_price, output_price = self.price(model)
        return (input_tokens * input_price + output_tokens * output_price) / 1_000_000


def redact(text: str, secret: str) -> str:
    """`text` without `secret` and without anything shaped like an OpenAI, Anthropic or Google key."""
    if secret:
        text = text.replace(secret, "***")
    return _KEY_LIKE.sub("***", text)


def short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def status_error(provider: str, status: int, headers: Mapping[str, str], message: str,
                 secret: str) -> ProviderError:
    """The typed error of one HTTP error answer: 429 → RateLimited, 408/409/5xx → unavailable,
    any other 4xx → rejected (a bad key or request stays bad however often it is sent)."""
    text = f"HTTP {status}: {short(redact(_SDK_PREFIX.sub('', message), secret))}"
    if status == 429:
        return RateLimited(provider, text, retry_after=retry_after_seconds(headers))
    if status >= 500 or status in _RETRYABLE_4XX:
        return ProviderUnavailable(provider, text)
    return ProviderRejected(provider, text)


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms` (OpenAI) or `retry-after` (delta-seconds or an
    HTTP date); None when absent or unreadable, so the manager falls back to its backoff."""
    lowered = {key.lower(): value for key, value in headers.items()}
    millis = _number(lowered.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    value = lowered.get("retry-after")
    if not value:
        return None
    seconds = _number(value)
    if seconds is None:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - (time.time() if now is None else now)
        except (TypeError, ValueError, IndexError):
            return None
    return max(0.0, seconds)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def check_settings(name: str, api_key: str, max_tokens: int, timeout_seconds: float) -> None:
    """Refuse a provider that could never make a call, at construction (the key itself is never shown)."""
    if not api_key:
        raise ValueError(f"AI provider {name!r}: no API key")
    if max_tokens < 1 or timeout_seconds <= 0:
        raise ValueError(f"AI provider {name!r}: max_tokens and timeout_seconds must be positive")
