"""The Anthropic and OpenAI adapters on the real SDKs, with the HTTP endpoints mocked by respx:
what a success costs, and how 429, 500, timeouts and 401 become typed errors without the key."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx

import tests.fakes.respx_httpx2  # noqa: F401  (registers respx's "httpx2" mocker)
from adapters.anthropic.provider import TAKES_TEMPERATURE, AnthropicProvider
from adapters.openai.provider import OpenAIProvider
from application.ports.ai_provider import AIProvider, ProviderRejected, ProviderUnavailable, RateLimited
from application.provider_manager import ProviderManager
from tests.fakes.ai_payloads import (
    ANTHROPIC_KEY,
    ANTHROPIC_URL,
    COMPATIBLE_BASE,
    COMPATIBLE_URL,
    OPENAI_KEY,
    OPENAI_URL,
    anthropic_error,
    anthropic_message,
    chat_completion,
    openai_error,
)

Make = Callable[[], AIProvider]


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(using="httpx2", assert_all_called=True) as router:
        yield router


def claude() -> AnthropicProvider:
    return AnthropicProvider("claude", ANTHROPIC_KEY, "claude-sonnet-4-5", 0.7, 4000)


def codex() -> OpenAIProvider:
    return OpenAIProvider("codex", OPENAI_KEY, "gpt-4.1", 0.7, 4000)


def gemini() -> OpenAIProvider:
    return OpenAIProvider("gemini", OPENAI_KEY, "gemini-2.5-pro", 0.7, 4000, base_url=COMPATIBLE_BASE)


Body = Callable[[str], dict[str, Any]]

# (make the provider, its endpoint, a success body, an error body, its key)
SDKS: dict[str, tuple[Make, str, Body, Body, str]] = {
    "anthropic": (claude, ANTHROPIC_URL, anthropic_message, lambda m: anthropic_error("api_error", m), ANTHROPIC_KEY),
    "openai": (codex, OPENAI_URL, chat_completion, openai_error, OPENAI_KEY),
    "compatible": (gemini, COMPATIBLE_URL, chat_completion, openai_error, OPENAI_KEY),
}
sdk = pytest.mark.parametrize("which", list(SDKS))


def test_anthropic_success_sends_the_prompt_and_prices_the_tokens(mock: respx.MockRouter) -> None:
    route = mock.post(ANTHROPIC_URL).respond(200, json=anthropic_message("class S: ...", 2000, 1000))
    completion = claude().generate("write a strategy", system="you write python")
    assert (completion.text, completion.provider, completion.model) == ("class S: ...", "claude",
                                                                         "claude-sonnet-4-5-20250929")
    assert (completion.input_tokens, completion.output_tokens) == (2000, 1000)
    assert completion.cost_usd == pytest.approx(2000 * 3 / 1e6 + 1000 * 15 / 1e6)
    sent = json.loads(route.calls.last.request.content)
    assert sent["system"] == "you write python" and sent["max_tokens"] == 4000 and sent["model"] == "claude-sonnet-4-5"
    assert sent.get("temperature") == (0.7 if TAKES_TEMPERATURE else None)
    assert sent["messages"] == [{"role": "user", "content": "write a strategy"}]
    assert route.calls.last.request.headers["x-stainless-retry-count"] == "0"


@pytest.mark.parametrize("make", [codex, gemini])
def test_openai_success_sends_the_prompt_and_prices_the_tokens(mock: respx.MockRouter, make: Make) -> None:
    provider = make()
    url = COMPATIBLE_URL if provider.name == "gemini" else OPENAI_URL
    route = mock.post(url).respond(200, json=chat_completion("plain words, no code", 2000, 1000))
    completion = provider.generate("write a strategy", system="you write python")
    assert completion.text == "plain words, no code" and completion.provider == provider.name
    expected = (2000 * 2 + 1000 * 8) / 1e6 if provider.name == "codex" else (2000 * 1.25 + 1000 * 10) / 1e6
    assert completion.cost_usd == pytest.approx(expected)
    sent = json.loads(route.calls.last.request.content)
    assert sent["messages"] == [{"role": "system", "content": "you write python"},
                                {"role": "user", "content": "write a strategy"}]
    assert route.calls.last.request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    tokens_field = "max_tokens" if provider.name == "gemini" else "max_completion_tokens"
    assert sent[tokens_field] == 4000 and sent["temperature"] == 0.7


def test_price_overrides_win_over_the_builtin_table(mock: respx.MockRouter) -> None:
    mock.post(ANTHROPIC_URL).respond(200, json=anthropic_message("x", 1_000_000, 0))
    provider = AnthropicProvider("claude", ANTHROPIC_KEY, "claude-sonnet-4-5", 0.7, 100,
                                 prices={"claude-sonnet-4-5": (7.0, 70.0)})
    assert provider.generate("p").cost_usd == pytest.approx(7.0)


@sdk
def test_a_reply_without_code_is_returned_as_text(mock: respx.MockRouter, which: str) -> None:
    make, url, body, _, _ = SDKS[which]
    mock.post(url).respond(200, json=body("I cannot help with that."))
    assert make().generate("p").text == "I cannot help with that."


@sdk
def test_429_is_rate_limited_with_retry_after_seconds(mock: respx.MockRouter, which: str) -> None:
    make, url, _, error, _ = SDKS[which]
    mock.post(url).respond(429, json=error("slow down"), headers={"retry-after": "7"})
    with pytest.raises(RateLimited) as caught:
        make().generate("p")
    assert caught.value.retry_after == 7.0 and caught.value.retryable


def test_retry_after_as_an_http_date(mock: respx.MockRouter) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    mock.post(ANTHROPIC_URL).respond(429, json=anthropic_error("rate_limit_error", "slow"),
                                     headers={"retry-after": when})
    with pytest.raises(RateLimited) as caught:
        claude().generate("p")
    assert caught.value.retry_after is not None and 100 < caught.value.retry_after <= 120


@sdk
def test_500_is_unavailable(mock: respx.MockRouter, which: str) -> None:
    make, url, _, error, _ = SDKS[which]
    mock.post(url).respond(500, json=error("internal error"))
    with pytest.raises(ProviderUnavailable, match="HTTP 500: internal error"):
        make().generate("p")


def test_anthropic_overloaded_529_is_unavailable(mock: respx.MockRouter) -> None:
    mock.post(ANTHROPIC_URL).respond(529, json=anthropic_error("overloaded_error", "Overloaded"))
    with pytest.raises(ProviderUnavailable, match="529"):
        claude().generate("p")


@sdk
@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ConnectError])
def test_timeouts_and_broken_connections_are_unavailable(mock: respx.MockRouter, which: str,
                                                         failure: type[Exception]) -> None:
    make, url, _, _, _ = SDKS[which]
    mock.post(url).mock(side_effect=failure)
    with pytest.raises(ProviderUnavailable) as caught:
        make().generate("p")
    assert ("timed out" in str(caught.value)) == (failure is not httpx.ConnectError)


@sdk
@pytest.mark.parametrize("status", [400, 401, 404])
def test_client_errors_are_rejected_and_never_show_the_key(mock: respx.MockRouter, which: str, status: int) -> None:
    make, url, _, error, key = SDKS[which]
    mock.post(url).respond(status, json=error(f"Incorrect API key provided: {key}. Also {key[:-3]}xyz"))
    with pytest.raises(ProviderRejected) as caught:
        make().generate("p")
    assert not caught.value.retryable
    assert f"HTTP {status}" in str(caught.value)
    assert key not in str(caught.value) and "SECRETSECRET" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_fallback_from_failing_anthropic_to_openai_through_the_manager(mock: respx.MockRouter) -> None:
    failing = mock.post(ANTHROPIC_URL).respond(500, json=anthropic_error("api_error", "internal error"))
    mock.post(OPENAI_URL).respond(200, json=chat_completion("from openai", 100, 50))
    sleeps: list[float] = []
    manager = ProviderManager([(claude(), 1.0), (codex(), 1.0)], spending_cap_usd=1.0, max_retries=2,
                              failure_threshold=5, sleep=sleeps.append, clock=lambda: 0.0)
    completion = manager.generate("p")
    assert (completion.provider, completion.text, completion.attempts) == ("codex", "from openai", 4)
    assert failing.call_count == 3 and len(sleeps) == 2
    stats = manager.stats()
    assert stats["claude"]["failures"] == 3 and stats["codex"]["calls"] == 1
    assert manager.spent_usd == pytest.approx(completion.cost_usd) and completion.cost_usd > 0


def test_missing_key_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="no API key"):
        AnthropicProvider("claude", "", "claude-sonnet-4-5", 0.7, 100)
    with pytest.raises(ValueError, match="no API key"):
        OpenAIProvider("codex", "", "gpt-4.1", 0.7, 100)
