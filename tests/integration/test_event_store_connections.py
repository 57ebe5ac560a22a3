"""The event store's own connections (no pre-ping): broken ones are replaced, bounds hold, dispose closes."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from adapters.postgres import direct_connections as direct
from adapters.postgres.engine import create_engine
from adapters.postgres.event_store import PostgresEventStore
from application.ports.event_store import EventStoreUnavailable, NewEvent


def _event(n: int) -> NewEvent:
    return NewEvent(str(uuid.uuid4()), "Counted", {"n": n})


def _store_backends(engine: Engine) -> list[int]:
    """Backend pids of the idle event-store connections: the only ones in `application_name` 'es-test'."""
    with engine.connect() as conn:
        return list(conn.execute(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'es-test'"
        )).scalars())


def _terminate(engine: Engine, pids: list[int]) -> None:
    with engine.connect() as conn:
        for pid in pids:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})


@pytest.fixture
def tagged_engine(clean_pg: Engine, pg_url: URL) -> Iterator[Engine]:
    """A second engine on the test database whose connections can be told apart (and killed)."""
    engine = create_engine(pg_url.update_query_dict({"application_name": "es-test"}))
    yield engine
    engine.dispose()


def test_a_terminated_connection_is_replaced_and_the_call_made_once(tagged_engine: Engine, clean_pg: Engine) -> None:
    store = PostgresEventStore(tagged_engine)
    first = _event(1)
    assert store.append("s-1", [first], 0) == 1
    pids = _store_backends(clean_pg)
    assert pids, "the store keeps its connection for the next call"
    _terminate(clean_pg, pids)

    assert [e.payload for e in store.read_stream("s-1")] == [{"n": 1}]
    _terminate(clean_pg, _store_backends(clean_pg))
    assert store.append("s-1", [_event(2)], 1) == 2
    _terminate(clean_pg, _store_backends(clean_pg))
    assert store.append("s-1", [first], None) == 2, "a resent batch after a reconnect is answered, not written"
    assert [e.payload["n"] for e in store.read_stream("s-1")] == [1, 2]
    assert store.stream_version("s-1") == 2 and store.head_position() == 2
    connections = direct.direct_connections(tagged_engine)
    assert connections.open_count() == 1 == connections.peak_in_use, "each broken one was closed and counted out"


def test_an_unreachable_server_is_one_clear_error_without_the_password() -> None:
    with socketless_port() as port:
        engine = create_engine(f"postgresql://trader:hunter2-secret@127.0.0.1:{port}/sixbtc", connect_timeout=1)
        try:
            with pytest.raises(EventStoreUnavailable) as raised:
                PostgresEventStore(engine).read_stream("s-1")
        finally:
            engine.dispose()
    message = str(raised.value)
    assert f"PostgreSQL at 127.0.0.1:{port}, database 'sixbtc'" in message
    assert "hunter2" not in message


def test_dispose_closes_the_idle_connections(tagged_engine: Engine, clean_pg: Engine) -> None:
    store = PostgresEventStore(tagged_engine)
    other = PostgresEventStore(tagged_engine)
    store.append("s-1", [_event(1)], 0)
    assert other.read_stream("s-1")
    connections = direct.direct_connections(tagged_engine)
    assert connections.idle_count() == 1 == connections.open_count(), "stores on one engine share connections"
    tagged_engine.dispose()
    assert connections.idle_count() == 0 == connections.open_count()
    assert _store_backends(clean_pg) == []
    assert store.stream_version("s-1") == 1, "the engine can still be used after dispose, as SQLAlchemy's can"


def test_a_failed_statement_leaves_its_connection_usable(tagged_engine: Engine) -> None:
    connections = direct.direct_connections(tagged_engine)

    def divide(cursor: object, _held: direct.Held) -> None:
        cursor.execute("SELECT 1 / 0")  # type: ignore[attr-defined]

    with pytest.raises(psycopg2.errors.DivisionByZero):
        connections.run(divide)
    assert connections.idle_count() == 1, "autocommit: nothing is left open, so the connection is kept"
    assert PostgresEventStore(tagged_engine).head_position() == 0


def test_callers_beyond_the_bound_wait_then_get_a_clear_error(
        monkeypatch: pytest.MonkeyPatch, pg_url: URL, clean_pg: Engine) -> None:
    monkeypatch.setattr(direct, "MAX_OPEN", 1)
    monkeypatch.setattr(direct, "WAIT_S", 0.2)
    engine = create_engine(pg_url)
    try:
        connections = direct.direct_connections(engine)
        inside, release = threading.Event(), threading.Event()

        def hold(cursor: object, _held: direct.Held) -> None:
            inside.set()
            release.wait(10)

        holder = threading.Thread(target=connections.run, args=(hold,))
        holder.start()
        assert inside.wait(10)
        with pytest.raises(EventStoreUnavailable, match="all 1 event-store connections stayed busy for 0 s"):
            PostgresEventStore(engine).head_position()
        release.set()
        holder.join(10)
        assert PostgresEventStore(engine).head_position() == 0, "the slot is free again once the call ends"
    finally:
        engine.dispose()


@contextmanager
def socketless_port() -> Iterator[int]:
    """A local port nothing listens on: bound, never listening, released afterwards."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield int(bound.getsockname()[1])


def test_a_forked_child_opens_its_own_connections_and_leaves_the_parents_alone(
        tagged_engine: Engine, clean_pg: Engine) -> None:
    store = PostgresEventStore(tagged_engine)
    store.append("s-1", [_event(1)], 0)
    parents = _store_backends(clean_pg)
    assert len(parents) == 1
    pid = os.fork()
    if pid == 0:  # the child: read on a connection of its own, then drop what it inherited
        code = 1
        try:
            signal.alarm(15)  # never outlives the test, whatever lock it inherited held
            code = 0 if [e.payload for e in store.read_stream("s-1")] == [{"n": 1}] else 3
            tagged_engine.dispose()
        finally:
            os._exit(code)
    status = _wait_bounded(pid, 20.0)
    assert status is not None, "the forked child hung (killed after 20 s)"
    assert os.waitstatus_to_exitcode(status) == 0
    assert _store_backends(clean_pg) == parents, "the child neither used nor closed the parent's session"
    assert store.append("s-1", [_event(2)], 1) == 2, "the parent's connection still works"


def _wait_bounded(pid: int, seconds: float) -> int | None:
    """The child's wait status, or None after killing it when it did not exit in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return None
