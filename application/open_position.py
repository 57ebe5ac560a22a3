"""Open a position for a strategy: record the intent, send it once, book the fill, protect it on the venue.

The entry is recorded (OrderPlaced) before it is sent, so a crash between sending and booking
leaves a pending order that reconciliation resolves from the venue, and the client order id
comes from the strategy, bar and intent, so sending it again can never make a second position.
Stops live on the exchange as reduce-only triggers; a position that cannot be protected is closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.closing import close_symbol
from application.ports.clock import Clock
from application.ports.exchange import (
    Exchange,
    ExchangeError,
    MarketOrderRequest,
    OrderAck,
    OrderRejected,
    SubaccountExchange,
    TriggerKind,
    TriggerOrderRequest,
)
from application.subaccount_ledger import SubaccountLedger
from application.venue_fills import fills_for, record_venue_fills
from domain.client_order_ids import order_intent_id
from domain.errors import DomainError
from domain.subaccount_book import BookOrder, SubaccountBook
from domain.trading import Order, PositionDirection, Side, closing_side, direction_of


class ProtectionFailed(DomainError):
    """The entry filled but its stop could not be placed on the venue, so the position was closed."""


@dataclass(frozen=True)
class EntryRequest:
    subaccount: int
    strategy_id: str
    symbol: str
    side: Side
    size: float
    bar_time: datetime
    """Open time of the bar the decision was made on: part of the order's identity."""
    max_slippage: float
    stop_loss: float | None = None
    take_profit: float | None = None
    stop_loss_pct: float | None = None
    """Instead of an absolute stop: a fraction of the entry fill price, as the backtester sets it."""
    take_profit_pct: float | None = None
    reference_mid: float | None = None
    """The mid the decision was sized on: the venue takes the slippage limit from it."""

    def levels(self, fill_price: float | None) -> tuple[float | None, float | None]:
        """The absolute stop and target; fractions apply to the fill price (known only after the fill)."""
        stop, target = self.stop_loss, self.take_profit
        if fill_price is not None:
            sign = 1.0 if self.side == "buy" else -1.0
            if self.stop_loss_pct is not None:
                stop = fill_price * (1 - sign * self.stop_loss_pct)
            if self.take_profit_pct is not None:
                target = fill_price * (1 + sign * self.take_profit_pct)
        return stop, target


@dataclass(frozen=True)
class PendingClose:
    """A reversal's close, not sent yet: it goes out in one request with the entry, ahead of it
    (SubaccountExchange.market_orders), and one read of the fills books both, the close's first
    with `reason` as its trade's exit reason. Sent alone (`send_close`) when no entry goes out."""

    order_id: str
    strategy_id: str
    symbol: str
    direction: PositionDirection
    """Of the position it closes."""
    size: float
    max_slippage: float
    reason: str
    reference_mid: float | None = None

    def order(self) -> Order:
        return Order(id=self.order_id, symbol=self.symbol, side=closing_side(self.direction), size=self.size,
                     reduce_only=True)

    def request(self, first_send: bool) -> MarketOrderRequest:
        return MarketOrderRequest(self.order_id, self.symbol, closing_side(self.direction), self.size,
                                  self.max_slippage, reduce_only=True, first_send=first_send,
                                  reference_mid=self.reference_mid)


@dataclass(frozen=True)
class EntryResult:
    order_id: str
    status: str
    """filled, rejected, or duplicate (this intent was executed before)."""
    filled_size: float = 0.0
    average_price: float | None = None
    protective_order_ids: tuple[str, ...] = ()
    reason: str | None = None


class PositionOpener:
    def __init__(self, ledger: SubaccountLedger, exchange: Exchange, clock: Clock) -> None:
        self._ledger = ledger
        self._exchange = exchange
        self._clock = clock

    def open(self, request: EntryRequest, book: SubaccountBook | None = None,
             pending_close: PendingClose | None = None) -> EntryResult:
        """`book`: the subaccount's book as the caller just loaded (or saved) it, to spare a read.
        `pending_close`: sent in the same request as the entry, ahead of it, and booked with it;
        a duplicate entry sends nothing (the caller sends the close alone, `send_close`)."""
        order_id = order_intent_id(request.strategy_id, request.bar_time, f"entry:{request.symbol}")
        order = Order(id=order_id, symbol=request.symbol, side=request.side, size=request.size,
                      stop_loss=request.stop_loss, take_profit=request.take_profit)
        book = self._ledger.load(request.subaccount) if book is None else book
        if order_id in book.filled_orders:
            return EntryResult(order_id, "duplicate", reason="this entry was executed before")
        placed_at = self._clock.now()
        close = pending_close
        if close is not None and close.order_id in book.filled_orders:
            close = None  # executed before this call (a restart): only the entry is left to send
        close_first = close is not None and book.place_order(close.order(), close.strategy_id, placed_at)
        first_send = book.place_order(order, request.strategy_id, placed_at)
        self._ledger.save(book)
        venue = self._exchange.subaccount(request.subaccount)
        entry = MarketOrderRequest(order_id, request.symbol, request.side, request.size, request.max_slippage,
                                   first_send=first_send, reference_mid=request.reference_mid)
        if close is None:
            try:
                outcome: OrderAck | OrderRejected = venue.market_order(entry)
            except OrderRejected as exc:
                outcome = exc
        else:
            closed, outcome = venue.market_orders([close.request(close_first), entry])
            if isinstance(closed, OrderRejected):
                book.reject_order(close.order_id, close.strategy_id, close.symbol, closed.reason, closed.code,
                                  self._clock.now())
        if isinstance(outcome, OrderRejected):
            book.reject_order(order_id, request.strategy_id, request.symbol, outcome.reason, outcome.code,
                              self._clock.now())
            self._ledger.save(book)
            return EntryResult(order_id, "rejected", reason=outcome.reason)
        triggers = self._triggers(request, outcome, first_send)
        sent = self._send_triggers(venue, triggers)
        ids = {order_id} if close is None or close.order_id not in book.pending_orders else {order_id, close.order_id}
        fills = fills_for(venue, ids, placed_at)
        if close is not None:
            record_venue_fills(book, [f for f in fills if (f.client_order_id or f.order_id) != order_id],
                               reason=close.reason)
        record_venue_fills(book, [f for f in fills if (f.client_order_id or f.order_id) == order_id])
        protective = self._book_protection(book, request, triggers, sent)
        return EntryResult(order_id, "filled", outcome.filled_size, outcome.average_price, protective)

    @staticmethod
    def _triggers(request: EntryRequest, ack: OrderAck, entry_first_send: bool) -> list[TriggerOrderRequest]:
        """`entry_first_send`: the entry went out for the first time in this call, so its triggers
        (placed only after it filled, in the same call) cannot have been sent before either."""
        exit_side = closing_side(direction_of(request.side))
        stop, target = request.levels(ack.average_price)
        return [] if ack.filled_size <= 0 else [
            TriggerOrderRequest(order_intent_id(request.strategy_id, request.bar_time, f"{kind}:{request.symbol}"),
                                request.symbol, exit_side, ack.filled_size, price, kind, first_send=entry_first_send)
            for kind, price in _levels(stop, target) if price is not None]

    @staticmethod
    def _send_triggers(venue: SubaccountExchange, triggers: list[TriggerOrderRequest],
                       ) -> list[OrderAck] | ExchangeError | DomainError:
        """Sent as soon as the entry is acknowledged, before its fills are read and booked: the
        position rests unprotected for one request, not three. A refusal is kept to be handled once
        the fills are booked (closing the position needs the book to hold it)."""
        if not triggers:
            return []
        try:
            return venue.trigger_orders(triggers)
        except (ExchangeError, DomainError) as exc:  # refused by the venue, or before sending (a bad price)
            return exc

    def _book_protection(self, book: SubaccountBook, request: EntryRequest, triggers: list[TriggerOrderRequest],
                         sent: list[OrderAck] | ExchangeError | DomainError) -> tuple[str, ...]:
        """Books the entry's fills and its triggers in one save; an entry that could not be
        protected is closed, and ProtectionFailed raised."""
        if not isinstance(sent, list):
            self._unprotected(book, request, sent)
            kinds = " and ".join(t.kind for t in triggers)
            raise ProtectionFailed(f"{kinds} for {request.symbol} could not be placed ({sent}); "
                                   "the position was closed") from sent
        for wanted, trigger in zip(triggers, sent, strict=True):
            book.place_protective(BookOrder(wanted.client_order_id, request.strategy_id, request.symbol, wanted.kind,
                                            wanted.side, trigger.size, wanted.trigger_price, trigger.order_id),
                                  self._clock.now())
        self._ledger.save(book)
        return tuple(t.client_order_id for t in triggers)

    def _unprotected(self, book: SubaccountBook, request: EntryRequest, cause: Exception) -> None:
        venue = self._exchange.subaccount(request.subaccount)
        cancelled = venue.cancel_all(request.symbol)
        book.cancel_orders(cancelled, f"entry could not be protected: {cause}", self._clock.now())
        held = book.positions.get(request.symbol)
        if held is not None:
            close_id = order_intent_id(request.strategy_id, request.bar_time, f"unprotected:{request.symbol}")
            close_symbol(self._ledger, book, venue, close_id, request.strategy_id, request.symbol, held.direction,
                         held.size, request.max_slippage, "unprotected", self._clock.now())
        self._ledger.save(book)


def _levels(stop: float | None, target: float | None) -> tuple[tuple[TriggerKind, float | None], ...]:
    return ("stop_loss", stop), ("take_profit", target)


def book_pending_close(ledger: SubaccountLedger, book: SubaccountBook, venue: SubaccountExchange,
                       pending: PendingClose) -> None:
    """The fills of a close sent with an entry that did not book them (refused, or an error after
    sending)."""
    placed = book.pending_orders.get(pending.order_id)
    if placed is not None:
        record_venue_fills(book, fills_for(venue, {pending.order_id}, placed.occurred_at), reason=pending.reason)
        ledger.save(book)


def send_close(ledger: SubaccountLedger, book: SubaccountBook, venue: SubaccountExchange, pending: PendingClose,
               at: datetime) -> None:
    """A reversal's close on its own, when no entry goes out with it; a refusal is recorded, then raised."""
    close_symbol(ledger, book, venue, pending.order_id, pending.strategy_id, pending.symbol, pending.direction,
                 pending.size, pending.max_slippage, pending.reason, at, reference_mid=pending.reference_mid)
