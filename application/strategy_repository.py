"""Event-sourced Strategy repository: load by replaying the stream, save by appending."""

from __future__ import annotations

from application.event_codec import decode, encode_chain
from application.ports.event_store import EventStore
from domain.errors import DomainError
from domain.events import StrategyEvent
from domain.lifecycle import Strategy


class StrategyNotFound(DomainError):
    """No stream exists for this strategy id."""


def stream_of(strategy_id: str) -> str:
    return f"{StrategyEvent.stream_prefix}-{strategy_id}"


class StrategyRepository:
    def __init__(self, store: EventStore) -> None:
        self._store = store

    def get(self, strategy_id: str) -> Strategy:
        recorded = self._store.read_stream(stream_of(strategy_id))
        if not recorded:
            raise StrategyNotFound(f"no strategy with id {strategy_id!r}")
        return Strategy.replay(decode(e) for e in recorded)

    def exists(self, strategy_id: str) -> bool:
        return self._store.stream_version(stream_of(strategy_id)) > 0

    def save(self, strategy: Strategy, *, correlation_id: str | None = None) -> int:
        """Append pending events; a concurrent writer makes this raise WrongExpectedVersion."""
        expected = strategy.stored_version
        events = strategy.pull_events()
        if not events:
            return expected
        encoded = encode_chain(events, correlation_id=correlation_id)
        return self._store.append(stream_of(strategy.id), encoded, expected_version=expected)
