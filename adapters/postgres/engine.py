"""Engines for PostgreSQL, and the translation of connection failures into port errors."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from application.ports.event_store import EventStoreUnavailable


def normalise_url(url: str | URL) -> URL:
    """Pin the psycopg2 driver: SQLAlchemy 2.1 otherwise picks psycopg 3 for postgresql://."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise EventStoreUnavailable(
            f"database URL must be PostgreSQL (postgresql://...), got {parsed.get_backend_name()!r}"
        )
    return parsed.set(drivername="postgresql+psycopg2")


def describe(url: str | URL) -> str:
    """Where a URL points, for messages: host, port and database, never the password."""
    parsed = make_url(url)
    socket_dir = parsed.query.get("host")
    host = parsed.host or (f"socket {socket_dir}" if socket_dir else "local socket")
    port = f":{parsed.port}" if parsed.port else ""
    return f"PostgreSQL at {host}{port}, database {parsed.database or '(default)'!r}"


def create_engine(url: str | URL, *, pool_size: int = 5, max_overflow: int = 10,
                  connect_timeout: int = 5) -> Engine:
    return sa.create_engine(
        normalise_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        connect_args={"connect_timeout": connect_timeout},
        json_serializer=_dumps,
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def check_reachable(engine: Engine) -> None:
    """Fail fast with one clear message instead of a driver traceback."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        raise unavailable(engine, exc) from None


def unavailable(engine: Engine, exc: BaseException) -> EventStoreUnavailable:
    reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
    password = engine.url.password
    if password:
        reason = reason.replace(str(password), "***")
    return EventStoreUnavailable(f"cannot reach {describe(engine.url)}: {reason}")
