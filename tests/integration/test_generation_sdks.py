"""Generation end to end through the real SDKs (respx): no code block, broken code repaired, fallback."""

from __future__ import annotations

import httpx
import respx

import tests.fakes.respx_httpx2  # noqa: F401  (registers respx's "httpx2" mocker)
from adapters.anthropic.provider import AnthropicProvider
from adapters.inprocess.sandbox import InProcessSandbox
from adapters.jinja.prompts import JinjaPromptBook
from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.openai.provider import OpenAIProvider
from application.generate_strategies import GenerateStrategies, GenerationRequest
from application.generation_policy import GenerationPolicy
from application.provider_manager import ProviderManager
from application.register_strategy import RegisterStrategy
from application.strategy_authoring import NO_CODE, LlmAuthor
from application.strategy_repository import StrategyRepository
from tests.fakes.ai_payloads import (
    ANTHROPIC_KEY,
    ANTHROPIC_URL,
    OPENAI_KEY,
    OPENAI_URL,
    anthropic_error,
    anthropic_message,
    chat_completion,
)
from tests.unit.test_generate_strategies import CANDLES, GOOD, NOW, PEEKING
from tests.validation_support import validator


def generation(store: InMemoryEventStore, sleeps: list[float]) -> GenerateStrategies:
    claude = AnthropicProvider("claude", ANTHROPIC_KEY, "claude-sonnet-4-5", 0.7, 4000)
    codex = OpenAIProvider("codex", OPENAI_KEY, "gpt-4.1", 0.7, 4000)
    manager = ProviderManager([(claude, 1.0), (codex, 0.0)], spending_cap_usd=5.0, sleep=sleeps.append,
                              clock=lambda: 0.0, max_retries=1)
    clock = ManualClock(NOW)
    author = LlmAuthor(manager, JinjaPromptBook(), 2, label="auto")
    repository = StrategyRepository(store)
    return GenerateStrategies(author, validator(InProcessSandbox(), store), RegisterStrategy(repository, clock),
                              repository, store, clock,
                              GenerationPolicy(strategy_types=("MOM",), timeframes=("1h",), max_fix_attempts=2))


def test_no_code_then_broken_code_then_a_repair_through_the_anthropic_sdk() -> None:
    store, sleeps = InMemoryEventStore(), []
    with respx.mock(using="httpx2", assert_all_called=True) as mock:
        route = mock.post(ANTHROPIC_URL).mock(side_effect=[
            httpx.Response(200, json=anthropic_message("Sure! Here is my idea in words only.")),
            httpx.Response(200, json=anthropic_message(PEEKING)),
            httpx.Response(200, json=anthropic_message(GOOD)),
        ])
        (result,) = generation(store, sleeps).execute(GenerationRequest(count=1), CANDLES).results
    assert result.status == "stored" and result.attempts == 3 and result.provider == "claude"
    bodies = [call.request.content.decode() for call in route.calls]
    assert "Write one new MOM strategy" in bodies[0] and NO_CODE[:20] in bodies[1]
    assert "negative_shift" in bodies[2]
    (event,) = [e for e in store.read_all() if e.event_type == "StrategyGenerated"]
    provenance = event.payload["provenance"]
    assert provenance["input_tokens"] == 3000 and provenance["output_tokens"] == 1500 and provenance["cost_usd"] > 0


def test_a_failing_anthropic_falls_back_to_openai() -> None:
    store, sleeps = InMemoryEventStore(), []
    with respx.mock(using="httpx2", assert_all_called=True) as mock:
        mock.post(ANTHROPIC_URL).mock(return_value=httpx.Response(500, json=anthropic_error("api_error", "down")))
        mock.post(OPENAI_URL).mock(return_value=httpx.Response(200, json=chat_completion(GOOD)))
        (result,) = generation(store, sleeps).execute(GenerationRequest(count=1), CANDLES).results
    assert result.status == "stored" and result.provider == "codex" and result.model.startswith("gpt-4.1")
    assert sleeps  # the failing provider was retried with backoff before the fallback
    assert ANTHROPIC_KEY not in str(store.read_all()) and OPENAI_KEY not in str(store.read_all())
