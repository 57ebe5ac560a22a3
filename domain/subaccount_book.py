"""SubaccountBook: what the system believes one subaccount holds, rebuilt from its event stream.

Commands check their own rules and record events; `_apply` is the only place state changes,
whether an event comes from a command now or from the store on `replay`, so a book rebuilt
after a crash is the book that wrote the events. Reconciliation compares this book with the
venue and records each difference, after which the book holds the venue's truth.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from domain import execution_events as xe
from domain.errors import CorruptStream, InvalidTradingRecord
from domain.events import (
    DomainEvent,
    OrderFilled,
    OrderPlaced,
    PortfolioSnapshotTaken,
    SubaccountEvent,
    SubaccountFunded,
    TradeClosed,
)
from domain.portfolio import Portfolio
from domain.trading import Fill, Order, Position, PositionDirection

EXTERNAL = "external"
"""Strategy id for what the venue shows that no strategy of ours did."""
_SIZE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class BookOrder:
    """An order the venue holds for us (a protective trigger), keyed by its client order id."""

    order_id: str
    strategy_id: str
    symbol: str
    kind: str
    side: str
    size: float
    trigger_price: float | None
    venue_order_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "side": self.side, "size": self.size, "trigger_price": self.trigger_price,
                "venue_order_id": self.venue_order_id, "strategy_id": self.strategy_id}


def position_dict(position: Position | None) -> dict[str, Any] | None:
    if position is None:
        return None
    return {"direction": position.direction, "size": position.size, "entry_price": position.entry_price}


class SubaccountBook:
    def __init__(self, subaccount: int) -> None:
        if isinstance(subaccount, bool) or not isinstance(subaccount, int) or subaccount < 0:
            raise InvalidTradingRecord(f"subaccount must be a non-negative int, got {subaccount!r}")
        self.subaccount = subaccount
        self.strategy_id: str | None = None
        self.mode: str | None = None
        self.capital = 0.0
        self.assigned_at: datetime | None = None
        self.portfolio: Portfolio | None = None
        self.open_orders: dict[str, BookOrder] = {}
        self.pending_orders: dict[str, OrderPlaced] = {}
        self.fill_ids: set[str] = set()
        self.filled_orders: set[str] = set()
        self.owners: dict[str, str] = {}
        """symbol -> strategy id of the position held on it."""
        self.leverage: dict[str, int] = {}
        self.last_fill_at: datetime | None = None
        self.last_snapshot: PortfolioSnapshotTaken | None = None
        self.version = 0
        self._pending: list[SubaccountEvent] = []

    @classmethod
    def replay(cls, subaccount: int, events: Iterable[DomainEvent]) -> SubaccountBook:
        book = cls(subaccount)
        for event in events:
            if not isinstance(event, SubaccountEvent) or event.aggregate_id != str(subaccount):
                raise CorruptStream(f"{event.event_type()} {event.event_id} is not about subaccount {subaccount}")
            book._apply(event)
        return book

    def apply_stored(self, event: DomainEvent) -> None:
        """Catch up with an event another writer stored after this book was loaded."""
        if self._pending:
            raise CorruptStream(f"subaccount {self.subaccount}: cannot catch up with unsaved events pending")
        if not isinstance(event, SubaccountEvent) or event.aggregate_id != str(self.subaccount):
            raise CorruptStream(f"{event.event_type()} {event.event_id} is not about subaccount {self.subaccount}")
        self._apply(event)

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    # --- reading ----------------------------------------------------------------------------

    @property
    def positions(self) -> Mapping[str, Position]:
        return {} if self.portfolio is None else self.portfolio.positions

    @property
    def is_free(self) -> bool:
        return self.strategy_id is None

    @property
    def stored_version(self) -> int:
        return self.version - len(self._pending)

    def pull_events(self) -> list[SubaccountEvent]:
        events, self._pending = self._pending, []
        return events

    # --- commands ---------------------------------------------------------------------------

    def assign(self, strategy_id: str, mode: str, capital: float, at: datetime, replaces: str | None = None) -> None:
        if self.strategy_id is not None:
            raise InvalidTradingRecord(
                f"subaccount {self.subaccount} already runs strategy {self.strategy_id}; stop it first")
        if not math.isfinite(capital) or capital <= 0:
            raise InvalidTradingRecord(f"capital must be a finite positive number, got {capital!r}")
        self._trigger(xe.StrategyAssigned(aggregate_id=self._id, occurred_at=at, strategy_id=strategy_id,
                                          mode=mode, capital=float(capital), replaces=replaces))

    def unassign(self, reason: str, at: datetime) -> None:
        if self.strategy_id is None:
            raise InvalidTradingRecord(f"subaccount {self.subaccount} runs no strategy")
        self._trigger(xe.StrategyUnassigned(aggregate_id=self._id, occurred_at=at, strategy_id=self.strategy_id,
                                            reason=reason))

    def fund(self, amount: float, at: datetime) -> None:
        self._trigger(SubaccountFunded(aggregate_id=self._id, occurred_at=at, amount=float(amount)))

    def set_leverage(self, symbol: str, leverage: int, at: datetime) -> None:
        if self.leverage.get(symbol) != leverage:
            self._trigger(xe.LeverageSet(aggregate_id=self._id, occurred_at=at, symbol=symbol, leverage=leverage))

    def place_order(self, order: Order, strategy_id: str, at: datetime) -> bool:
        """Record that an order is about to be sent; False when this client order id is known already."""
        if order.id in self.pending_orders or order.id in self.filled_orders:
            return False
        self._trigger(order.to_event(self.subaccount, strategy_id, at))
        return True

    def reject_order(self, order_id: str, strategy_id: str, symbol: str, reason: str, code: str | None,
                     at: datetime) -> None:
        self._trigger(xe.OrderRejected(aggregate_id=self._id, occurred_at=at, order_id=order_id,
                                       strategy_id=strategy_id, symbol=symbol, reason=reason, code=code))

    def record_fill(self, fill: Fill, strategy_id: str, fill_id: str | None, reason: str = "signal") -> bool:
        """Book a venue execution once (by fill id); closed parts become TradeClosed events."""
        if fill_id is not None and fill_id in self.fill_ids:
            return False
        event = replace(fill.to_event(self.subaccount, strategy_id), fill_id=fill_id)
        exit_reason = self.open_orders[fill.order_id].kind if fill.order_id in self.open_orders else reason
        self._pending.append(event)
        trades = self._apply(event, exit_reason=exit_reason)
        for trade in trades:
            self._trigger(trade.to_event(self.subaccount, strategy_id))
        self._trigger(self._position_changed(fill.symbol, fill.time))
        return True

    def place_protective(self, order: BookOrder, at: datetime) -> None:
        if order.order_id in self.open_orders:
            return
        self._trigger(xe.ProtectiveOrderPlaced(
            aggregate_id=self._id, occurred_at=at, order_id=order.order_id, strategy_id=order.strategy_id,
            symbol=order.symbol, kind=order.kind, side=order.side, size=order.size,
            trigger_price=float(order.trigger_price or 0.0), venue_order_id=order.venue_order_id))

    def cancel_orders(self, order_ids: Iterable[str], reason: str, at: datetime) -> None:
        ids = tuple(order_ids)
        if ids:
            self._trigger(xe.OrdersCancelled(aggregate_id=self._id, occurred_at=at, strategy_id=self.strategy_id,
                                             order_ids=ids, reason=reason))

    def reconcile_position(self, symbol: str, venue: Position | None, at: datetime) -> str | None:
        """Adopt the venue's position on `symbol` when it differs from ours; the difference kind, or None."""
        ours = self.positions.get(symbol)
        difference = _position_difference(ours, venue)
        if difference is None:
            return None
        self._trigger(xe.PositionReconciled(aggregate_id=self._id, occurred_at=at, symbol=symbol,
                                            difference=difference, recorded=position_dict(ours),
                                            exchange=position_dict(venue)))
        self._trigger(self._position_changed(symbol, at))
        return difference

    def reconcile_order(self, order_id: str, symbol: str, difference: str, at: datetime,
                        exchange: dict[str, Any] | None = None) -> None:
        recorded = self.open_orders.get(order_id)
        self._trigger(xe.OrderReconciled(aggregate_id=self._id, occurred_at=at, order_id=order_id, symbol=symbol,
                                         difference=difference, recorded=recorded.as_dict() if recorded else None,
                                         exchange=exchange))

    def complete_reconciliation(self, differences: int, fills_imported: int, account_value: float, at: datetime,
                                details: dict[str, Any]) -> None:
        self._trigger(xe.ReconciliationCompleted(aggregate_id=self._id, occurred_at=at,
                                                 strategy_id=self.strategy_id, differences=differences,
                                                 fills_imported=fills_imported, account_value=account_value,
                                                 details=details))

    def observe(self, equity: float, open_positions: int, at: datetime) -> PortfolioSnapshotTaken:
        """Record the venue's equity now, with the peak and the UTC day's start carried from the last one.

        A new assignment starts a new peak: one strategy's drawdown is not the previous one's.
        """
        last = self.last_snapshot
        fresh = last is None or (self.assigned_at is not None and last.occurred_at < self.assigned_at)
        peak = equity if fresh or last is None else max(last.peak_equity, equity)
        same_day = last is not None and not fresh and last.occurred_at.date() == at.date()
        day_start = (last.equity - last.daily_pnl) if same_day and last is not None else equity
        cash = self.portfolio.cash if self.portfolio else equity
        snapshot = PortfolioSnapshotTaken(
            aggregate_id=self._id, occurred_at=at, strategy_id=self.strategy_id, equity=equity, cash=cash,
            realized_pnl=self.portfolio.realized_pnl if self.portfolio else 0.0,
            unrealized_pnl=equity - cash, peak_equity=peak,
            drawdown=max(0.0, (peak - equity) / peak) if peak > 0 else 0.0, daily_pnl=equity - day_start,
            open_positions=open_positions)
        self._trigger(snapshot)
        return snapshot

    def refuse_signal(self, strategy_id: str, symbol: str, direction: str, bar_time: datetime, reason: str,
                      at: datetime) -> None:
        self._trigger(xe.SignalRefused(aggregate_id=self._id, occurred_at=at, strategy_id=strategy_id, symbol=symbol,
                                       direction=direction, bar_time=bar_time.isoformat(), reason=reason))

    def decision_failed(self, strategy_id: str, bar_time: datetime, error: str, at: datetime) -> None:
        self._trigger(xe.DecisionFailed(aggregate_id=self._id, occurred_at=at, strategy_id=strategy_id,
                                        bar_time=bar_time.isoformat(), error=error))

    def emergency_stop(self, reason: str, at: datetime) -> None:
        self._trigger(xe.EmergencyStopTriggered(aggregate_id=self._id, occurred_at=at, strategy_id=self.strategy_id,
                                                reason=reason))

    # --- internals --------------------------------------------------------------------------

    @property
    def _id(self) -> str:
        return str(self.subaccount)

    def _position_changed(self, symbol: str, at: datetime) -> xe.PositionChanged:
        held = self.positions.get(symbol)
        return xe.PositionChanged(
            aggregate_id=self._id, occurred_at=at, symbol=symbol, strategy_id=self.owners.get(symbol),
            direction=held.direction if held else None, size=held.size if held else 0.0,
            entry_price=held.entry_price if held else None)

    def _book(self, at: datetime) -> Portfolio:
        if self.portfolio is None:
            self.portfolio = Portfolio(self.subaccount, 0.0, at, strategy_id=self.strategy_id)
        return self.portfolio

    def _trigger(self, event: SubaccountEvent) -> None:
        self._pending.append(event)
        self._apply(event)

    def _apply(self, event: SubaccountEvent, exit_reason: str | None = None) -> list[Any]:
        self.version += 1
        match event:
            case xe.StrategyAssigned():
                self.strategy_id, self.mode, self.capital = event.strategy_id, event.mode, event.capital
                self.assigned_at = event.occurred_at
                self._book(event.occurred_at).strategy_id = event.strategy_id
            case xe.StrategyUnassigned():
                self.strategy_id = None
            case SubaccountFunded():
                self._book(event.occurred_at).fund(event.amount, event.occurred_at)
            case xe.LeverageSet():
                self.leverage[event.symbol] = event.leverage
            case OrderPlaced():
                self.pending_orders[event.order_id] = event
            case xe.OrderRejected():
                self.pending_orders.pop(event.order_id, None)
            case OrderFilled():
                return self._apply_fill(event, exit_reason)
            case xe.ProtectiveOrderPlaced():
                self.open_orders[event.order_id] = BookOrder(
                    event.order_id, event.strategy_id, event.symbol, event.kind, event.side, event.size,
                    event.trigger_price, event.venue_order_id)
            case xe.OrdersCancelled():
                for order_id in event.order_ids:
                    self._drop_order(order_id)
            case xe.PositionReconciled():
                self._adopt(event)
            case xe.OrderReconciled():
                self._reconcile_order(event)
            case PortfolioSnapshotTaken():
                self.last_snapshot = event
            case (xe.PositionChanged() | xe.ReconciliationCompleted() | TradeClosed() | xe.SignalRefused()
                  | xe.DecisionFailed() | xe.EmergencyStopTriggered()):
                pass
            case _:
                raise CorruptStream(f"{event.event_type()} does not apply to a subaccount book")
        return []

    def _apply_fill(self, event: OrderFilled, exit_reason: str | None) -> list[Any]:
        placed = self.pending_orders.pop(event.order_id, None)
        protective = self.open_orders.pop(event.order_id, None)
        reason = exit_reason or (protective.kind if protective else "signal")
        trades = self._book(event.filled_at).apply_fill(
            Fill.from_event(event), reason=reason,
            stop_loss=placed.stop_loss if placed else None, take_profit=placed.take_profit if placed else None)
        if event.fill_id is not None:
            self.fill_ids.add(event.fill_id)
        self.filled_orders.add(event.order_id)
        self.last_fill_at = max(self.last_fill_at or event.filled_at, event.filled_at)
        if event.symbol in self.positions:
            self.owners.setdefault(event.symbol, event.strategy_id)
        else:
            self.owners.pop(event.symbol, None)
        return trades

    def _adopt(self, event: xe.PositionReconciled) -> None:
        venue = event.exchange
        position = None if venue is None else Position(
            symbol=event.symbol, direction=_direction(venue["direction"]), size=float(venue["size"]),
            entry_price=float(venue["entry_price"]), opened_at=event.occurred_at)
        self._book(event.occurred_at).adopt_position(event.symbol, position, event.occurred_at)
        if position is None:
            self.owners.pop(event.symbol, None)
        elif event.recorded is None or event.recorded.get("direction") != position.direction:
            self.owners[event.symbol] = EXTERNAL

    def _reconcile_order(self, event: xe.OrderReconciled) -> None:
        if event.difference == "missing":
            self._drop_order(event.order_id)
            return
        venue = event.exchange or {}
        self.open_orders[event.order_id] = BookOrder(
            event.order_id, EXTERNAL, event.symbol, str(venue.get("kind", "unknown")), str(venue.get("side", "")),
            float(venue.get("size", 0.0)), venue.get("trigger_price"), venue.get("venue_order_id"))

    def _drop_order(self, order_id: str) -> None:
        if self.open_orders.pop(order_id, None) is None:
            for key, order in list(self.open_orders.items()):
                if order.venue_order_id == order_id:
                    del self.open_orders[key]


def _direction(value: str) -> PositionDirection:
    if value not in ("long", "short"):
        raise CorruptStream(f"position direction must be long or short, got {value!r}")
    return "long" if value == "long" else "short"


def _position_difference(ours: Position | None, venue: Position | None) -> str | None:
    if ours is None and venue is None:
        return None
    if ours is None:
        return "unexpected"
    if venue is None:
        return "missing"
    if ours.direction != venue.direction:
        return "direction"
    if abs(ours.size - venue.size) > _SIZE_TOLERANCE * max(ours.size, venue.size, 1.0):
        return "size"
    return None
