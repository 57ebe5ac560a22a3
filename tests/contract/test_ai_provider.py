"""One suite for every AIProvider adapter: the shape of a Completion and of a failure.

The scripted provider stands in for the real ones in use-case tests, so it must behave like
them: the SDK adapters run here on their real SDKs with the HTTP endpoints mocked by respx.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import respx

import tests.fakes.respx_httpx2  # noqa: F401  (registers respx's "httpx2" mocker)
from adapters.anthropic.provider import AnthropicProvider
from adapters.memory.ai_provider import ScriptedProvider
from adapters.openai.provider import OpenAIProvider
from application.ports.ai_provider import AIProvider, Completion, ProviderError, ProviderUnavailable
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


@dataclass
class Harness:
    provider: AIProvider
    answer: Callable[[str], None]
    """Arrange the next call to answer this text."""
    fail: Callable[[], None]
    """Arrange the next call to fail as a server error would."""


def scripted() -> Harness:
    queue: deque[str | Exception] = deque()

    def replies() -> Iterator[str | Exception]:
        while True:
            yield queue.popleft() if queue else ProviderUnavailable("scripted", "nothing arranged")

    return Harness(ScriptedProvider("scripted", replies(), cost_per_call=0.01), queue.append,
                   lambda: queue.append(ProviderUnavailable("scripted", "HTTP 500: boom")))


def over_http(router: respx.MockRouter, provider: AIProvider, url: str,
              body: Callable[[str], dict[str, object]], error: dict[str, object]) -> Harness:
    route = router.post(url)

    def answer(text: str) -> None:
        route.respond(200, json=body(text))

    def fail() -> None:
        route.respond(500, json=error)

    return Harness(provider, answer, fail)


@pytest.fixture(params=["scripted", "anthropic", "openai", "compatible"])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    if request.param == "scripted":
        yield scripted()
        return
    with respx.mock(using="httpx2", assert_all_called=False) as router:
        if request.param == "anthropic":
            yield over_http(router, AnthropicProvider("claude", ANTHROPIC_KEY, "claude-sonnet-4-5", 0.7, 1000),
                            ANTHROPIC_URL, anthropic_message, anthropic_error("api_error", "boom"))
        elif request.param == "openai":
            yield over_http(router, OpenAIProvider("codex", OPENAI_KEY, "gpt-4.1", 0.7, 1000),
                            OPENAI_URL, chat_completion, openai_error("boom", "server_error"))
        else:
            yield over_http(router, OpenAIProvider("gemini", OPENAI_KEY, "gemini-2.5-flash", 0.7, 1000,
                                                   base_url=COMPATIBLE_BASE),
                            COMPATIBLE_URL, chat_completion, openai_error("boom", "server_error"))


def test_a_completion_has_the_text_and_its_accounting(harness: Harness) -> None:
    harness.answer("```python\nclass Momentum: ...\n```")
    completion = harness.provider.generate("write a momentum strategy", system="you write python")
    assert isinstance(completion, Completion)
    assert completion.text == "```python\nclass Momentum: ...\n```"
    assert completion.provider == harness.provider.name
    assert isinstance(completion.model, str) and completion.model
    assert isinstance(completion.input_tokens, int) and completion.input_tokens > 0
    assert isinstance(completion.output_tokens, int) and completion.output_tokens > 0
    assert isinstance(completion.cost_usd, float) and completion.cost_usd > 0
    assert completion.attempts == 1


def test_the_system_prompt_is_optional(harness: Harness) -> None:
    harness.answer("ok")
    assert harness.provider.generate("p").text == "ok"


def test_consecutive_calls_get_their_own_answers(harness: Harness) -> None:
    harness.answer("first")
    assert harness.provider.generate("p").text == "first"
    harness.answer("second")
    assert harness.provider.generate("p").text == "second"


def test_a_server_failure_is_a_retryable_provider_error(harness: Harness) -> None:
    harness.fail()
    with pytest.raises(ProviderError) as caught:
        harness.provider.generate("p")
    assert caught.value.retryable and caught.value.provider == harness.provider.name


def test_an_adapter_recovers_after_a_failure(harness: Harness) -> None:
    harness.fail()
    with pytest.raises(ProviderUnavailable):
        harness.provider.generate("p")
    harness.answer("back")
    assert harness.provider.generate("p").text == "back"
