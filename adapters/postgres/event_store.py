"""PostgreSQL event store: one `events` table, optimistic concurrency, ordered global positions."""

from __future__ import annotations

import json
from collections.abc import Sequence

import psycopg2
import sqlalchemy as sa
from psycopg2.extras import execute_values
from sqlalchemy.engine import Connection, Engine

from adapters.postgres.engine import unavailable
from adapters.postgres.tables import events
from application.ports.event_store import NO_STREAM, NewEvent, RecordedEvent, WrongExpectedVersion
from application.ports.event_store_rules import is_retry, prepare_batch

# Appends take this transaction-level advisory lock, so positions are committed in the order
# they are assigned and a catch-up reader can never skip an event committed late.
_APPEND_LOCK_KEY = 0x5B7C_0001


_INSERT = (
    "INSERT INTO events (stream_id, version, event_id, event_type, payload, metadata) VALUES %s"
)
_ROW = "(%s, %s, %s, %s, %s::jsonb, %s::jsonb)"


def _insert(conn: Connection, stream_id: str, current: int, prepared: Sequence[NewEvent]) -> None:
    """psycopg2's execute_values: one statement per 1,000 rows, the fastest path it offers."""
    rows = [
        (stream_id, current + i + 1, e.event_id, e.event_type, _json(e.payload), _json(e.metadata))
        for i, e in enumerate(prepared)
    ]
    with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
        execute_values(cursor, _INSERT, rows, template=_ROW, page_size=1000)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


class PostgresEventStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def append(self, stream_id: str, events_: Sequence[NewEvent], expected_version: int | None) -> int:
        prepared = prepare_batch(stream_id, events_)
        try:
            with self._engine.begin() as conn:
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_APPEND_LOCK_KEY)))
                current = self._version(conn, stream_id)
                if not prepared or is_retry(stream_id, prepared, self._stored(conn, prepared)):
                    return current
                if expected_version is not None and expected_version != current:
                    raise WrongExpectedVersion(stream_id, expected_version, current)
                _insert(conn, stream_id, current, prepared)
                return current + len(prepared)
        except (sa.exc.IntegrityError, psycopg2.IntegrityError) as exc:
            # Only reachable if someone writes without the lock (another tool): same meaning.
            raise WrongExpectedVersion(stream_id, expected_version or 0, self.stream_version(stream_id)) from exc
        except (sa.exc.OperationalError, psycopg2.OperationalError) as exc:
            raise unavailable(self._engine, exc) from None

    def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        query = (
            sa.select(events)
            .where(events.c.stream_id == stream_id, events.c.version >= from_version)
            .order_by(events.c.version)
        )
        return self._fetch(query)

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        query = (
            sa.select(events)
            .where(events.c.global_position > after_position)
            .order_by(events.c.global_position)
            .limit(limit)
        )
        return self._fetch(query)

    def stream_version(self, stream_id: str) -> int:
        try:
            with self._engine.connect() as conn:
                return self._version(conn, stream_id)
        except sa.exc.OperationalError as exc:
            raise unavailable(self._engine, exc) from None

    def head_position(self) -> int:
        try:
            with self._engine.connect() as conn:
                head = conn.execute(sa.select(sa.func.max(events.c.global_position))).scalar()
        except sa.exc.OperationalError as exc:
            raise unavailable(self._engine, exc) from None
        return int(head or 0)

    @staticmethod
    def _version(conn: Connection, stream_id: str) -> int:
        found = conn.execute(
            sa.select(sa.func.max(events.c.version)).where(events.c.stream_id == stream_id)
        ).scalar()
        return int(found or NO_STREAM)

    @staticmethod
    def _stored(conn: Connection, prepared: Sequence[NewEvent]) -> dict[str, str]:
        ids = [e.event_id for e in prepared]
        rows = conn.execute(
            sa.select(events.c.event_id, events.c.stream_id).where(events.c.event_id.in_(ids))
        ).all()
        return {row.event_id: row.stream_id for row in rows}

    def _fetch(self, query: sa.Select[tuple[object, ...]]) -> list[RecordedEvent]:
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
        except sa.exc.OperationalError as exc:
            raise unavailable(self._engine, exc) from None
        return [
            RecordedEvent(
                global_position=row["global_position"],
                stream_id=row["stream_id"],
                version=row["version"],
                event_id=row["event_id"],
                event_type=row["event_type"],
                payload=row["payload"],
                metadata=row["metadata"],
                recorded_at=row["recorded_at"],
            )
            for row in rows
        ]
