"""In-memory event store: real semantics without a server, for tests and offline use."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from application.ports.event_store import NO_STREAM, NewEvent, RecordedEvent, WrongExpectedVersion
from application.ports.event_store_rules import is_retry, prepare_batch


class InMemoryEventStore:
    """Positions are dense (1, 2, 3 ...), so position N sits at index N-1."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._all: list[RecordedEvent] = []
        self._streams: dict[str, list[RecordedEvent]] = {}
        self._stream_of_event: dict[str, str] = {}

    def append(self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None) -> int:
        prepared = prepare_batch(stream_id, events)
        with self._lock:
            stream = self._streams.get(stream_id, [])
            current = len(stream)
            stored = {e.event_id: self._stream_of_event[e.event_id] for e in prepared
                      if e.event_id in self._stream_of_event}
            if is_retry(stream_id, prepared, stored) or not prepared:
                return current
            if expected_version is not None and expected_version != current:
                raise WrongExpectedVersion(stream_id, expected_version, current)
            now = datetime.now(UTC)
            new = [
                RecordedEvent(
                    global_position=len(self._all) + i + 1,
                    stream_id=stream_id,
                    version=current + i + 1,
                    event_id=e.event_id,
                    event_type=e.event_type,
                    payload=e.payload,
                    metadata=e.metadata,
                    recorded_at=now,
                )
                for i, e in enumerate(prepared)
            ]
            self._all.extend(new)
            self._streams[stream_id] = stream + new
            for e in new:
                self._stream_of_event[e.event_id] = stream_id
            return current + len(new)

    def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        with self._lock:
            return list(self._streams.get(stream_id, [])[max(from_version, 1) - 1:])

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        with self._lock:
            start = max(after_position, 0)
            return self._all[start:start + limit]

    def stream_version(self, stream_id: str) -> int:
        with self._lock:
            return len(self._streams.get(stream_id, [])) or NO_STREAM

    def head_position(self) -> int:
        with self._lock:
            return len(self._all)
