"""Reconciliation: the venue is the truth; every way our events disagree with it becomes an event.

In order: orders we sent without a recorded outcome are looked up by client order id; fills of
our orders (a stop that fired while we were down) are booked; then positions and open orders
are compared and the venue's adopted. Runs before the first decision after a start, and on demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from application.ports.clock import Clock
from application.ports.exchange import Exchange, ExchangePosition, OpenOrder, SubaccountExchange
from application.subaccount_ledger import SubaccountLedger
from application.venue_fills import book_fired_triggers, fills_for, record_venue_fills
from domain.subaccount_book import SubaccountBook, position_dict
from domain.trading import Position

LOOKBACK_WITHOUT_FILLS = timedelta(days=7)


@dataclass(frozen=True)
class Difference:
    kind: str
    """position, order, or pending_order."""
    key: str
    difference: str
    recorded: dict[str, Any] | None = None
    exchange: dict[str, Any] | None = None


@dataclass(frozen=True)
class ReconciliationReport:
    subaccount: int
    differences: tuple[Difference, ...]
    fills_imported: int
    account_value: float

    @property
    def clean(self) -> bool:
        return not self.differences and self.fills_imported == 0


class Reconciler:
    def __init__(self, ledger: SubaccountLedger, exchange: Exchange, clock: Clock) -> None:
        self._ledger = ledger
        self._exchange = exchange
        self._clock = clock

    def reconcile_all(self) -> list[ReconciliationReport]:
        return [self.reconcile(n) for n in self._exchange.subaccounts()]

    def reconcile(self, subaccount: int) -> ReconciliationReport:
        book = self._ledger.load(subaccount)
        venue = self._exchange.subaccount(subaccount)
        differences, imported = self._pending_orders(book, venue)
        imported += self._fired_orders(book, venue)
        differences += self._positions(book, venue.positions())
        differences += self._orders(book, venue.open_orders())
        account = venue.account()
        book.complete_reconciliation(len(differences), imported, account.account_value, self._clock.now(),
                                     {"differences": [vars(d) for d in differences]})
        self._ledger.save(book)
        return ReconciliationReport(subaccount, tuple(differences), imported, account.account_value)

    def _pending_orders(self, book: SubaccountBook, venue: SubaccountExchange) -> tuple[list[Difference], int]:
        """Orders recorded as sent whose outcome we never booked (a crash, a lost reply)."""
        found: list[Difference] = []
        imported = 0
        for order_id, placed in list(book.pending_orders.items()):
            ack = venue.order_status(order_id)
            if ack is None:
                book.reject_order(order_id, placed.strategy_id, placed.symbol, "the venue never received it",
                                  "NotFound", self._clock.now())
                found.append(Difference("pending_order", order_id, "never reached the venue"))
            elif ack.filled_size > 0:
                imported += record_venue_fills(book, fills_for(venue, {order_id}, placed.occurred_at))
            elif ack.status == "cancelled":
                book.reject_order(order_id, placed.strategy_id, placed.symbol, "cancelled by the venue",
                                  "Cancelled", self._clock.now())
        return found, imported

    def _fired_orders(self, book: SubaccountBook, venue: SubaccountExchange) -> int:
        return book_fired_triggers(book, venue, self._clock.now() - LOOKBACK_WITHOUT_FILLS)

    def _positions(self, book: SubaccountBook, held: list[ExchangePosition]) -> list[Difference]:
        now = self._clock.now()
        venue = {p.symbol: Position(symbol=p.symbol, direction=p.direction, size=p.size,
                                    entry_price=p.entry_price, opened_at=now) for p in held}
        found: list[Difference] = []
        for symbol in sorted(set(book.positions) | set(venue)):
            recorded = position_dict(book.positions.get(symbol))
            difference = book.reconcile_position(symbol, venue.get(symbol), now)
            if difference is not None:
                found.append(Difference("position", symbol, difference, recorded, position_dict(venue.get(symbol))))
        return found

    def _orders(self, book: SubaccountBook, open_orders: list[OpenOrder]) -> list[Difference]:
        now = self._clock.now()
        venue_ids = {o.client_order_id or o.order_id for o in open_orders} | {o.order_id for o in open_orders}
        found: list[Difference] = []
        for order_id, ours in sorted(book.open_orders.items()):
            if order_id not in venue_ids and (ours.venue_order_id or "") not in venue_ids:
                book.reconcile_order(order_id, ours.symbol, "missing", now)
                found.append(Difference("order", order_id, "missing", ours.as_dict()))
        known = set(book.open_orders) | {o.venue_order_id for o in book.open_orders.values() if o.venue_order_id}
        for order in open_orders:
            key = order.client_order_id or order.order_id
            if key in known or order.order_id in known:
                continue
            exchange = {"kind": order.kind, "side": order.side, "size": order.size,
                        "trigger_price": order.trigger_price, "venue_order_id": order.order_id}
            book.reconcile_order(key, order.symbol, "unexpected", now, exchange)
            found.append(Difference("order", key, "unexpected", None, exchange))
        return found
