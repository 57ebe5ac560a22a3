"""Use case: generate a batch of strategies, each through the gate, stored with its provenance.

Types and timeframes rotate over config (or are fixed by the request); a `PAT` entry in the
type rotation asks for a pattern-seeded strategy. A strategy that passes the gate is stored as
StrategyGenerated under `Strategy_{TYPE}_{8 hex}`, its id derived from its normalised code, so the
same strategy found twice is stored once. One that never passes is a GenerationRejected event with
every attempt's errors, and the batch goes on. The spending cap ends the batch early; what was
generated before it stays stored.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from application.event_codec import encode
from application.generation_policy import PATTERN_TYPE, GenerationPolicy
from application.ports.ai_provider import NoProviderAvailable, SpendingCapReached
from application.ports.candle_source import CandleSource
from application.ports.clock import Clock
from application.ports.event_store import EventStore
from application.ports.pattern_source import Pattern, PatternSource, PatternSourceError
from application.register_strategy import RegisterStrategy
from application.strategy_authoring import Author, Authored
from application.strategy_repository import StrategyRepository
from application.validate_strategy import ValidateStrategy, ValidationRequest
from domain.backtest import InsufficientData, InvalidMarketData
from domain.research_events import GenerationRejected
from domain.strategy_code import code_fingerprint

logger = logging.getLogger(__name__)

Status = Literal["stored", "duplicate", "rejected"]
Progress = Callable[[int, int, str], None]
_NAMESPACE = uuid.UUID("6b1d2c1e-5b7c-4c55-9a0e-51b7c0de0002")


def generated_strategy_id(code: str) -> str:
    """Same normalised code, same id, whoever wrote it and whatever it is called."""
    return str(uuid.uuid5(_NAMESPACE, code_fingerprint(code)))


@dataclass(frozen=True)
class GenerationRequest:
    count: int
    strategy_type: str | None = None
    timeframe: str | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"count must be at least 1, got {self.count}")


@dataclass
class GeneratedStrategy:
    index: int
    status: Status
    strategy_type: str
    timeframe: str
    provider: str
    model: str
    name: str | None = None
    strategy_id: str | None = None
    pattern_id: str | None = None
    attempts: int = 0
    cost_usd: float = 0.0
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class GenerationReport:
    run_id: str
    requested: int
    provider: str
    results: list[GeneratedStrategy] = field(default_factory=list)
    stopped: str | None = None

    @property
    def spent_usd(self) -> float:
        return sum(r.cost_usd for r in self.results)

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status == status)

    def to_json_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "requested": self.requested, "provider": self.provider,
                "stored": self.count("stored"), "duplicates": self.count("duplicate"),
                "rejected": self.count("rejected"), "spent_usd": self.spent_usd, "stopped": self.stopped,
                "types": sorted({r.strategy_type for r in self.results if r.status == "stored"}),
                "timeframes": sorted({r.timeframe for r in self.results if r.status == "stored"}),
                "strategies": [r.to_dict() for r in self.results]}


class GenerateStrategies:
    def __init__(self, author: Author, validate: ValidateStrategy, register: RegisterStrategy,
                 repository: StrategyRepository, events: EventStore, clock: Clock, policy: GenerationPolicy,
                 patterns: PatternSource | None = None, new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self._author = author
        self._validate = validate
        self._register = register
        self._repository = repository
        self._events = events
        self._clock = clock
        self._policy = policy
        self._patterns = patterns
        self._new_id = new_id

    def execute(self, request: GenerationRequest, candles: CandleSource,
                progress: Progress | None = None) -> GenerationReport:
        report = GenerationReport(self._new_id(), request.count, self._author.provider)
        step = progress or (lambda _done, _total, _label: None)
        used_patterns: dict[str, int] = {}
        for index in range(request.count):
            strategy_type, timeframe = self._slot(request, index)
            pattern = self._pattern(timeframe, used_patterns) if strategy_type == PATTERN_TYPE else None
            if strategy_type == PATTERN_TYPE and pattern is None:
                strategy_type = self._fallback_type(index)
            origin = f"generation {report.run_id} #{index}"
            try:
                authored = self._author.write(
                    strategy_type=strategy_type, timeframe=timeframe, seed=request.seed * 100_003 + index,
                    pattern=pattern.to_dict() if pattern else None, origin=origin,
                    gate=partial(self._gate, strategy_type=strategy_type, candles=candles))
            except (SpendingCapReached, NoProviderAvailable) as stop:
                report.stopped = str(stop)
                logger.warning("generation run %s stopped after %d strategies: %s", report.run_id, index, stop)
                break
            report.results.append(self._keep(report.run_id, index, strategy_type, timeframe, authored, pattern))
            step(index + 1, request.count, f"{strategy_type} {timeframe}")
        return report

    def _slot(self, request: GenerationRequest, index: int) -> tuple[str, str]:
        types, frames = self._policy.strategy_types, self._policy.timeframes
        strategy_type = request.strategy_type or types[index % len(types)]
        timeframe = request.timeframe or frames[(index // len(types) + index) % len(frames)]
        return strategy_type, timeframe

    def _fallback_type(self, index: int) -> str:
        regular = [t for t in self._policy.strategy_types if t != PATTERN_TYPE] or ["MOM"]
        logger.info("no pattern available: slot %d gets a %s strategy instead", index, regular[index % len(regular)])
        return regular[index % len(regular)]

    def _pattern(self, timeframe: str, used: dict[str, int]) -> Pattern | None:
        if self._patterns is None:
            return None
        try:
            found = self._patterns.patterns(timeframe=timeframe, limit=20)
        except PatternSourceError as exc:
            logger.warning("no patterns for %s: %s", timeframe, exc)
            return None
        if not found:
            return None
        chosen = min(found, key=lambda p: used.get(p.pattern_id, 0))  # least used first, best first on ties
        used[chosen.pattern_id] = used.get(chosen.pattern_id, 0) + 1
        return chosen

    def _gate(self, code: str, origin: str, timeframe: str, *, strategy_type: str, candles: CandleSource) -> list[str]:
        symbol = self._policy.gate_symbol or candles.default_symbols(timeframe)[0]
        request = ValidationRequest(code=code, origin=origin, symbols=(symbol,), timeframe=timeframe,
                                    scope="code", register=False, record=False)
        try:
            report = self._validate.execute(request, candles)
        except (InsufficientData, InvalidMarketData) as exc:
            return [f"the gate could not run it: {exc}"]
        errors = [str(v) for v in report.violations] + [r for r in report.reasons if not r.startswith("lookahead")]
        if report.declared is not None and report.declared[1] != timeframe:
            errors.append(f"the class says timeframe = {report.declared[1]!r}; it must be {timeframe!r} as asked")
        if report.declared is not None and report.declared[0] != strategy_type:
            errors.append(f"the class says type = {report.declared[0]!r}; it must be {strategy_type!r} as asked")
        return errors

    def _keep(self, run_id: str, index: int, strategy_type: str, timeframe: str, authored: Authored,
              pattern: Pattern | None) -> GeneratedStrategy:
        result = GeneratedStrategy(index, "rejected", strategy_type, timeframe, authored.provider, authored.model,
                                   pattern_id=pattern.pattern_id if pattern else None,
                                   attempts=len(authored.attempts), cost_usd=authored.cost_usd)
        provenance = self._provenance(authored, pattern)
        if not authored.passed or authored.code is None:
            result.reasons = [f"attempt {a.number}: {e}" for a in authored.attempts for e in a.errors]
            event = GenerationRejected(
                aggregate_id=f"{run_id}-{index}", occurred_at=self._clock.now(), strategy_type=strategy_type,
                timeframe=timeframe, provider=authored.provider, reasons=tuple(result.reasons), provenance=provenance)
            self._events.append(event.stream_id, [encode(event, correlation_id=run_id)], 0)
            return result
        strategy_id = generated_strategy_id(authored.code)
        result.name, result.strategy_id = authored.name, strategy_id
        if self._repository.exists(strategy_id):
            result.status = "duplicate"
            return result
        self._register.execute(authored.code, generator=authored.provider, origin=f"generation {run_id}",
                               prompt=authored.prompt, pattern_id=result.pattern_id, name=authored.name,
                               strategy_id=strategy_id, provenance=provenance)
        result.status = "stored"
        return result

    @staticmethod
    def _provenance(authored: Authored, pattern: Pattern | None) -> dict[str, Any]:
        tokens_in, tokens_out = authored.tokens
        found: dict[str, Any] = {
            "provider": authored.provider, "model": authored.model, "template_version": authored.template_version,
            "pattern_ids": [pattern.pattern_id] if pattern else [], "input_tokens": tokens_in,
            "output_tokens": tokens_out, "cost_usd": authored.cost_usd,
            "attempts": [a.to_dict() for a in authored.attempts],
        }
        if authored.code is not None:
            found["code_sha256"] = code_fingerprint(authored.code)
        if pattern is not None:
            found["pattern"] = _plain(pattern.to_dict())
        return found


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
