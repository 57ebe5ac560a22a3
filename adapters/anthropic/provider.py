"""Claude through the official anthropic SDK (Messages API), behind the AIProvider port.

The SDK's own retries are off (max_retries=0): the ProviderManager retries, backs off and
falls back, and two retry layers would multiply waits and hide failures from its circuit
breaker. Every SDK exception leaves this module as a typed ProviderError without its cause
chain (`from None`), because the SDK's exceptions carry the request and its key header.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from typing import Any

import anthropic

from adapters.ai_http import ANTHROPIC_PRICES, Price, PriceTable, check_settings, redact, short, status_error
from application.ports.ai_provider import Completion, ProviderRejected, ProviderUnavailable

logger = logging.getLogger(__name__)

MAX_TEMPERATURE = 1.0
"""Claude accepts temperatures in [0, 1]; the shared config allows up to 2 (OpenAI's range)."""

TAKES_TEMPERATURE = "temperature" in inspect.signature(anthropic.resources.messages.Messages.create).parameters
"""The 2.x SDK (API version 2026-10-21) has no sampling temperature any more; older SDKs, which
pyproject still allows, do. The setting is sent only where the installed SDK knows it."""


class AnthropicProvider:
    def __init__(self, name: str, api_key: str, model: str, temperature: float, max_tokens: int, *,
                 base_url: str | None = None, timeout_seconds: float = 60.0,
                 prices: Mapping[str, Price] | None = None) -> None:
        check_settings(name, api_key, max_tokens, timeout_seconds)
        self.name = name
        self.model = model
        if TAKES_TEMPERATURE and temperature > MAX_TEMPERATURE:
            logger.warning("ai provider %s: temperature %.2f above Claude's maximum, using %.1f",
                           name, temperature, MAX_TEMPERATURE)
        self.temperature = min(max(temperature, 0.0), MAX_TEMPERATURE)
        self.max_tokens = max_tokens
        self._key = api_key
        self._timeout = timeout_seconds
        self._prices = PriceTable(ANTHROPIC_PRICES, prices)
        self._client = anthropic.Anthropic(api_key=api_key, base_url=base_url, timeout=timeout_seconds,
                                           max_retries=0)

    def __repr__(self) -> str:
        return f"AnthropicProvider(name={self.name!r}, model={self.model!r})"

    def generate(self, prompt: str, *, system: str | None = None) -> Completion:
        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "messages": [{"role": "user", "content": prompt}],
        }
        if TAKES_TEMPERATURE:
            request["temperature"] = self.temperature
        if system:
            request["system"] = system
        try:
            message = self._client.messages.create(**request)
        except anthropic.APIStatusError as exc:
            detail = getattr(exc, "api_message", None) or exc.message
            raise status_error(self.name, exc.status_code, exc.response.headers, detail, self._key) from None
        except anthropic.APITimeoutError:
            raise ProviderUnavailable(self.name, f"timed out after {self._timeout:g} s") from None
        except anthropic.APIConnectionError as exc:
            raise ProviderUnavailable(self.name, f"connection failed: {self._clean(exc)}") from None
        except anthropic.APIError as exc:  # an answer the SDK could not read
            raise ProviderUnavailable(self.name, f"unreadable answer: {self._clean(exc)}") from None
        except anthropic.AnthropicError as exc:  # credentials or client configuration
            raise ProviderRejected(self.name, self._clean(exc)) from None
        text = "".join(block.text for block in message.content if block.type == "text")
        usage = message.usage
        return Completion(text=text, provider=self.name, model=message.model or self.model,
                          input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                          cost_usd=self._prices.cost(self.model, usage.input_tokens, usage.output_tokens))

    def _clean(self, exc: BaseException) -> str:
        return short(redact(str(exc), self._key))
