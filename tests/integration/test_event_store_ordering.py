"""PostgreSQL appends to different streams run side by side; a catch-up reader still never skips.

An append in flight is held open by hand here (the same locks and insert, not yet committed),
so what a reader or another writer does meanwhile is seen deterministically, not by luck.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import psycopg2
import pytest
from sqlalchemy.engine import URL, Engine

from adapters.postgres import event_store as pg
from adapters.postgres.event_store import PostgresEventStore
from application.ports.event_store import NewEvent, RecordedEvent


def _event() -> NewEvent:
    return NewEvent(str(uuid.uuid4()), "Counted", {})


@pytest.fixture
def in_flight(clean_pg: Engine, pg_url: URL) -> Iterator[psycopg2.extensions.connection]:
    """An append to stream 'a' that took its locks and inserted its event (position 1), uncommitted."""
    connection = psycopg2.connect(pg_url.render_as_string(hide_password=False).replace("+psycopg2", ""))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", (pg._ORDER_LOCK_KEY,))
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext('a'))", (pg._STREAM_LOCK_CLASS,))
        cursor.execute("INSERT INTO events (stream_id, version, event_id, event_type, payload) "
                       "VALUES ('a', 1, %s, 'Counted', '{}')", (str(uuid.uuid4()),))
    yield connection
    connection.rollback()
    connection.close()


def _in_thread(work: object) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []
    thread = threading.Thread(target=lambda: out.append(work()), daemon=True)  # type: ignore[operator]
    thread.start()
    return thread, out


def test_another_stream_appends_while_one_is_in_flight(in_flight: psycopg2.extensions.connection,
                                                      clean_pg: Engine) -> None:
    store = PostgresEventStore(clean_pg)
    other, version = _in_thread(lambda: store.append("b", [_event()], None))
    other.join(5)
    assert version == [1], "an append to stream b does not wait for stream a's"

    same, same_version = _in_thread(lambda: store.append("a", [_event()], None))
    same.join(0.5)
    assert same.is_alive(), "an append to stream a waits for the one in flight on a"
    in_flight.commit()
    same.join(5)
    assert same_version == [2]
    assert [e.version for e in store.read_stream("a")] == [1, 2]


def test_a_reader_waits_for_the_append_in_flight_instead_of_skipping_it(
        in_flight: psycopg2.extensions.connection, clean_pg: Engine) -> None:
    store = PostgresEventStore(clean_pg)
    assert store.append("b", [_event()], None) == 1  # committed first, at position 2
    reader, read = _in_thread(lambda: store.read_all(after_position=0))
    reader.join(0.5)
    assert reader.is_alive(), "position 2 is committed but position 1 is not: the reader must wait"
    in_flight.commit()
    reader.join(5)
    events: list[RecordedEvent] = read[0]  # type: ignore[assignment]
    assert [(e.global_position, e.stream_id) for e in events] == [(1, "a"), (2, "b")]
