"""AI provider port: one prompt in, one completion out, failures as typed errors.

Generation talks to several LLM services (Claude, OpenAI, Gemini's OpenAI-compatible endpoint)
that fail in the same few ways. Adapters translate their SDK's exceptions into the errors
below so the ProviderManager can decide by kind alone: retry (RateLimited, ProviderUnavailable),
move on at once (ProviderRejected), or stop (SpendingCapReached). Adapters never retry on
their own; the manager owns retries, fallback and the circuit breaker.

No message built here or by an adapter may carry an API key: errors end up in logs, events
and API answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol

from domain.errors import DomainError


@dataclass(frozen=True)
class Completion:
    """A provider's answer with what it cost; `attempts` counts the tries the manager needed."""

    text: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    attempts: int = 1


class AIProvider(Protocol):
    name: str
    """The provider's config name ("claude", "codex", "gemini"), used in stats and errors."""

    model: str

    def generate(self, prompt: str, *, system: str | None = None) -> Completion:
        """One completion of `prompt`; a ProviderError subclass when the service fails."""
        ...


class AIError(DomainError):
    """Base of everything AI generation raises; a use case catches this one to fall back offline."""


class ProviderError(AIError):
    """One provider failed one call; `retryable` says whether trying it again may help."""

    retryable: ClassVar[bool] = False

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.detail = message

    def __reduce__(self) -> tuple[object, ...]:
        # Rebuilt from the fields, not from the formatted message, so the errors survive
        # pickling between worker processes.
        return (type(self), (self.provider, self.detail), self.__dict__)


class RateLimited(ProviderError):
    """HTTP 429: the provider asks us to slow down, for `retry_after` seconds when it says."""

    retryable = True

    def __init__(self, provider: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(provider, message)
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    """5xx, overload, timeout or a broken connection: the same call may work in a moment."""

    retryable = True


class ProviderRejected(ProviderError):
    """Bad key, bad request, unknown model, no credit: repeating the call cannot help."""


class SpendingCapReached(AIError):
    """The run has spent its budget; no further call is made."""

    def __init__(self, spent_usd: float, cap_usd: float) -> None:
        super().__init__(f"AI spending cap reached: spent ${spent_usd:.4f} of ${cap_usd:.4f}")
        self.spent_usd = spent_usd
        self.cap_usd = cap_usd

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.spent_usd, self.cap_usd))


class NoProviderAvailable(AIError):
    """Every provider failed or sits behind an open circuit; `errors` holds each one's last error."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        listed = "; ".join(f"{name}: {error}" for name, error in errors.items()) or "no AI provider configured"
        super().__init__(f"no AI provider available ({listed})")
        self.errors = dict(errors)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.errors,))
