"""One paper subaccount: the SubaccountExchange port over its `paper-<n>` event stream.

Every call first catches up on the stream (another adapter over the same store, a person's
trade, our own restart) and fires the triggers the bars since have reached, then answers.

Concurrency: writes append with expected_version = the version folded in. When another writer
got there first (WrongExpectedVersion), nothing was written: we catch up and decide again on
the new state, which is what makes it safe (an order id the other writer already filled is
then answered from the ledger, a trigger it already fired is no longer resting). Between tries
a short random pause lets two writers stop colliding; after MAX_ATTEMPTS lost races the call
fails with ExchangeUnavailable, having written nothing.

So a trading call that writes needs no read first: it decides on the ledger as last folded in,
and its append is the check (see `_write`); reading calls catch up first, as they must.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime

from adapters.paper.ledger import PaperLedger
from adapters.paper.market import PaperMarket
from adapters.paper.orders import PaperTerms, account_state, held, leverage_of
from adapters.paper.orders import cancel as cancel_events
from adapters.paper.orders import market_order as market_events
from adapters.paper.orders import market_orders_in_turn as market_events_in_turn
from adapters.paper.orders import set_leverage as leverage_events
from adapters.paper.orders import trigger_order as trigger_events
from adapters.paper.triggers import TriggerWatch
from application.event_codec import decode, encode
from application.ports.clock import Clock
from application.ports.event_store import EventStore, EventStoreUnavailable, WrongExpectedVersion
from application.ports.exchange import (
    AccountState,
    ExchangeError,
    ExchangeFill,
    ExchangePosition,
    ExchangeUnavailable,
    MarketOrderRequest,
    OpenOrder,
    OrderAck,
    OrderRejected,
    OrderStateUnknown,
    TriggerOrderRequest,
    market_orders_in_turn,
)
from domain.client_order_ids import client_order_id
from domain.errors import CorruptStream
from domain.paper_events import PaperAccountOpened, PaperEvent, PaperOrdersCancelled
from domain.trading import closing_side

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
RETRY_PAUSE_S = 0.002
"""The pause before try n is random in [0, RETRY_PAUSE_S x 2^n], capped at MAX_RETRY_PAUSE_S."""
MAX_RETRY_PAUSE_S = 0.1
MAX_TRIGGER_EVENTS_PER_CALL = 1000
"""A guard against a loop that never settles; far beyond what any real call fires."""

Decision = Callable[[], Sequence[PaperEvent]]


class PaperSubaccount:
    def __init__(self, number: int, store: EventStore, market: PaperMarket, clock: Clock, terms: PaperTerms,
                 closed: threading.Event) -> None:
        self._number = number
        self._store = store
        self._market = market
        self._clock = clock
        self._terms = terms
        self._closed = closed
        self._lock = threading.RLock()
        self._ledger = PaperLedger(number)
        self._stream = f"{PaperEvent.stream_prefix}-{number}"
        self._watch = TriggerWatch(market, terms)

    @property
    def subaccount(self) -> int:
        return self._number

    # --- reading ----------------------------------------------------------------------------

    def account(self) -> AccountState:
        with self._lock, self._market.pinned():
            self._ready()
            return account_state(self._ledger, self._market, self._terms)

    def positions(self) -> list[ExchangePosition]:
        with self._lock, self._market.pinned():
            self._ready()
            out = []
            for symbol, position in sorted(self._ledger.book.positions.items()):
                size = abs(held(self._ledger, self._market.instrument(symbol)))
                out.append(ExchangePosition(
                    symbol=symbol, direction=position.direction, size=size, entry_price=position.entry_price,
                    unrealized_pnl=position.unrealized_pnl(self._market.mid(symbol)),
                    leverage=leverage_of(self._ledger, self._terms, symbol),
                ))
            return out

    def open_orders(self) -> list[OpenOrder]:
        with self._lock, self._market.pinned():
            self._ready()
            return [o.open_order() for o in self._ledger.resting_triggers()]

    def one_moment(self) -> AbstractContextManager[None]:
        """The bars are read once for the block (PaperMarket.pinned), on this thread."""
        return self._market.pinned()

    def mid_price(self, symbol: str) -> float:
        self._check_open()
        return self._market.mid(symbol)

    def mid_and_account(self, symbol: str) -> tuple[float, AccountState]:
        with self._market.pinned():
            return self.mid_price(symbol), self.account()

    def order_status(self, client_order_id: str) -> OrderAck | None:
        with self._lock, self._market.pinned():
            self._ready()
            order = self._ledger.orders.get(client_order_id)
            return None if order is None else order.ack()

    def fills_since(self, since: datetime) -> list[ExchangeFill]:
        with self._lock, self._market.pinned():
            self._ready()
            return self._ledger.fills_since(since)

    # --- trading ----------------------------------------------------------------------------

    def market_order(self, request: MarketOrderRequest) -> OrderAck:
        with self._lock, self._market.pinned():
            cloid = request.client_order_id
            self._write(lambda: self._unless_known(cloid, lambda: market_events(
                self._ledger, self._market, self._terms, request, self._clock.now())), cloid)
            return self._ledger.orders[cloid].ack()

    def trigger_order(self, request: TriggerOrderRequest) -> OrderAck:
        return self.trigger_orders([request])[0]

    def market_orders(self, requests: Sequence[MarketOrderRequest]) -> list[OrderAck | OrderRejected]:
        """Each decided as market_order decides it, at the prices of one moment and on the ledger as
        the orders before it left it, all in one append (a reversal's close and entry: one write of
        the ledger, as Hyperliquid takes them in one action). A refusal is kept as the value and the
        next order decided all the same; another error writes the orders before it, then is raised."""
        if len(requests) < 2:
            return market_orders_in_turn(self.market_order, requests)
        with self._lock, self._market.pinned():
            refused: dict[str, OrderRejected] = {}
            failed: list[ExchangeError] = []

            def decide() -> Sequence[PaperEvent]:
                refused.clear()
                failed.clear()
                try:
                    decided, failure = market_events_in_turn(self._ledger, self._market, self._terms, requests,
                                                             self._clock.now(), refused)
                except ExchangeError:
                    raise  # raised only before any order was folded in
                except BaseException:
                    self._forget_ledger()  # whatever it folded in is not written
                    raise
                if failure is not None:
                    failed.append(failure)
                return decided

            self._write(decide, requests[0].client_order_id, applied=True)
            if failed:
                raise failed[0]
            return [refused.get(r.client_order_id) or self._ledger.orders[r.client_order_id].ack() for r in requests]

    def trigger_orders(self, requests: Sequence[TriggerOrderRequest]) -> list[OrderAck]:
        """Each as trigger_order decides it, all in one append (one write of the ledger, as
        Hyperliquid takes them in one action); the triggers before a refusal are written, then the
        refusal raised."""
        if not requests:
            return []
        with self._lock, self._market.pinned():
            refused: list[ExchangeError] = []

            def decide() -> Sequence[PaperEvent]:
                refused.clear()
                events: list[PaperEvent] = []
                decided: set[str] = set()
                now = self._clock.now()
                for request in requests:
                    cloid = request.client_order_id
                    if cloid in self._ledger.orders or cloid in decided:
                        continue
                    try:
                        events += trigger_events(self._ledger, self._market, request, now, ahead=len(decided))
                    except ExchangeError as exc:
                        refused.append(exc)
                        break
                    decided.add(cloid)
                return events

            self._write(decide, requests[0].client_order_id)
            if refused:
                raise refused[0]
            return [self._ledger.orders[r.client_order_id].ack() for r in requests]

    def cancel_all(self, symbol: str | None = None) -> list[str]:
        """The client order ids cancelled (every paper order has one)."""
        with self._lock, self._market.pinned():
            return _cancelled(self._write(lambda: cancel_events(self._ledger, symbol, self._clock.now(), "cancel_all")))

    def cancel_orders(self, symbol: str, client_order_ids: Sequence[str]) -> list[str]:
        wanted = set(client_order_ids)
        with self._lock, self._market.pinned():
            self._check_open()
            self._market.instrument(symbol)
            return _cancelled(self._write(lambda: cancel_events(
                self._ledger, symbol, self._clock.now(), "cancel_orders", wanted))) if wanted else []

    def close_all(self, intent: str, max_slippage: float) -> list[OrderAck]:
        """One reduce-only close per symbol, id client_order_id(intent, symbol).

        Symbols already closed under this intent answer with that close's ack, so a retry
        reports what the first call did and never sends a second close. The first failure
        propagates; the remaining symbols are left for the retry, which the ids make safe.
        """
        with self._lock, self._market.pinned():
            self._ready()
            acks = []
            for symbol in sorted({*self._ledger.symbols(), *self._ledger.book.positions}):
                cloid = client_order_id(intent, symbol)
                known = self._ledger.orders.get(cloid)
                position = self._ledger.position(symbol)
                if known is not None:
                    acks.append(known.ack())
                elif position is not None:
                    acks.append(self.market_order(MarketOrderRequest(
                        client_order_id=cloid, symbol=symbol, side=closing_side(position.direction),
                        size=abs(held(self._ledger, self._market.instrument(symbol))),
                        max_slippage=max_slippage, reduce_only=True,
                    )))
            return acks

    def set_leverage(self, symbol: str, leverage: int) -> None:
        with self._lock, self._market.pinned():
            self._write(lambda: leverage_events(
                self._ledger, self._market, self._terms, symbol, leverage, self._clock.now()))

    # --- the ledger -------------------------------------------------------------------------

    def _ready(self) -> None:
        self._check_open()
        self._fire_due_triggers()  # catches up on the stream first

    def _check_open(self) -> None:
        if self._closed.is_set():
            raise ExchangeError("the paper exchange is closed")

    def _unless_known(self, cloid: str, decide: Decision) -> Sequence[PaperEvent]:
        """An order id already on the ledger is that order: never a second one."""
        return [] if cloid in self._ledger.orders else decide()

    def _fire_due_triggers(self, read_first: bool = True) -> None:
        """One trigger per append: each fill changes the position the next trigger reduces."""
        for attempt in range(MAX_TRIGGER_EVENTS_PER_CALL):
            if not self._commit(lambda: self._watch.next_events(self._ledger), fresh=attempt > 0 or not read_first):
                return
        raise ExchangeError(f"{self._stream}: triggers still firing after {MAX_TRIGGER_EVENTS_PER_CALL} events")

    def _write(self, decide: Decision, cloid: str | None = None, *, applied: bool = False) -> Sequence[PaperEvent]:
        """A trading call: the due triggers, then `decide`, on the ledger as last folded in, no read first.

        The appends carry the version decided on, so a write by anyone else since makes one lose
        the race, and the whole call is made again on the caught-up ledger. Only an answer that
        writes nothing (a refusal, an order already known, nothing to cancel) is checked against
        the stream, with one read: it must not stand on a ledger someone else has moved on from.
        `applied`: `decide` folded its events in already (see `_append`).
        """
        self._check_open()
        stale = not self._ledger.opened
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if stale:
                self._catch_up()
            self._fire_due_triggers(read_first=False)
            try:
                events = decide()
            except ExchangeError:
                if self._moved_on():
                    continue
                raise
            if not events:
                if self._moved_on():
                    continue
                return []
            written = self._append(events, cloid, attempt, applied=applied)
            if written is not None:
                return written
            stale = True
        raise ExchangeUnavailable(f"{self._stream}: lost {MAX_ATTEMPTS} races for the paper ledger in a row")

    def _commit(self, decide: Decision, cloid: str | None = None, *, fresh: bool = False) -> Sequence[PaperEvent]:
        """Catch up, decide, append at the version decided on; on a lost race, all again.

        `fresh`: this call caught up already (every reading call does in `_ready`), so the first
        attempt decides on the ledger as it is; a write by anyone else since then makes the append
        lose the race, which catches up and decides again. One read per call instead of two.
        """
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if attempt > 1 or not fresh:
                self._catch_up()
            events = decide()
            if not events:
                return []
            written = self._append(events, cloid, attempt)
            if written is not None:
                return written
        raise ExchangeUnavailable(f"{self._stream}: lost {MAX_ATTEMPTS} races for the paper ledger in a row")

    def _append(self, decided: Sequence[PaperEvent], cloid: str | None, attempt: int, *,
                applied: bool = False) -> Sequence[PaperEvent] | None:
        """The events written (and folded in), or None when another writer got there first.

        The first write of an untouched subaccount carries its PaperAccountOpened in front.
        `applied`: `decided` is folded in already; when it is not written, the ledger is forgotten
        and read again whole (a rare path: a lost race or a store that did not answer).
        """
        opening = self._ledger.unrecorded_opening
        events = [opening, *decided] if opening is not None else list(decided)
        expected = self._ledger.version - (len(decided) if applied else 0)
        try:
            version = self._store.append(self._stream, [encode(e) for e in events], expected)
        except WrongExpectedVersion as exc:
            if applied:
                self._forget_ledger()
            log.info("paper ledger race, deciding again", extra={"stream": self._stream, "attempt": attempt,
                                                                "found": exc.actual})
            time.sleep(random.uniform(0, min(MAX_RETRY_PAUSE_S, RETRY_PAUSE_S * 2 ** attempt)))
            return None
        except EventStoreUnavailable as exc:
            if applied:
                self._forget_ledger()
            if cloid is not None:
                raise OrderStateUnknown(cloid, f"the paper ledger could not be written: {exc}") from exc
            raise ExchangeUnavailable(f"{self._stream}: the paper ledger could not be written: {exc}") from exc
        unfolded = events if not applied else [opening] if opening is not None else []
        for event in unfolded:
            self._ledger.apply(event)
        if version != self._ledger.version:
            raise CorruptStream(f"{self._stream}: store at version {version}, ledger at {self._ledger.version}")
        return events

    def _forget_ledger(self) -> None:
        """Drop what was folded in: the next call reads the whole stream again."""
        self._ledger = PaperLedger(self._number)

    def _moved_on(self) -> bool:
        """Catch up; whether anything was written since the ledger was last folded in."""
        before = self._ledger.version
        self._catch_up()
        return self._ledger.version != before

    def _catch_up(self) -> None:
        try:
            recorded = self._store.read_stream(self._stream, self._ledger.version + 1)
        except EventStoreUnavailable as exc:
            raise ExchangeUnavailable(f"{self._stream}: the paper ledger could not be read: {exc}") from exc
        if recorded and self._ledger.unrecorded_opening is not None:
            self._ledger = PaperLedger(self._number)  # someone else opened it: theirs is the account
        for event in recorded:
            if event.version != self._ledger.version + 1:
                raise CorruptStream(f"{self._stream}: version {event.version} after {self._ledger.version}")
            self._ledger.apply(decode(event))
        if not self._ledger.opened:
            self._ledger.open_unrecorded(PaperAccountOpened(
                aggregate_id=str(self._number), occurred_at=self._clock.now(), capital=self._terms.capital))


def _cancelled(written: Sequence[PaperEvent]) -> list[str]:
    """The client order ids a cancel wrote (every paper order has one)."""
    return [cloid for event in written if isinstance(event, PaperOrdersCancelled) for cloid in event.client_order_ids]
