"""The Strategy aggregate: one strategy's life from generation to retirement.

Every change is an event applied by `_apply`, whether it comes from a command now or from the
store on `replay`, so a strategy rebuilt from its stream is the same object that wrote it.
`_apply` also enforces the state machine, so a corrupt stream fails loudly on load.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.errors import CorruptStream, IllegalTransition, InvalidStrategy
from domain.events import (
    BacktestCompleted,
    DomainEvent,
    StrategyDeployed,
    StrategyDeselected,
    StrategyEvent,
    StrategyGenerated,
    StrategyRetired,
    StrategySelected,
    StrategyTested,
    utc_now,
)
from domain.strategy import TIMEFRAMES


class StrategyStatus(StrEnum):
    PENDING = "PENDING"
    TESTED = "TESTED"
    SELECTED = "SELECTED"
    LIVE = "LIVE"
    RETIRED = "RETIRED"


_S = StrategyStatus
_ACTIVE = frozenset({_S.PENDING, _S.TESTED, _S.SELECTED, _S.LIVE})

TRANSITIONS: Mapping[str, tuple[frozenset[StrategyStatus], StrategyStatus | None]] = {
    "mark_tested": (frozenset({_S.PENDING}), _S.TESTED),
    "select": (frozenset({_S.TESTED, _S.SELECTED}), _S.SELECTED),  # from SELECTED: a re-ranking's new rank
    "deselect": (frozenset({_S.SELECTED}), _S.TESTED),
    "deploy": (frozenset({_S.SELECTED}), _S.LIVE),
    "retire": (_ACTIVE, _S.RETIRED),
    "record_backtest": (_ACTIVE, None),
}
"""Per command: the statuses it may start from and the status it leads to (None: unchanged)."""

_ACTION_OF: dict[type[StrategyEvent], str] = {
    StrategyTested: "mark_tested",
    StrategySelected: "select",
    StrategyDeselected: "deselect",
    StrategyDeployed: "deploy",
    StrategyRetired: "retire",
    BacktestCompleted: "record_backtest",
}


def _text(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidStrategy(f"{name} must be a non-empty string, got {value!r}")
    return value


def _finite(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidStrategy(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _timeframe(value: str) -> str:
    if value not in TIMEFRAMES:
        raise InvalidStrategy(f"timeframe must be one of {TIMEFRAMES}, got {value!r}")
    return value


def _when(at: datetime | None) -> datetime:
    return utc_now() if at is None else at


class Strategy:
    """A generated strategy and where it stands; create with `generate` or `replay`."""

    def __init__(self, created: StrategyGenerated) -> None:
        self._pending: list[StrategyEvent] = []
        self.id = created.aggregate_id
        self.name = created.name
        self.strategy_type = created.strategy_type
        self.timeframe = created.timeframe
        self.code = created.code
        self.generator = created.generator
        self.prompt = created.prompt
        self.pattern_id = created.pattern_id
        self.created_at = created.occurred_at
        self.updated_at = created.occurred_at
        self.status = StrategyStatus.PENDING
        self.backtests: tuple[BacktestCompleted, ...] = ()
        self.tested_backtest_id: str | None = None
        self.score: float | None = None
        self.rank: int | None = None
        self.subaccount: int | None = None
        self.mode: str | None = None
        self.deselected_reason: str | None = None
        self.retired_reason: str | None = None
        self.version = 1

    # --- creation ---------------------------------------------------------------------------

    @classmethod
    def generate(
        cls,
        strategy_id: str,
        name: str,
        strategy_type: str,
        timeframe: str,
        code: str,
        generator: str,
        prompt: str | None = None,
        pattern_id: str | None = None,
        *,
        provenance: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> Strategy:
        event = StrategyGenerated(
            aggregate_id=_text("strategy_id", strategy_id),
            occurred_at=_when(at),
            name=_text("name", name),
            strategy_type=_text("strategy_type", strategy_type),
            timeframe=_timeframe(timeframe),
            code=_text("code", code),
            generator=_text("generator", generator),
            prompt=prompt,
            pattern_id=pattern_id,
            provenance=dict(provenance or {}),
        )
        strategy = cls(event)
        strategy._pending.append(event)
        return strategy

    @classmethod
    def replay(cls, events: Iterable[DomainEvent]) -> Strategy:
        """Rebuild from a stored stream; the result has no pending events."""
        iterator = iter(events)
        first = next(iterator, None)
        if not isinstance(first, StrategyGenerated):
            raise CorruptStream(f"a strategy stream must start with StrategyGenerated, got {first!r}")
        strategy = cls(first)
        for event in iterator:
            if event.aggregate_id != strategy.id:
                raise CorruptStream(f"event {event.event_id} is not about strategy {strategy.id}")
            if not isinstance(event, StrategyEvent) or isinstance(event, StrategyGenerated):
                raise CorruptStream(f"{event.event_type()} cannot follow in strategy stream {strategy.id}")
            strategy._apply(event)
        return strategy

    # --- commands ---------------------------------------------------------------------------

    def record_backtest(
        self,
        *,
        backtest_id: str,
        symbol: str,
        timeframe: str,
        period_start: datetime,
        period_end: datetime,
        total_trades: int,
        win_rate: float,
        sharpe: float,
        total_return: float,
        max_drawdown: float,
        expectancy: float,
        metrics: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> None:
        """Keep a backtest's headline numbers; max_drawdown is a positive fraction (0.25 = 25%)."""
        if period_end <= period_start:
            raise InvalidStrategy(f"backtest period ends ({period_end}) before it starts ({period_start})")
        if isinstance(total_trades, bool) or not isinstance(total_trades, int) or total_trades < 0:
            raise InvalidStrategy(f"total_trades must be a non-negative int, got {total_trades!r}")
        if not 0 <= _finite("win_rate", win_rate) <= 1:
            raise InvalidStrategy(f"win_rate must be a fraction in [0, 1], got {win_rate}")
        if _finite("max_drawdown", max_drawdown) < 0:
            raise InvalidStrategy(f"max_drawdown must be a positive fraction, got {max_drawdown}")
        if any(b.backtest_id == backtest_id for b in self.backtests):
            raise InvalidStrategy(f"backtest {backtest_id} is already recorded for {self.id}")
        self._trigger(
            BacktestCompleted(
                aggregate_id=self.id,
                occurred_at=_when(at),
                backtest_id=_text("backtest_id", backtest_id),
                symbol=_text("symbol", symbol),
                timeframe=_text("timeframe", timeframe),
                period_start=period_start,
                period_end=period_end,
                total_trades=total_trades,
                win_rate=float(win_rate),
                sharpe=_finite("sharpe", sharpe),
                total_return=_finite("total_return", total_return),
                max_drawdown=float(max_drawdown),
                expectancy=_finite("expectancy", expectancy),
                metrics=dict(metrics or {}),
            )
        )

    def mark_tested(self, backtest_id: str, *, at: datetime | None = None) -> None:
        """PENDING -> TESTED, on the strength of a backtest this strategy has recorded."""
        self._require("mark_tested")
        if not any(b.backtest_id == backtest_id for b in self.backtests):
            raise InvalidStrategy(f"backtest {backtest_id!r} was never recorded for strategy {self.id}")
        self._trigger(StrategyTested(aggregate_id=self.id, occurred_at=_when(at), backtest_id=backtest_id))

    def select(self, score: float, rank: int, *, at: datetime | None = None) -> None:
        """TESTED -> SELECTED; on a SELECTED strategy, the new score and rank a re-ranking gave it."""
        self._require("select")
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
            raise InvalidStrategy(f"rank must be an int >= 1, got {rank!r}")
        score = _finite("score", score)
        self._trigger(StrategySelected(aggregate_id=self.id, occurred_at=_when(at), score=score, rank=rank))

    def deselect(self, reason: str, *, at: datetime | None = None) -> None:
        """SELECTED -> TESTED when a re-ranking drops it before it ever went live."""
        self._require("deselect")
        reason = _text("reason", reason)
        self._trigger(StrategyDeselected(aggregate_id=self.id, occurred_at=_when(at), reason=reason))

    def deploy(self, subaccount: int, mode: str, *, at: datetime | None = None) -> None:
        self._require("deploy")
        if isinstance(subaccount, bool) or not isinstance(subaccount, int) or subaccount < 0:
            raise InvalidStrategy(f"subaccount must be a non-negative int, got {subaccount!r}")
        self._trigger(
            StrategyDeployed(
                aggregate_id=self.id, occurred_at=_when(at), subaccount=subaccount, mode=_text("mode", mode)
            )
        )

    def retire(self, reason: str, *, at: datetime | None = None) -> None:
        self._require("retire")
        reason = _text("reason", reason)
        self._trigger(StrategyRetired(aggregate_id=self.id, occurred_at=_when(at), reason=reason))

    # --- events -----------------------------------------------------------------------------

    def pull_events(self) -> list[StrategyEvent]:
        """Hand over the events not yet stored; the caller appends them to the stream."""
        events, self._pending = self._pending, []
        return events

    @property
    def stored_version(self) -> int:
        """The stream version the store holds: the `expected_version` for appending pending events."""
        return self.version - len(self._pending)

    def _require(self, action: str) -> None:
        allowed, target = TRANSITIONS[action]
        if self.status not in allowed:
            raise IllegalTransition(self.status.value, (target or self.status).value, action)

    def _trigger(self, event: StrategyEvent) -> None:
        self._apply(event)
        self._pending.append(event)

    def _apply(self, event: StrategyEvent) -> None:
        action = _ACTION_OF.get(type(event))
        if action is None:
            raise CorruptStream(f"{event.event_type()} does not apply to a created strategy")
        self._require(action)
        match event:
            case BacktestCompleted():
                self.backtests = (*self.backtests, event)
            case StrategyTested(backtest_id=backtest_id):
                self.tested_backtest_id = backtest_id
            case StrategySelected(score=score, rank=rank):
                self.score, self.rank, self.deselected_reason = score, rank, None
            case StrategyDeselected(reason=reason):
                self.score, self.rank, self.deselected_reason = None, None, reason
            case StrategyDeployed(subaccount=subaccount, mode=mode):
                self.subaccount, self.mode = subaccount, mode
            case StrategyRetired(reason=reason):
                self.retired_reason, self.subaccount = reason, None
        target = TRANSITIONS[action][1]
        if target is not None:
            self.status = target
        self.updated_at = event.occurred_at
        self.version += 1

    # --- value semantics for comparing replayed and live state -------------------------------

    def _state(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "_pending"}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Strategy) and self._state() == other._state()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Strategy(id={self.id!r}, status={self.status.value}, version={self.version})"
