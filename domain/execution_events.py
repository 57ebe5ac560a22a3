"""Execution facts per subaccount: assignments, orders, protective triggers, reconciliation.

They share the subaccount stream with OrderPlaced, OrderFilled and TradeClosed (domain.events),
so one stream read rebuilds what the system believes a subaccount holds (domain.subaccount_book).
Order ids here are client order ids (domain.client_order_ids); the venue's own id, where one is
known, is `venue_order_id`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.events import SubaccountEvent


@dataclass(frozen=True, kw_only=True)
class StrategyAssigned(SubaccountEvent):
    """A strategy starts trading this subaccount with `capital` USDC (paper or live)."""

    strategy_id: str
    mode: str
    capital: float
    replaces: str | None = None


@dataclass(frozen=True, kw_only=True)
class StrategyUnassigned(SubaccountEvent):
    """The strategy no longer trades here; its orders were cancelled and positions closed first."""

    strategy_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class LeverageSet(SubaccountEvent):
    symbol: str
    leverage: int


@dataclass(frozen=True, kw_only=True)
class OrderRejected(SubaccountEvent):
    order_id: str
    strategy_id: str
    symbol: str
    reason: str
    code: str | None = None


@dataclass(frozen=True, kw_only=True)
class ProtectiveOrderPlaced(SubaccountEvent):
    """A reduce-only stop-loss or take-profit now held by the venue."""

    order_id: str
    strategy_id: str
    symbol: str
    kind: str
    side: str
    size: float
    trigger_price: float
    venue_order_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class OrdersCancelled(SubaccountEvent):
    strategy_id: str | None
    order_ids: tuple[str, ...]
    """Client order ids where the venue reported them, else the venue's ids."""
    reason: str


@dataclass(frozen=True, kw_only=True)
class PositionReconciled(SubaccountEvent):
    """The venue's position differed from ours; ours now is the venue's (`exchange`, None = flat)."""

    symbol: str
    difference: str
    """missing (we had it, the venue does not), unexpected (the venue has it, we did not), size, direction."""
    recorded: dict[str, Any] | None = None
    exchange: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class OrderReconciled(SubaccountEvent):
    """An open order differed: one we recorded is gone (missing) or one we never placed is there (unexpected)."""

    order_id: str
    symbol: str
    difference: str
    recorded: dict[str, Any] | None = None
    exchange: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class ReconciliationCompleted(SubaccountEvent):
    strategy_id: str | None
    """Who trades the subaccount at the time (None: nobody), so the read model never depends on order."""
    differences: int
    fills_imported: int
    account_value: float
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PositionChanged(SubaccountEvent):
    """What the subaccount holds on `symbol` after a fill or a reconciliation (None fields: flat)."""

    symbol: str
    strategy_id: str | None
    direction: str | None
    size: float
    entry_price: float | None


@dataclass(frozen=True, kw_only=True)
class SignalRefused(SubaccountEvent):
    """A strategy wanted a position the risk policy (or the venue's minimum) did not allow."""

    strategy_id: str
    symbol: str
    direction: str
    bar_time: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class DecisionFailed(SubaccountEvent):
    """One strategy's decision on one bar failed; the others went on."""

    strategy_id: str
    bar_time: str
    error: str


@dataclass(frozen=True, kw_only=True)
class EmergencyStopTriggered(SubaccountEvent):
    """Trading on this subaccount stopped and its positions were closed, without a human."""

    strategy_id: str | None
    reason: str
