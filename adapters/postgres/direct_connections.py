"""Driver connections for the event store's hot path, kept beside SQLAlchemy's pool, not in it.

The live loop makes ~100 event-store calls per bar. Checked out of the engine's pool, each paid a
pre-ping round trip and ~0.2 ms of Python (checkout, reset, events) before its own query, while
ten deciding threads share the GIL and the append lock. These connections are opened through the
engine (same URL, connect arguments and driver setup), stay in autocommit, and are reused as
they are. Instead of pinging first, a call that fails on a connection that sat idle (a server
restart, an idle timeout, a terminated backend) is made once more on a fresh one: every call of
the event store may be repeated, reads trivially and an append because it is idempotent by its
event ids (a batch already stored is answered, not written again).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg2
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.postgres.engine import unavailable
from application.ports.event_store import EventStoreUnavailable

T = TypeVar("T")

MAX_OPEN = 16
"""More than the live loop decides at once (10 by default) plus the API's readers."""
WAIT_S = 30.0
_BROKEN = (psycopg2.OperationalError, psycopg2.InterfaceError)


@dataclass(eq=False)
class Held:
    """A driver connection and the statements prepared on it (prepared statements live per session)."""

    connection: Any
    generation: int
    prepared: set[str] = field(default_factory=set)
    discarded: bool = False


class DirectConnections:
    """At most MAX_OPEN at once; a caller waits WAIT_S for one, then gets EventStoreUnavailable."""

    def __init__(self, engine: Engine) -> None:
        self._engine = weakref.ref(engine)
        self.database = engine.url.database
        self._lock = threading.Lock()
        self._idle: list[Held] = []
        self._slots = threading.BoundedSemaphore(MAX_OPEN)
        self._generation = 0
        self._pid = os.getpid()
        self._opened = 0
        self._in_use = 0
        self.peak_in_use = 0
        """The most calls that held a connection at once: more are never kept open."""
        sa.event.listen(engine, "engine_disposed", self._on_disposed)

    def run(self, work: Callable[[Any, Held], T]) -> T:
        """`work(cursor, held)` on a connection; once more on a fresh one if an idle one was broken."""
        if not self._slots.acquire(timeout=WAIT_S):
            raise EventStoreUnavailable(
                f"all {MAX_OPEN} event-store connections stayed busy for {WAIT_S:.0f} s")
        with self._lock:
            self._in_use += 1
            self.peak_in_use = max(self.peak_in_use, self._in_use)
        try:
            held, reused = self._take()
            try:
                return self._attempt(held, work)
            except _BROKEN as exc:
                if not reused:
                    raise self._unavailable(exc) from None
            held = self._open()
            try:
                return self._attempt(held, work)
            except _BROKEN as exc:
                raise self._unavailable(exc) from None
        finally:
            with self._lock:
                self._in_use -= 1
            self._slots.release()

    def close(self) -> None:
        """Close the idle connections; those in use are closed when they come back."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._generation += 1
            inherited = os.getpid() != self._pid
        if not inherited:  # a forked child leaves its parent's sessions open
            for held in idle:
                self._discard(held)

    def idle_count(self) -> int:
        with self._lock:
            return len(self._idle)

    def open_count(self) -> int:
        """Connections this process opened here and has not closed, idle or in use."""
        with self._lock:
            return self._opened

    def _attempt(self, held: Held, work: Callable[[Any, Held], T]) -> T:
        try:
            with held.connection.cursor() as cursor:
                result = work(cursor, held)
        except _BROKEN:
            self._discard(held)
            raise
        except Exception:
            self._give_back(held)  # autocommit: no transaction is left open by a failed statement
            raise
        except BaseException:
            self._discard(held)  # interrupted mid-call: the session's state is unknown
            raise
        self._give_back(held)
        return result

    def _take(self) -> tuple[Held, bool]:
        with self._lock:
            if os.getpid() != self._pid:
                # A forked child: the idle connections' sockets are the parent's. Left alone, not
                # closed (closing would end the parent's sessions); this process opens its own.
                self._pid, self._idle, self._opened = os.getpid(), [], 0
                self._generation += 1
            if self._idle:
                return self._idle.pop(), True
        return self._open(), False

    def _open(self) -> Held:
        engine = self._live_engine()
        with self._lock:
            generation = self._generation
        try:
            fairy = engine.raw_connection()
        except (sa.exc.OperationalError, *_BROKEN) as exc:  # raw_connection() does not wrap driver errors
            raise unavailable(engine, exc) from None
        fairy.detach()  # ours from now on: the engine's pool neither resets nor closes it
        connection = fairy.dbapi_connection
        try:
            connection.autocommit = True  # type: ignore[union-attr]
        except _BROKEN as exc:
            connection.close()  # type: ignore[union-attr]
            raise unavailable(engine, exc) from None
        with self._lock:
            self._opened += 1
        return Held(connection, generation)

    def _give_back(self, held: Held) -> None:
        with self._lock:
            if held.generation == self._generation and not held.connection.closed and os.getpid() == self._pid:
                self._idle.append(held)
                return
        self._discard(held)

    def _discard(self, held: Held) -> None:
        with self._lock:
            if held.discarded:
                return
            held.discarded = True
            if os.getpid() == self._pid:
                self._opened -= 1
        if not held.connection.closed:
            held.connection.close()

    def _unavailable(self, exc: BaseException) -> EventStoreUnavailable:
        try:
            return unavailable(self._live_engine(), exc)
        except EventStoreUnavailable as closed:
            return closed

    def _live_engine(self) -> Engine:
        engine = self._engine()
        if engine is None:
            raise EventStoreUnavailable("the event store's database engine was closed")
        return engine

    def _on_disposed(self, _engine: Engine) -> None:
        self.close()


_SHARED: weakref.WeakKeyDictionary[Engine, DirectConnections] = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def direct_connections(engine: Engine) -> DirectConnections:
    """One set per engine, shared by every event store on it, closed with `engine.dispose()`."""
    with _SHARED_LOCK:
        found = _SHARED.get(engine)
        if found is None:
            found = _SHARED[engine] = DirectConnections(engine)
        return found


def every_shared() -> list[DirectConnections]:
    """The sets of the engines alive in this process (a soak test counts their connections)."""
    with _SHARED_LOCK:
        return list(_SHARED.values())
