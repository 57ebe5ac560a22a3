"""Find a PostgreSQL server for the test session: env var, then 127.0.0.1:5432, then embedded."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from adapters.postgres.databases import drop_database, ensure_database
from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.engine import create_engine

LOCAL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _local_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            pass
    except OSError:
        return False
    engine = create_engine(LOCAL, pool_size=1, max_overflow=0, connect_timeout=2)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


@contextmanager
def server_url(workdir: Path) -> Iterator[URL]:
    configured = os.environ.get("SIXBTC_TEST_DATABASE_URL")
    if configured:
        yield make_url(configured)
    elif _local_answers():
        yield make_url(LOCAL)
    else:
        embedded = EmbeddedPostgres(workdir / "pg")
        try:
            yield embedded.start()
        finally:
            embedded.stop()


@contextmanager
def fresh_database(server: URL) -> Iterator[URL]:
    """A database of this session's own, dropped afterwards whatever happened."""
    url = make_url(server).set(database=f"sixbtc_test_{uuid.uuid4().hex[:12]}")
    ensure_database(url)
    try:
        yield url
    finally:
        drop_database(url)
