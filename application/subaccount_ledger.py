"""Loads and saves SubaccountBooks: one event stream per subaccount, optimistic concurrency."""

from __future__ import annotations

from application.event_codec import decode, encode_chain
from application.ports.event_store import EventStore
from domain.events import SubaccountEvent
from domain.subaccount_book import SubaccountBook


def subaccount_stream(subaccount: int) -> str:
    return f"{SubaccountEvent.stream_prefix}-{subaccount}"


class SubaccountLedger:
    def __init__(self, store: EventStore) -> None:
        self._store = store

    def load(self, subaccount: int) -> SubaccountBook:
        recorded = self._store.read_stream(subaccount_stream(subaccount))
        return SubaccountBook.replay(subaccount, (decode(e) for e in recorded))

    def save(self, book: SubaccountBook, *, correlation_id: str | None = None) -> int:
        """Append the book's new events; a concurrent writer makes this raise WrongExpectedVersion."""
        expected = book.stored_version
        events = book.pull_events()
        if not events:
            return expected
        encoded = encode_chain(events, correlation_id=correlation_id)
        return self._store.append(subaccount_stream(book.subaccount), encoded, expected_version=expected)
