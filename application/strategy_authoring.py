"""Writing one strategy: an LLM with a repair loop, or the offline composer, both behind one gate.

The gate is the validation use case cut to the code checks (sandbox, static and dynamic
lookahead): whatever wrote the code, it only counts once the gate finds nothing. An LLM gets its
errors back through the fix template, up to `max_fix_attempts` times; the offline composer tries
another seed instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from application.ports.ai_provider import Completion, NoProviderAvailable
from application.ports.prompts import PromptBook
from application.ports.strategy_composer import StrategyComposer
from domain.strategy_code import extract_python, generated_name, rename_strategy_class

Gate = Callable[[str, str, str], list[str]]
"""(code, origin, timeframe asked for) -> the gate's findings, one line each; [] when it passes."""

NO_CODE = "the reply holds no ```python block defining a StrategyCore subclass"


@dataclass
class Attempt:
    number: int
    errors: list[str]
    code: str | None = None
    template: str = "compose"
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"attempt": self.number, "template": self.template, "errors": list(self.errors),
                "input_tokens": self.input_tokens, "output_tokens": self.output_tokens, "cost_usd": self.cost_usd}


@dataclass
class Authored:
    provider: str
    model: str
    code: str | None = None
    name: str | None = None
    prompt: str | None = None
    template_version: str | None = None
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.code is not None and bool(self.attempts) and not self.attempts[-1].errors

    @property
    def cost_usd(self) -> float:
        return sum(a.cost_usd for a in self.attempts)

    @property
    def tokens(self) -> tuple[int, int]:
        return sum(a.input_tokens for a in self.attempts), sum(a.output_tokens for a in self.attempts)


class Author(Protocol):
    provider: str

    def write(self, *, strategy_type: str, timeframe: str, pattern: Mapping[str, Any] | None, seed: int,
              origin: str, gate: Gate) -> Authored: ...


def named(code: str, strategy_type: str) -> tuple[str, str]:
    """(name, code with its class renamed to it): `Strategy_{TYPE}_{8 hex}` of the normalised code."""
    name = generated_name(strategy_type, code)
    return name, rename_strategy_class(code, name)


class Generates(Protocol):
    def generate(self, prompt: str, *, system: str | None = None) -> Completion: ...


class LlmAuthor:
    """Prompts through the provider manager (rotation, fallback, retries, spending cap)."""

    def __init__(self, ai: Generates, prompts: PromptBook, max_fix_attempts: int, label: str = "ai") -> None:
        self._ai = ai
        self._prompts = prompts
        self._max_fix = max_fix_attempts
        self.provider = label

    def write(self, *, strategy_type: str, timeframe: str, pattern: Mapping[str, Any] | None, seed: int,
              origin: str, gate: Gate) -> Authored:
        rendered = self._prompts.generate(strategy_type=strategy_type, timeframe=timeframe, pattern=pattern)
        out = Authored(provider=self.provider, model="", prompt=rendered.text, template_version=rendered.version)
        for number in range(1, self._max_fix + 2):
            completion = self._ai.generate(rendered.text, system=rendered.system)  # SpendingCapReached: up
            out.provider, out.model = completion.provider, completion.model
            code = extract_python(completion.text)
            name = None
            if code is None:
                errors = [NO_CODE]
            else:
                name, code = named(code, strategy_type)
                errors = gate(code, origin, timeframe)
            out.attempts.append(Attempt(number, errors, code, rendered.template, completion.input_tokens,
                                        completion.output_tokens, completion.cost_usd))
            if not errors:
                out.code, out.name = code, name
                return out
            rendered = self._prompts.fix(code=code or completion.text[:4000], errors=errors,
                                         strategy_type=strategy_type, timeframe=timeframe)
        return out


class OfflineAuthor:
    """The grammar composer: no key, no network, the same gate; a failed seed is followed by another."""

    provider = "offline"

    def __init__(self, composer: StrategyComposer, max_fix_attempts: int) -> None:
        self._composer = composer
        self._max_fix = max_fix_attempts

    def write(self, *, strategy_type: str, timeframe: str, pattern: Mapping[str, Any] | None, seed: int,
              origin: str, gate: Gate) -> Authored:
        out = Authored(provider="offline", model="grammar")
        for number in range(1, self._max_fix + 2):
            composed = self._composer.compose(strategy_type=strategy_type, timeframe=timeframe,
                                              seed=seed + 7919 * (number - 1), pattern=pattern)
            name, code = named(composed.code, strategy_type)
            errors = gate(code, origin, timeframe)
            out.attempts.append(Attempt(number, errors, code))
            out.prompt = out.prompt or f"offline composer: {composed.description} ({', '.join(composed.blocks)})"
            if not errors:
                out.code, out.name = code, name
                return out
        return out


class FallbackAuthor:
    """LLM providers first; when every one of them is failing, the offline composer for the rest of the run.

    Only used when `generation.offline_fallback` allows it; the switch is logged and each
    strategy's provenance says who wrote it.
    """

    def __init__(self, primary: Author, fallback: Author, log: Callable[[str], None]) -> None:
        self._primary: Author | None = primary
        self._fallback = fallback
        self._log = log
        self.provider = primary.provider

    def write(self, *, strategy_type: str, timeframe: str, pattern: Mapping[str, Any] | None, seed: int,
              origin: str, gate: Gate) -> Authored:
        if self._primary is not None:
            try:
                return self._primary.write(strategy_type=strategy_type, timeframe=timeframe, pattern=pattern,
                                           seed=seed, origin=origin, gate=gate)
            except NoProviderAvailable as exc:
                self._log(f"every AI provider is failing ({exc}); the offline generator takes over")
                self._primary = None
                self.provider = self._fallback.provider
        return self._fallback.write(strategy_type=strategy_type, timeframe=timeframe, pattern=pattern, seed=seed,
                                    origin=origin, gate=gate)
