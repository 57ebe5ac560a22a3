"""The stop and target a position leaves resting, cancelled before the position is closed.

They are cancelled by the ids the book holds (no read of the venue's open orders first), unless
the book may not know them all: after a failed decision on the subaccount (an order sent, its
booking lost) the venue is read instead (cancel_all) once per symbol, and so are symbols whose
orders the book holds by the venue's id only (adopted by reconciliation). What the cancel did not
find had gone on the venue: fired (its fills are booked by the caller), or cancelled with a sibling
that fired, which is booked as missing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import datetime

from application.ports.exchange import SubaccountExchange
from domain.client_order_ids import is_client_order_id
from domain.subaccount_book import SubaccountBook


class RestingTriggers:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._unsure: dict[int, set[str]] = {}
        """Per subaccount whose decision failed, the symbols not cancelled by a read of the venue since."""

    def distrust(self, subaccount: int, symbols: Iterable[str]) -> None:
        """The book of `subaccount` may miss an order the venue holds on these symbols."""
        with self._lock:
            self._unsure[subaccount] = set(symbols)

    def cancel(self, book: SubaccountBook, venue: SubaccountExchange, symbol: str, why: str, at: datetime,
               book_fired: Callable[[], None]) -> bool:
        """Cancel what rests on `symbol` and book it; True when the position was gone before
        (a trigger had fired). `book_fired` books the fills of triggers that fired."""
        ours = {o.order_id for o in book.open_orders.values() if o.symbol == symbol}
        cancelled = self._cancel(book, venue, symbol, sorted(ours))
        book.cancel_orders(cancelled, why, at)
        gone = ours - set(cancelled)
        if not gone:
            return False
        had = symbol in book.positions
        book_fired()
        for order_id in sorted(gone):
            if order_id in book.open_orders:  # not open on the venue and never filled: cancelled with its sibling
                book.reconcile_order(order_id, symbol, "missing", at)
        return had and symbol not in book.positions

    def _cancel(self, book: SubaccountBook, venue: SubaccountExchange, symbol: str, ids: list[str]) -> list[str]:
        with self._lock:
            unsure = self._unsure.get(book.subaccount, set())
            trusted = symbol not in unsure and all(is_client_order_id(i) for i in ids)
        if trusted:
            return venue.cancel_orders(symbol, ids) if ids else []
        cancelled = venue.cancel_all(symbol)
        with self._lock:
            unsure.discard(symbol)
            if not unsure:
                self._unsure.pop(book.subaccount, None)
        return cancelled
