"""Domain events: immutable facts, each about one aggregate.

Events are the system of record, so they carry only JSON-friendly values (str, int, float,
bool, None, datetime, lists and dicts of those). `to_payload`/`event_from_payload` are the one
place that turns them into plain dicts and back, so every store round-trips them the same way.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from domain.errors import DomainError
from domain.event_ids import new_event_id


def utc_now() -> datetime:
    return datetime.now(UTC)


_ENVELOPE = ("event_id", "occurred_at", "aggregate_id")
_REGISTRY: dict[str, type[DomainEvent]] = {}


class UnknownEventType(DomainError):
    """A stored event names a type this code base does not know."""


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    aggregate_id: str
    event_id: str = field(default_factory=new_event_id)
    occurred_at: datetime = field(default_factory=utc_now)

    stream_prefix: ClassVar[str] = "aggregate"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            raise DomainError(f"{type(self).__name__}.occurred_at must be timezone-aware (UTC)")

    @classmethod
    def event_type(cls) -> str:
        return cls.__name__

    @property
    def stream_id(self) -> str:
        return f"{self.stream_prefix}-{self.aggregate_id}"

    def to_payload(self) -> dict[str, Any]:
        """The event's own fields, without the envelope (id, time, aggregate)."""
        return {
            f.name: _encode(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if f.name not in _ENVELOPE
        }


E = TypeVar("E", bound=DomainEvent)


def event_class(event_type: str) -> type[DomainEvent]:
    try:
        return _REGISTRY[event_type]
    except KeyError:
        raise UnknownEventType(f"unknown event type {event_type!r}") from None


def event_from_payload(
    event_type: str, payload: dict[str, Any], *, event_id: str, occurred_at: datetime, aggregate_id: str
) -> DomainEvent:
    cls = event_class(event_type)
    kwargs = {name: _decode(payload[name], hint) for name, hint in _own_fields(cls) if name in payload}
    return cls(event_id=event_id, occurred_at=occurred_at, aggregate_id=aggregate_id, **kwargs)


_FIELDS: dict[type[DomainEvent], tuple[tuple[str, Any], ...]] = {}


def _own_fields(cls: type[DomainEvent]) -> tuple[tuple[str, Any], ...]:
    """Field names and resolved hints, computed once per class: get_type_hints is slow."""
    if cls not in _FIELDS:
        hints = typing.get_type_hints(cls)
        _FIELDS[cls] = tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls) if f.name not in _ENVELOPE)
    return _FIELDS[cls]


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


def _decode(value: Any, hint: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            if arg is not type(None):
                return _decode(value, arg)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if origin is tuple:
        args = typing.get_args(hint)
        inner = args[0] if args else Any
        return tuple(_decode(v, inner) for v in value)
    return value


# --- Strategy lifecycle -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StrategyEvent(DomainEvent):
    stream_prefix: ClassVar[str] = "strategy"


@dataclass(frozen=True, kw_only=True)
class StrategyGenerated(StrategyEvent):
    name: str
    strategy_type: str
    timeframe: str
    code: str
    generator: str
    prompt: str | None = None
    pattern_id: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    """How it was made: provider, model, template version, pattern ids, code hash, tokens, cost, attempts."""


@dataclass(frozen=True, kw_only=True)
class BacktestCompleted(StrategyEvent):
    """One backtest run; a strategy may be backtested many times (symbols, periods)."""

    backtest_id: str
    symbol: str
    timeframe: str
    period_start: datetime
    period_end: datetime
    total_trades: int
    win_rate: float
    sharpe: float
    total_return: float
    max_drawdown: float
    expectancy: float
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class StrategyTested(StrategyEvent):
    backtest_id: str


@dataclass(frozen=True, kw_only=True)
class StrategySelected(StrategyEvent):
    score: float
    rank: int


@dataclass(frozen=True, kw_only=True)
class StrategyDeployed(StrategyEvent):
    subaccount: int
    mode: str


@dataclass(frozen=True, kw_only=True)
class StrategyRetired(StrategyEvent):
    reason: str


# --- Trading, per subaccount --------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SubaccountEvent(DomainEvent):
    stream_prefix: ClassVar[str] = "subaccount"


@dataclass(frozen=True, kw_only=True)
class SubaccountFunded(SubaccountEvent):
    amount: float


@dataclass(frozen=True, kw_only=True)
class OrderPlaced(SubaccountEvent):
    order_id: str
    strategy_id: str
    symbol: str
    side: str
    size: float
    reduce_only: bool = False
    stop_loss: float | None = None
    take_profit: float | None = None


@dataclass(frozen=True, kw_only=True)
class OrderFilled(SubaccountEvent):
    order_id: str
    strategy_id: str
    symbol: str
    side: str
    size: float
    price: float
    fee: float
    filled_at: datetime
    fill_id: str | None = None
    """The venue's id for the execution, when known: a fill read twice is recorded once."""


@dataclass(frozen=True, kw_only=True)
class TradeClosed(SubaccountEvent):
    trade_id: str
    strategy_id: str
    symbol: str
    direction: str
    size: float
    entry_price: float
    exit_price: float
    entry_time: datetime
    exit_time: datetime
    pnl: float
    fees: float
    exit_reason: str


@dataclass(frozen=True, kw_only=True)
class PortfolioSnapshotTaken(SubaccountEvent):
    strategy_id: str | None
    equity: float
    cash: float
    realized_pnl: float
    unrealized_pnl: float
    peak_equity: float
    drawdown: float
    daily_pnl: float
    open_positions: int


# --- Added for the lifecycle: a re-ranking drops a selected strategy back to TESTED --------


@dataclass(frozen=True, kw_only=True)
class StrategyDeselected(StrategyEvent):
    reason: str


# Research runs (validation, generation, pipeline) live in their own module; importing it here
# registers their event types for every store that decodes through this module.
import domain.execution_events  # noqa: E402 - after SubaccountEvent, which its events extend
import domain.paper_events  # noqa: E402 - after DomainEvent, which its events extend
import domain.research_events  # noqa: E402 - after DomainEvent, which its events extend
import domain.scheduler_events  # noqa: E402, F401 - after DomainEvent, which its events extend
