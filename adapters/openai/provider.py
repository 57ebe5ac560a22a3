"""OpenAI chat completions through the official openai SDK, behind the AIProvider port.

With `base_url` the same adapter serves any OpenAI-compatible service (Gemini's OpenAI
endpoint, a local server). As in the Anthropic adapter, the SDK does not retry (the
ProviderManager does) and SDK exceptions leave as typed errors without their cause chain.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import openai

from adapters.ai_http import OPENAI_PRICES, Price, PriceTable, check_settings, redact, short, status_error
from application.ports.ai_provider import Completion, ProviderRejected, ProviderUnavailable

_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")
"""OpenAI's reasoning models refuse a custom temperature and the legacy max_tokens field."""


class OpenAIProvider:
    def __init__(self, name: str, api_key: str, model: str, temperature: float, max_tokens: int, *,
                 base_url: str | None = None, timeout_seconds: float = 60.0,
                 prices: Mapping[str, Price] | None = None) -> None:
        check_settings(name, api_key, max_tokens, timeout_seconds)
        self.name = name
        self.model = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self._key = api_key
        self._timeout = timeout_seconds
        self._compatible = base_url is not None
        self._prices = PriceTable(OPENAI_PRICES, prices)
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout_seconds, max_retries=0)

    def __repr__(self) -> str:
        return f"OpenAIProvider(name={self.name!r}, model={self.model!r})"

    def generate(self, prompt: str, *, system: str | None = None) -> Completion:
        messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
        request: dict[str, Any] = {"model": self.model, "messages": messages}
        reasoning = not self._compatible and self.model.startswith(_REASONING_PREFIXES)
        if not reasoning:
            request["temperature"] = self.temperature
        # Compatible services know max_tokens; OpenAI itself wants max_completion_tokens.
        request["max_tokens" if self._compatible else "max_completion_tokens"] = self.max_tokens
        try:
            response = self._client.chat.completions.create(**request)
        except openai.APIStatusError as exc:
            raise status_error(self.name, exc.status_code, exc.response.headers, exc.message, self._key) from None
        except openai.APITimeoutError:
            raise ProviderUnavailable(self.name, f"timed out after {self._timeout:g} s") from None
        except openai.APIConnectionError as exc:
            raise ProviderUnavailable(self.name, f"connection failed: {self._clean(exc)}") from None
        except openai.APIError as exc:  # an answer the SDK could not read
            raise ProviderUnavailable(self.name, f"unreadable answer: {self._clean(exc)}") from None
        except openai.OpenAIError as exc:  # credentials or client configuration
            raise ProviderRejected(self.name, self._clean(exc)) from None
        if not response.choices:
            raise ProviderUnavailable(self.name, "answer without choices")
        text = response.choices[0].message.content or ""
        usage = response.usage
        input_tokens = usage.prompt_tokens if usage else _estimate(system or "", prompt)
        output_tokens = usage.completion_tokens if usage else _estimate(text)
        return Completion(text=text, provider=self.name, model=response.model or self.model,
                          input_tokens=input_tokens, output_tokens=output_tokens,
                          cost_usd=self._prices.cost(self.model, input_tokens, output_tokens))

    def _clean(self, exc: BaseException) -> str:
        return short(redact(str(exc), self._key))


def _estimate(*texts: str) -> int:
    """Some compatible services omit usage; about four characters a token keeps the cap counting."""
    return sum(len(text) for text in texts) // 4
