"""Loads and saves SubaccountBooks: one event stream per subaccount, optimistic concurrency."""

from __future__ import annotations

import threading

from application.event_codec import decode, encode_chain
from application.ports.event_store import EventStore
from domain.events import SubaccountEvent
from domain.subaccount_book import SubaccountBook


def subaccount_stream(subaccount: int) -> str:
    return f"{SubaccountEvent.stream_prefix}-{subaccount}"


class SubaccountLedger:
    """Keeps each book it loaded and catches it up with newer events on the next load.

    Replaying a whole stream per decision would grow with every fill and snapshot; a book with
    unsaved events, or whose save failed, is replayed from the store again instead.
    """

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._books: dict[int, SubaccountBook] = {}
        self._lock = threading.Lock()
        self._locks: dict[int, threading.Lock] = {}

    def _lock_of(self, subaccount: int) -> threading.Lock:
        """One lock per subaccount: loading one never waits for another's database read."""
        with self._lock:
            return self._locks.setdefault(subaccount, threading.Lock())

    def load(self, subaccount: int) -> SubaccountBook:
        with self._lock_of(subaccount):
            book = self._books.get(subaccount)
            if book is not None and not book.has_pending:
                for recorded in self._store.read_stream(subaccount_stream(subaccount), book.version + 1):
                    book.apply_stored(decode(recorded))
                return book
            recorded_all = self._store.read_stream(subaccount_stream(subaccount))
            book = SubaccountBook.replay(subaccount, (decode(e) for e in recorded_all))
            self._books[subaccount] = book
            return book

    def save(self, book: SubaccountBook, *, correlation_id: str | None = None) -> int:
        """Append the book's new events; a concurrent writer makes this raise WrongExpectedVersion."""
        expected = book.stored_version
        events = book.pull_events()
        if not events:
            return expected
        encoded = encode_chain(events, correlation_id=correlation_id)
        try:
            return self._store.append(subaccount_stream(book.subaccount), encoded, expected_version=expected)
        except Exception:
            with self._lock_of(book.subaccount):
                self._books.pop(book.subaccount, None)  # its state holds events the store refused
            raise
