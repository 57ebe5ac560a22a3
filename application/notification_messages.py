"""What a person is told about each stored fact worth a message; every other fact says nothing.

One event, one notification, decided from the event alone (no state), so a pass that resumes
from any checkpoint builds the very same messages. A rotation shows as two (the old strategy
out, the new one in), and an emergency stop as the trigger and then the stop it caused: if the
second never comes, the stop did not finish, which is itself worth knowing.
"""

from __future__ import annotations

from application.ports.notifier import Notification, NotificationKind, PlainValue, Severity
from domain.events import DomainEvent
from domain.execution_events import (
    DecisionFailed,
    EmergencyStopTriggered,
    OrderRejected,
    PositionReconciled,
    StrategyAssigned,
    StrategyUnassigned,
)

NOTIFIED_TYPES = frozenset(cls.event_type() for cls in (
    EmergencyStopTriggered, StrategyAssigned, StrategyUnassigned, DecisionFailed, OrderRejected, PositionReconciled))
"""Only these are decoded: the dispatcher reads every event, most of them fills and snapshots."""

ROTATED_OUT = "rotated out for "
"""The reason SubaccountManager.rotate gives the strategy it takes off."""
DEGRADED = "degraded:"
"""The reason StrategyRotation gives a degraded strategy it stops with nothing to replace it."""


def notification_for(event: DomainEvent) -> Notification | None:
    match event:
        case EmergencyStopTriggered():
            return _note(event, "emergency_stop", "critical", f"Emergency stop on subaccount {event.aggregate_id}",
                         event.reason, strategy_id=event.strategy_id)
        case StrategyAssigned(replaces=None):
            return _note(event, "deployment", "info", f"Strategy deployed on subaccount {event.aggregate_id}",
                         f"{event.strategy_id} now trades {event.capital:.2f} USDC ({event.mode}).",
                         strategy_id=event.strategy_id, mode=event.mode, capital=event.capital)
        case StrategyAssigned():
            return _note(event, "rotation", "info", f"Strategy rotated in on subaccount {event.aggregate_id}",
                         f"{event.strategy_id} replaces {event.replaces} with {event.capital:.2f} USDC ({event.mode}).",
                         strategy_id=event.strategy_id, replaces=event.replaces, mode=event.mode,
                         capital=event.capital)
        case StrategyUnassigned():
            return _unassigned(event)
        case DecisionFailed():
            return _note(event, "error", "warning", f"Decision failed on subaccount {event.aggregate_id}",
                         event.error, strategy_id=event.strategy_id, bar_time=event.bar_time)
        case OrderRejected():
            return _note(event, "error", "warning", f"Order rejected on subaccount {event.aggregate_id}",
                         event.reason, strategy_id=event.strategy_id, symbol=event.symbol, order_id=event.order_id,
                         code=event.code)
        case PositionReconciled():
            return _note(event, "error", "warning", f"Position differed from the venue on subaccount "
                         f"{event.aggregate_id}", f"{event.symbol}: {event.difference}; the venue's position now "
                         "stands.", symbol=event.symbol, difference=event.difference)
    return None


def _unassigned(event: StrategyUnassigned) -> Notification:
    if event.reason.startswith(ROTATED_OUT):
        kind: NotificationKind = "rotation"
        severity: Severity = "info"
        title = f"Strategy rotated out of subaccount {event.aggregate_id}"
    elif event.reason.startswith(DEGRADED):
        kind, severity, title = "rotation", "warning", f"Degraded strategy stopped on subaccount {event.aggregate_id}"
    else:
        kind, severity, title = "deployment", "warning", f"Strategy stopped on subaccount {event.aggregate_id}"
    return _note(event, kind, severity, title, f"{event.strategy_id}: {event.reason}", strategy_id=event.strategy_id)


def _note(event: DomainEvent, kind: NotificationKind, severity: Severity, title: str, text: str,
          **fields: PlainValue) -> Notification:
    known = {k: v for k, v in fields.items() if v is not None}
    return Notification(notification_id=event.event_id, kind=kind, title=title, text=text, severity=severity,
                        occurred_at=event.occurred_at, fields={"subaccount": _number(event.aggregate_id), **known})


def _number(aggregate_id: str) -> int | str:
    return int(aggregate_id) if aggregate_id.isdigit() else aggregate_id
