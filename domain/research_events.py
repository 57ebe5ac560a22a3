"""Events of research runs: validations, generation attempts that failed, pipeline runs, re-rankings.

Each run is a stream of its own (validation-{id}, generation-{id}, pipeline-{id}): code that never
became a strategy still leaves its record, and a killed pipeline run finds its progress here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from domain.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ValidationEvent(DomainEvent):
    """A validation run is its own stream: code that cannot even be parsed still gets its record."""

    stream_prefix: ClassVar[str] = "validation"


@dataclass(frozen=True, kw_only=True)
class ValidationOutcome(ValidationEvent):
    """What both outcomes carry; `strategy_id` is None for code that never became a strategy."""

    strategy_id: str | None
    origin: str
    code_sha256: str
    report: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class StrategyValidated(ValidationOutcome):
    pass


@dataclass(frozen=True, kw_only=True)
class StrategyRejected(ValidationOutcome):
    reasons: tuple[str, ...] = ()


def validation_outcome(*, passed: bool, reasons: tuple[str, ...], validation_id: str, occurred_at: datetime,
                       strategy_id: str | None, origin: str, code_sha256: str,
                       report: dict[str, Any]) -> StrategyValidated | StrategyRejected:
    """The one event a validation leaves: validated, or rejected with its reasons (never none)."""
    common: dict[str, Any] = {"aggregate_id": validation_id, "occurred_at": occurred_at, "strategy_id": strategy_id,
                              "origin": origin, "code_sha256": code_sha256, "report": report}
    if passed:
        return StrategyValidated(**common)
    return StrategyRejected(**common, reasons=reasons or ("rejected",))


@dataclass(frozen=True, kw_only=True)
class GenerationEvent(DomainEvent):
    stream_prefix: ClassVar[str] = "generation"


@dataclass(frozen=True, kw_only=True)
class GenerationRejected(GenerationEvent):
    """A generation attempt that never became valid code: every attempt's errors, for the record."""

    strategy_type: str
    timeframe: str
    provider: str
    reasons: tuple[str, ...] = ()
    provenance: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PipelineEvent(DomainEvent):
    stream_prefix: ClassVar[str] = "pipeline"


@dataclass(frozen=True, kw_only=True)
class PipelineRunStarted(PipelineEvent):
    """What was asked (count, seed, symbols, lookback, hold-out): a resumed run repeats exactly this."""

    request: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PipelineCandidatesChosen(PipelineEvent):
    """The generation stage is done: these strategies are the run's candidates."""

    strategy_ids: tuple[str, ...] = ()
    generation: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class CandidateEvaluated(PipelineEvent):
    """One candidate through every gate: a resumed run never evaluates it again."""

    strategy_id: str
    result: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PipelineRunCompleted(PipelineEvent):
    selected: tuple[str, ...] = ()
    report: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class RankingEvent(DomainEvent):
    stream_prefix: ClassVar[str] = "ranking"


@dataclass(frozen=True, kw_only=True)
class StrategiesReranked(RankingEvent):
    """A re-ranking of every strategy that passed the gates that moved something (written only then).

    `selected` is the new ranking, best first; `deselected` and `unrankable` map an id to why.
    """

    pool: int = 0
    selected: tuple[str, ...] = ()
    newly_selected: tuple[str, ...] = ()
    reranked: tuple[str, ...] = ()
    deselected: dict[str, str] = field(default_factory=dict)
    unrankable: dict[str, str] = field(default_factory=dict)
    current_regimes: dict[str, str] = field(default_factory=dict)
