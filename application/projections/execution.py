"""Execution read models: who trades each subaccount, what it holds, and every order's fate."""

from __future__ import annotations

from typing import Any

from application.ports.event_store import RecordedEvent
from application.ports.read_models import Upsert
from application.projections.base import Projection
from domain import events as ev
from domain import execution_events as xe


def _subaccount(e: ev.SubaccountEvent, *, insert: bool = True, **values: Any) -> list[Upsert]:
    return [Upsert("subaccounts", {"subaccount": int(e.aggregate_id)}, {**values, "updated_at": e.occurred_at},
                   insert)]


def _assigned(e: xe.StrategyAssigned, _: RecordedEvent) -> list[Upsert]:
    return _subaccount(e, status="active", strategy_id=e.strategy_id, mode=e.mode, capital=e.capital,
                       assigned_at=e.occurred_at, previous_strategy_id=e.replaces, unassigned_reason=None)


def _unassigned(e: xe.StrategyUnassigned, _: RecordedEvent) -> list[Upsert]:
    return _subaccount(e, status="free", strategy_id=None, previous_strategy_id=e.strategy_id,
                       unassigned_reason=e.reason)


def _reconciled(e: xe.ReconciliationCompleted, _: RecordedEvent) -> list[Upsert]:
    """Every reconciled subaccount has a row, whether or not a strategy was ever assigned to it."""
    return _subaccount(e, status="active" if e.strategy_id else "free", strategy_id=e.strategy_id,
                       account_value=e.account_value, last_reconciled_at=e.occurred_at,
                       last_differences=e.differences, last_reconciliation=e.details)


SUBACCOUNTS = Projection("subaccounts", ("subaccounts",), {
    "StrategyAssigned": _assigned,
    "StrategyUnassigned": _unassigned,
    "ReconciliationCompleted": _reconciled,
})


def _position(e: xe.PositionChanged, _: RecordedEvent) -> list[Upsert]:
    return [Upsert("subaccount_positions", {"subaccount": int(e.aggregate_id), "symbol": e.symbol}, {
        "strategy_id": e.strategy_id, "direction": e.direction, "size": e.size, "entry_price": e.entry_price,
        "updated_at": e.occurred_at})]


POSITIONS = Projection("subaccount_positions", ("subaccount_positions",), {"PositionChanged": _position})


def _order(e: ev.SubaccountEvent, order_id: str, *, insert: bool = False, **values: Any) -> Upsert:
    return Upsert("orders", {"order_id": order_id}, {**values, "updated_at": e.occurred_at}, insert)


def _placed(e: ev.OrderPlaced, _: RecordedEvent) -> list[Upsert]:
    return [_order(e, e.order_id, insert=True, subaccount=int(e.aggregate_id), strategy_id=e.strategy_id,
                   symbol=e.symbol, kind="market", side=e.side, size=e.size, status="pending",
                   created_at=e.occurred_at)]


def _protective(e: xe.ProtectiveOrderPlaced, _: RecordedEvent) -> list[Upsert]:
    return [_order(e, e.order_id, insert=True, subaccount=int(e.aggregate_id), strategy_id=e.strategy_id,
                   symbol=e.symbol, kind=e.kind, side=e.side, size=e.size, trigger_price=e.trigger_price,
                   status="open", created_at=e.occurred_at)]


def _filled(e: ev.OrderFilled, _: RecordedEvent) -> list[Upsert]:
    return [_order(e, e.order_id, status="filled", filled_size=e.size, average_price=e.price)]


def _reconciled_order(e: xe.OrderReconciled, _: RecordedEvent) -> list[Upsert]:
    if e.difference == "missing":
        return [_order(e, e.order_id, status="gone", reason="not on the venue at reconciliation")]
    venue = e.exchange or {}
    return [_order(e, e.order_id, insert=True, subaccount=int(e.aggregate_id), strategy_id="external",
                   symbol=e.symbol, kind=str(venue.get("kind", "unknown")), side=venue.get("side"),
                   size=venue.get("size"), trigger_price=venue.get("trigger_price"), status="open",
                   reason="found on the venue at reconciliation", created_at=e.occurred_at)]


ORDERS = Projection("orders", ("orders",), {
    "OrderPlaced": _placed,
    "ProtectiveOrderPlaced": _protective,
    "OrderFilled": _filled,
    "OrderRejected": lambda e, _: [_order(e, e.order_id, status="rejected", reason=e.reason)],
    "OrdersCancelled": lambda e, _: [_order(e, i, status="cancelled", reason=e.reason) for i in e.order_ids],
    "OrderReconciled": _reconciled_order,
})

EXECUTION_PROJECTIONS = (SUBACCOUNTS, POSITIONS, ORDERS)
