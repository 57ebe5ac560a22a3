"""Use case: record a strategy's code as a new PENDING strategy (idempotent per code)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from application.ports.clock import Clock
from application.strategy_repository import StrategyRepository
from application.strategy_source import read_header
from domain.lifecycle import Strategy

_NAMESPACE = uuid.UUID("6b1d2c1e-5b7c-4c55-9a0e-51b7c0de0001")


@dataclass(frozen=True)
class Registered:
    strategy_id: str
    name: str
    created: bool


def strategy_id_for(code: str) -> str:
    """Same code, same id: registering twice (a retry, a re-run demo) stores nothing new."""
    return str(uuid.uuid5(_NAMESPACE, hashlib.sha256(code.encode()).hexdigest()))


class RegisterStrategy:
    def __init__(self, repository: StrategyRepository, clock: Clock) -> None:
        self._repository = repository
        self._clock = clock

    def execute(self, code: str, *, generator: str, origin: str = "<strategy>",
                prompt: str | None = None, pattern_id: str | None = None, name: str | None = None,
                strategy_id: str | None = None, provenance: Mapping[str, Any] | None = None) -> Registered:
        """`name`/`strategy_id` default to ones derived from the code; the generator passes its own."""
        header = read_header(code, origin)
        strategy_id = strategy_id or strategy_id_for(code)
        name = name or f"{header.strategy_type}_{header.class_name}_{strategy_id[:8]}"
        if self._repository.exists(strategy_id):
            return Registered(strategy_id, name, created=False)
        strategy = Strategy.generate(
            strategy_id, name, header.strategy_type, header.timeframe, code, generator,
            prompt=prompt, pattern_id=pattern_id, provenance=provenance, at=self._clock.now(),
        )
        self._repository.save(strategy, correlation_id=strategy_id)
        return Registered(strategy_id, name, created=True)
