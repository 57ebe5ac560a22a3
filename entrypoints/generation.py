"""Wiring of strategy generation: which providers, which author, which patterns, from config.

`generation.ai_providers` maps names to adapters: `claude` is Anthropic; `codex`, `gemini` and any
other name are the OpenAI adapter (with the provider's `base_url` for OpenAI-compatible services).
A provider is used when it is enabled and has a key. `--provider offline|anthropic|openai|auto`
narrows the choice; with no usable provider the offline composer is used only if
`generation.offline_fallback` allows it, otherwise the run stops with a message naming the key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from application.generate_strategies import GenerateStrategies
from application.generation_policy import PATTERN_TYPE, GenerationPolicy
from application.ports.ai_provider import AIProvider
from application.ports.candle_source import CandleSource
from application.ports.clock import Clock
from application.ports.event_store import EventStore
from application.ports.pattern_source import PatternSource
from application.provider_manager import ProviderManager
from application.register_strategy import RegisterStrategy
from application.strategy_authoring import Author, FallbackAuthor, LlmAuthor, OfflineAuthor
from application.strategy_repository import StrategyRepository
from application.validate_strategy import ValidateStrategy
from domain.errors import DomainError
from entrypoints.market_data import CACHE_FOLDER
from entrypoints.settings import Settings

logger = logging.getLogger(__name__)

CHOICES = ("auto", "offline", "anthropic", "openai")
_KEY_VARIABLES = {"claude": "ANTHROPIC_API_KEY", "codex": "OPENAI_API_KEY", "gemini": "GEMINI_API_KEY"}


class NoUsableProvider(DomainError):
    """The run asked for AI providers that are disabled or have no key, and offline is not allowed."""


def adapter_kind(name: str) -> str:
    return "anthropic" if name == "claude" or name.startswith("anthropic") else "openai"


def ai_providers(settings: Settings, choice: str) -> tuple[list[tuple[AIProvider, float]], list[str]]:
    """(usable providers with their weights, one line per configured provider that cannot be used).

    The SDKs are imported only for a provider that is used: together they take seconds to import,
    which an offline research run in the live loop's process should not pay."""
    usable: list[tuple[AIProvider, float]] = []
    problems: list[str] = []
    for name, config in settings.generation.ai_providers.items():
        kind = adapter_kind(name)
        if choice not in ("auto", kind):
            continue
        key = config.api_key.get_secret_value()
        if not config.enabled:
            problems.append(f"generation.ai_providers.{name} is disabled (enabled: false)")
            continue
        if not key:
            variable = _KEY_VARIABLES.get(name, f"the key in generation.ai_providers.{name}.api_key")
            problems.append(f"generation.ai_providers.{name} has no API key: set {variable}")
            continue
        usable.append((_provider_class(kind)(name, key, config.model, config.temperature, config.max_tokens,
                           base_url=config.base_url or None), config.weight))
    return usable, problems


def _provider_class(kind: str) -> type[AIProvider]:
    if kind == "anthropic":
        from adapters.anthropic.provider import AnthropicProvider
        return AnthropicProvider
    from adapters.openai.provider import OpenAIProvider
    return OpenAIProvider


def author_for(settings: Settings, choice: str) -> Author:
    from adapters.jinja.prompts import JinjaPromptBook
    from adapters.offline_ai.composer import GrammarComposer

    generation = settings.generation
    offline = OfflineAuthor(GrammarComposer(), generation.max_fix_attempts)
    if choice == "offline":
        return offline
    usable, problems = ai_providers(settings, choice)
    if not usable:
        wanted = "any AI provider" if choice == "auto" else f"a {choice} provider"
        detail = "; ".join(problems) or f"no {choice} provider is configured in generation.ai_providers"
        if not generation.offline_fallback:
            raise NoUsableProvider(f"cannot use {wanted}: {detail} (generation.offline_fallback is false)")
        if choice != "auto":
            logger.warning("cannot use %s: %s; using the offline generator (generation.offline_fallback)",
                           wanted, detail)
        return offline
    manager = ProviderManager(usable, spending_cap_usd=generation.spending_cap_usd, sleep=time.sleep,
                              clock=time.monotonic)
    llm = LlmAuthor(manager, JinjaPromptBook(), generation.max_fix_attempts, label=choice)
    return FallbackAuthor(llm, offline, logger.warning) if generation.offline_fallback else llm


def gate_candles(settings: Settings, data: str, days: int) -> CandleSource:
    """Cached candles where there are some, the seeded synthetic market for the rest."""
    from adapters.candle_files.source import FileCandleSource
    from adapters.synthetic.candle_source import FallbackCandleSource, SyntheticCandleSource

    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    folder = candle_folder(Path(data))
    primary = FileCandleSource(str(folder), settings.trading.symbols) if folder.exists() else None
    return FallbackCandleSource(primary, SyntheticCandleSource(end=end, days=days, seed=7,
                                                               symbols=settings.trading.symbols))


def candle_folder(data: Path) -> Path:
    """`data` itself when it holds candle files; else its `binance/` folder, where `sixbtc data download`
    and the scheduler's daily history job keep their cache, so research sees the downloads."""
    cache = data / CACHE_FOLDER
    if data.is_dir() and not any(data.glob("*.parquet")) and any(cache.glob("*.parquet")):
        return cache
    return data


def build_generation(settings: Settings, choice: str, candles: CandleSource, validate: ValidateStrategy,
                     register: RegisterStrategy, repository: StrategyRepository, events: EventStore, clock: Clock,
                     policy: GenerationPolicy, strategy_type: str | None = None) -> GenerateStrategies:
    symbols = candles.default_symbols(settings.trading.timeframes[0])
    wanted = strategy_type == PATTERN_TYPE or (strategy_type is None and PATTERN_TYPE in policy.strategy_types)
    return GenerateStrategies(author_for(settings, choice), validate, register, repository, events, clock, policy,
                              patterns=pattern_source(settings, candles, symbols) if wanted else None)


def generation_policy_from(settings: Settings) -> GenerationPolicy:
    return GenerationPolicy(strategy_types=tuple(settings.generation.strategy_types),
                            timeframes=tuple(settings.trading.timeframes),
                            max_fix_attempts=settings.generation.max_fix_attempts)


def pattern_source(settings: Settings, candles: CandleSource, symbols: Sequence[str]) -> PatternSource | None:
    """The discovery service when enabled, with the built-in miner behind it; the miner alone otherwise."""
    from adapters.patterns.mined_source import MinedPatternSource

    mined = MinedPatternSource(candles, list(symbols))
    discovery = settings.generation.pattern_discovery
    if not discovery.enabled:
        return mined
    from adapters.patterns.fallback import FallbackPatternSource
    from adapters.patterns.http_source import HttpPatternSource

    service = HttpPatternSource(discovery.api_url, tier_filter=discovery.tier_filter,
                                min_quality=discovery.min_quality_score)
    return FallbackPatternSource(service, mined)
