"""PostgreSQL event store: one `events` table, optimistic concurrency, ordered global positions.

The live loop reads and appends a subaccount's stream several times per decision, so the hot
paths talk to the driver directly, on connections of their own (direct_connections.py: no
pre-ping, no pool bookkeeping): reads run in autocommit (one round trip, no BEGIN/ROLLBACK)
and an append is one round trip, instead of seven statements compiled by SQLAlchemy each time.
Appends to different streams run side by side: each holds its stream's lock, and the ordering
lock only shared; read_all takes the ordering lock exclusively for its one query (see below).
When every append took one global lock, ten deciding threads queued on it: appends ran at the
rate of one connection (~1900/s here) instead of ~3100/s, and a bar of the live loop on
PostgreSQL took a quarter longer. Sent as one query, the locks, the checks and the insert run in
one implicit transaction on the server, never held while this process waits for its GIL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

import psycopg2
from sqlalchemy.engine import Engine

from adapters.postgres.direct_connections import Held, direct_connections
from application.ports.event_store import NO_STREAM, NewEvent, RecordedEvent, WrongExpectedVersion
from application.ports.event_store_rules import is_retry, prepare_batch

# A catch-up reader must never skip an event that commits after a later position did. Appends
# hold this lock shared (they run side by side) and read_all holds it exclusively for its query:
# it waits for the appends in flight to commit and holds new ones back until its snapshot is
# taken, so every position it can see below the newest one it returns is committed (a gap left
# is a rolled-back append's, for good). Readers are rare next to appends (~60 per bar live).
_ORDER_LOCK_KEY = 0x5B7C_0001
# Appends to one stream queue on this one (class key, hashtext(stream id)): the version they
# read is then the stream's last committed one. A collision of hashes only queues two streams.
_STREAM_LOCK_CLASS = 0x5B7C

_COLUMNS = "global_position, stream_id, version, event_id, event_type, payload, metadata, recorded_at"
_READ_STREAM = f"SELECT {_COLUMNS} FROM events WHERE stream_id = %s AND version >= %s ORDER BY version"
_READ_ALL = (f"SELECT pg_advisory_xact_lock({_ORDER_LOCK_KEY}); "
             f"SELECT {_COLUMNS} FROM events WHERE global_position > %s ORDER BY global_position LIMIT %s")
_VERSION = "SELECT max(version) FROM events WHERE stream_id = %s"
_HEAD = "SELECT max(global_position) FROM events"
# Several statements in one simple query run as one implicit transaction (autocommit on the
# client), so the transaction-level locks last until the insert commits. The locks come first, in
# statements of their own and always in this order (no deadlock with a reader): a statement's
# snapshot is taken when it starts, so the version read by the last one sees every append to the
# stream committed before the stream's lock was granted. The insert happens only when
# no id of the batch is stored and the expected version (NULL: any) holds; the caller reads why not.
_PREPARED = "sixbtc_append_v1"
_PREPARE = f"""PREPARE {_PREPARED} (text, integer, text[], text[], text[], text[]) AS
WITH state AS (SELECT coalesce(max(version), 0) AS current FROM events WHERE stream_id = $1),
stored AS (SELECT event_id, stream_id FROM events WHERE event_id = ANY($3)),
inserted AS (
    INSERT INTO events (stream_id, version, event_id, event_type, payload, metadata)
    SELECT $1, state.current + batch.n, batch.event_id, batch.event_type, batch.payload::jsonb, batch.metadata::jsonb
    FROM state, unnest($3, $4, $5, $6) WITH ORDINALITY AS batch(event_id, event_type, payload, metadata, n)
    WHERE NOT EXISTS (SELECT 1 FROM stored) AND ($2 IS NULL OR $2 = state.current)
    RETURNING 1
)
SELECT state.current, ARRAY(SELECT ARRAY[event_id, stream_id] FROM stored), (SELECT count(*) FROM inserted)
FROM state"""
_APPEND = (f"SELECT pg_advisory_xact_lock_shared({_ORDER_LOCK_KEY}); "
           f"SELECT pg_advisory_xact_lock({_STREAM_LOCK_CLASS}, hashtext(%(stream)s)); "
           f"EXECUTE {_PREPARED} (%(stream)s, %(expected)s, %(ids)s, %(types)s, %(payloads)s, %(metadata)s)")


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


class PostgresEventStore:
    def __init__(self, engine: Engine) -> None:
        self._connections = direct_connections(engine)

    def append(self, stream_id: str, events_: Sequence[NewEvent], expected_version: int | None) -> int:
        prepared = prepare_batch(stream_id, events_)
        parameters = {
            "stream": stream_id, "expected": expected_version,
            "ids": [e.event_id for e in prepared], "types": [e.event_type for e in prepared],
            "payloads": [_json(e.payload) for e in prepared], "metadata": [_json(e.metadata) for e in prepared],
        }

        def write(cursor: Any, held: Held) -> tuple[Any, Any, Any]:
            if _PREPARED not in held.prepared:
                cursor.execute(_PREPARE)
                held.prepared.add(_PREPARED)
            cursor.execute(_APPEND, parameters)
            return cast(tuple[Any, Any, Any], cursor.fetchone())

        try:
            found, stored_pairs, inserted = self._connections.run(write)
        except psycopg2.IntegrityError:
            # An id of the batch committed in another stream while this append ran (the stream's
            # lock does not cover that): once more, now that it is visible, to say so.
            try:
                found, stored_pairs, inserted = self._connections.run(write)
            except psycopg2.IntegrityError as exc:  # someone writing without the locks (another tool)
                raise WrongExpectedVersion(stream_id, expected_version or 0, self.stream_version(stream_id)) from exc
        current = int(found)
        if inserted:
            return current + len(prepared)
        if not prepared or is_retry(stream_id, prepared, dict(stored_pairs)):
            return current  # a resent batch (or an empty one): nothing written
        raise WrongExpectedVersion(stream_id, expected_version or 0, current)

    def read_stream(self, stream_id: str, from_version: int = 1) -> list[RecordedEvent]:
        return self._fetch(_READ_STREAM, (stream_id, from_version))

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        return self._fetch(_READ_ALL, (after_position, limit))

    def stream_version(self, stream_id: str) -> int:
        return int(self._scalar(_VERSION, (stream_id,)) or NO_STREAM)

    def head_position(self) -> int:
        return int(self._scalar(_HEAD, ()) or 0)

    def _scalar(self, sql: str, params: tuple[Any, ...]) -> Any:
        def query(cursor: Any, _held: Held) -> Any:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]
        return self._connections.run(query)

    def _fetch(self, sql: str, params: tuple[Any, ...]) -> list[RecordedEvent]:
        def query(cursor: Any, _held: Held) -> list[Any]:
            cursor.execute(sql, params)
            return cast(list[Any], cursor.fetchall())
        return [
            RecordedEvent(global_position=position, stream_id=stream, version=version, event_id=event_id,
                          event_type=event_type, payload=payload, metadata=metadata, recorded_at=recorded_at)
            for position, stream, version, event_id, event_type, payload, metadata, recorded_at
            in self._connections.run(query)
        ]
