"""Spread generation over several AI providers and survive their failures, within a budget.

Each call picks a primary provider by smooth weighted round-robin (weights 2:1 give
A B A A B A ...: the heavier provider never waits long, the lighter one is interleaved),
then falls back through the others in their configured order. A retryable failure is tried
again on the same provider with exponential backoff (a Retry-After wins, capped); a rejection
moves on at once, since the same request to the same provider fails the same way.

A circuit breaker keeps a dead provider from eating every call's retries: after
`failure_threshold` consecutive failed tries it is skipped for `cooldown_seconds`, then one
trial try decides (success closes it, failure reopens it). A weight of 0 makes a provider
fallback only.

The spending cap is checked before every try. Cost is known only after a call, so a run
stops on the first call that starts at or above the cap, and may end above it by the cost of
the calls already in flight. The manager itself satisfies the AIProvider port.
"""

from __future__ import annotations

import logging
import math
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal, TypedDict

from application.ports.ai_provider import (
    AIProvider,
    Completion,
    NoProviderAvailable,
    ProviderError,
    RateLimited,
    SpendingCapReached,
)

logger = logging.getLogger(__name__)

CircuitState = Literal["closed", "open", "half_open"]


class ProviderStats(TypedDict):
    calls: int
    failures: int
    cost_usd: float
    input_tokens: int
    output_tokens: int
    circuit: CircuitState


@dataclass
class _Slot:
    provider: AIProvider
    weight: float
    current: float = 0.0
    calls: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    opened_at: float | None = None
    trial: bool = False
    last_error: str = ""


class ProviderManager:
    name = "providers"

    def __init__(self, providers: Sequence[tuple[AIProvider, float]], *, spending_cap_usd: float,
                 max_retries: int = 3, backoff_seconds: float = 1.0, max_backoff_seconds: float = 30.0,
                 failure_threshold: int = 3, cooldown_seconds: float = 300.0,
                 sleep: Callable[[float], None], clock: Callable[[], float], seed: int = 0) -> None:
        names = [provider.name for provider, _ in providers]
        if len(set(names)) != len(names):
            raise ValueError(f"AI provider names must be unique, got {names}")
        weights = [weight for _, weight in providers]
        if any(not (math.isfinite(weight) and weight >= 0) for weight in weights):
            raise ValueError(f"AI provider weights must be finite and >= 0, got {weights}")
        if providers and not any(weights):
            raise ValueError("at least one AI provider needs a positive weight")
        if spending_cap_usd < 0 or max_retries < 0 or backoff_seconds < 0 or max_backoff_seconds < 0:
            raise ValueError("spending cap, retries and backoffs must be >= 0")
        if failure_threshold < 1 or cooldown_seconds < 0:
            raise ValueError("failure_threshold must be >= 1 and cooldown_seconds >= 0")
        self._slots = [_Slot(provider, float(weight)) for provider, weight in providers]
        self.model = ",".join(provider.model for provider, _ in providers)
        self._cap = spending_cap_usd
        self._max_retries = max_retries
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._threshold = failure_threshold
        self._cooldown = cooldown_seconds
        self._sleep = sleep
        self._clock = clock
        self._random = random.Random(seed)
        self._spent = 0.0
        self._lock = threading.Lock()

    @property
    def spent_usd(self) -> float:
        with self._lock:
            return self._spent

    def stats(self) -> dict[str, ProviderStats]:
        with self._lock:
            now = self._clock()
            return {slot.provider.name: ProviderStats(
                calls=slot.calls, failures=slot.failures, cost_usd=slot.cost_usd, input_tokens=slot.input_tokens,
                output_tokens=slot.output_tokens, circuit=self._circuit(slot, now)) for slot in self._slots}

    def generate(self, prompt: str, *, system: str | None = None) -> Completion:
        """A completion from the first provider that delivers; SpendingCapReached once the budget
        is spent, NoProviderAvailable when every provider failed or is open-circuited."""
        with self._lock:
            self._check_cap()
            order = self._order()
        attempts = 0
        errors: dict[str, str] = {}
        for slot in order:
            name = slot.provider.name
            tries = 0
            while True:
                with self._lock:
                    self._check_cap()
                    admitted = self._admit(slot)
                if not admitted:
                    errors[name] = f"circuit open (last error: {slot.last_error})"
                    logger.info("ai %s skipped: circuit open", name, extra={"provider": name, "circuit": "open"})
                    break
                attempts += 1
                tries += 1
                try:
                    completion = slot.provider.generate(prompt, system=system)
                except ProviderError as exc:
                    errors[name] = _describe(exc)
                    with self._lock:
                        opened = self._failed(slot, errors[name])
                        delay = self._delay(exc, tries)
                    if exc.retryable and tries <= self._max_retries and not opened:
                        logger.warning("ai %s failed (%s); retry %d/%d in %.2f s", name, errors[name], tries,
                                       self._max_retries, delay, extra={"provider": name, "attempt": tries,
                                                                        "error": type(exc).__name__,
                                                                        "delay_s": delay})
                        self._sleep(delay)
                        continue
                    logger.warning("ai %s failed (%s); falling back", name, errors[name],
                                   extra={"provider": name, "attempt": tries, "error": type(exc).__name__,
                                          "circuit": "open" if opened else "closed"})
                    break
                except BaseException:
                    with self._lock:
                        slot.trial = False  # a bug in an adapter must not wedge its circuit half-open
                    raise
                with self._lock:
                    self._succeeded(slot, completion)
                return replace(completion, attempts=attempts)
        raise NoProviderAvailable(errors)

    def _check_cap(self) -> None:
        if self._spent >= self._cap:
            raise SpendingCapReached(self._spent, self._cap)

    def _order(self) -> list[_Slot]:
        """The primary by smooth weighted round-robin among providers that may be tried, then
        every other provider in configured order, starting after the primary."""
        now = self._clock()
        candidates = [slot for slot in self._slots if slot.weight > 0 and self._circuit(slot, now) != "open"
                      and not slot.trial]
        if not candidates:
            return list(self._slots)
        total = sum(slot.weight for slot in candidates)
        for slot in candidates:
            slot.current += slot.weight
        primary = max(candidates, key=lambda slot: slot.current)  # first of equals wins
        primary.current -= total
        start = self._slots.index(primary)
        return self._slots[start:] + self._slots[:start]

    def _circuit(self, slot: _Slot, now: float) -> CircuitState:
        if slot.opened_at is None:
            return "closed"
        return "open" if now - slot.opened_at < self._cooldown else "half_open"

    def _admit(self, slot: _Slot) -> bool:
        state = self._circuit(slot, self._clock())
        if state == "open" or (state == "half_open" and slot.trial):
            return False
        slot.trial = state == "half_open"
        slot.calls += 1
        return True

    def _failed(self, slot: _Slot, error: str) -> bool:
        """Book a failed try; True when it leaves the circuit open."""
        slot.failures += 1
        slot.consecutive_failures += 1
        slot.last_error = error
        if slot.trial or (slot.opened_at is None and slot.consecutive_failures >= self._threshold):
            slot.trial = False
            slot.opened_at = self._clock()
            logger.warning("ai %s: circuit open for %.0f s after %d consecutive failures", slot.provider.name,
                           self._cooldown, slot.consecutive_failures,
                           extra={"provider": slot.provider.name, "circuit": "open"})
        return slot.opened_at is not None

    def _succeeded(self, slot: _Slot, completion: Completion) -> None:
        if slot.opened_at is not None:
            logger.info("ai %s: circuit closed", slot.provider.name,
                        extra={"provider": slot.provider.name, "circuit": "closed"})
        slot.trial = False
        slot.opened_at = None
        slot.consecutive_failures = 0
        slot.cost_usd += completion.cost_usd
        slot.input_tokens += completion.input_tokens
        slot.output_tokens += completion.output_tokens
        self._spent += completion.cost_usd

    def _delay(self, exc: ProviderError, tries: int) -> float:
        """Retry-After when the provider gave one, else exponential backoff with a seeded
        jitter in [50 %, 100 %] so parallel workers do not retry in lockstep; both capped."""
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return min(exc.retry_after, self._max_backoff)
        step = min(self._max_backoff, self._backoff * 2.0 ** (tries - 1))
        return step * (0.5 + 0.5 * self._random.random())


def _describe(exc: ProviderError) -> str:
    return f"{type(exc).__name__}: {exc.detail}"
