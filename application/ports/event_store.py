"""Event store port: the system of record for every fact SixBTC learns.

Streams hold the events of one aggregate in version order (1, 2, 3 ...); the global position
orders every event of every stream, and a reader that has seen position N never later finds
an event at a position <= N (adapters must guarantee it, so projections can catch up safely).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

ANY_VERSION: int | None = None
NO_STREAM = 0


class EventStoreError(Exception):
    """Base of the errors an event store raises, whatever the backend."""


class WrongExpectedVersion(EventStoreError):
    """Optimistic concurrency: someone else appended to the stream first; nothing was written."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream_id!r}: expected version {expected}, found {actual}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class DuplicateEventId(EventStoreError):
    """An event id is already stored in another stream or in a different batch."""


class InvalidEventPayload(EventStoreError):
    """A payload that cannot be stored faithfully as JSON (NaN, NUL characters, objects)."""


class EventStoreUnavailable(EventStoreError):
    """The backing store cannot be reached; the message never carries credentials."""


@dataclass(frozen=True)
class NewEvent:
    event_id: str
    event_type: str
    payload: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordedEvent:
    global_position: int
    stream_id: str
    version: int
    event_id: str
    event_type: str
    payload: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: datetime


@runtime_checkable
class EventStore(Protocol):
    def append(self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None) -> int:
        """Append atomically and return the stream's new version.

        `expected_version` is the version the caller last saw (NO_STREAM for a new stream) or
        None to skip the check. Re-sending a batch whose event ids are all stored already in
        this stream is a no-op that returns the current version (safe retries).
        """
        ...

    def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]: ...

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Events with global_position > after_position, in position order."""
        ...

    def stream_version(self, stream_id: str) -> int: ...

    def head_position(self) -> int: ...


def canonical_json(value: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Check a payload can be stored losslessly in JSON, and return the form every store returns.

    Both adapters call this so the in-memory store refuses exactly what Postgres would mangle
    or reject, and returns lists where the caller passed tuples, as Postgres does.
    """
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise InvalidEventPayload(f"{what} is not plain JSON: {exc}") from None
    decoded: dict[str, Any] = json.loads(text)
    if "\\u0000" in text and _has_nul(decoded):
        raise InvalidEventPayload(f"{what} contains a NUL character, which PostgreSQL JSONB cannot store")
    return decoded


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False
