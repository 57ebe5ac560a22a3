"""With no database configured the app runs a real embedded PostgreSQL, and keeps its data."""

from __future__ import annotations

import uuid
from pathlib import Path

import sqlalchemy as sa

from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.engine import create_engine
from adapters.postgres.event_store import PostgresEventStore
from adapters.postgres.migrate import upgrade_to_head
from application.ports.event_store import NewEvent


def test_embedded_server_is_postgres_and_keeps_events_across_restarts(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg")
    url = server.start()
    try:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        with engine.connect() as conn:
            assert "PostgreSQL" in conn.execute(sa.text("SELECT version()")).scalar_one()
        upgrade_to_head(engine)
        PostgresEventStore(engine).append("s", [NewEvent(str(uuid.uuid4()), "Kept", {"n": 1})], None)
        engine.dispose()
    finally:
        server.stop()

    again = EmbeddedPostgres(tmp_path / "pg")
    url = again.start()
    try:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        assert [e.payload for e in PostgresEventStore(engine).read_stream("s")] == [{"n": 1}]
        engine.dispose()
    finally:
        again.stop()


def test_a_killed_earlier_user_does_not_keep_the_server_alive(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    first = EmbeddedPostgres(tmp_path / "pg")
    first.start()
    first.stop()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / "pg" / ".handle_pids.json").write_text(json.dumps([int(dead.stdout)]))

    server = EmbeddedPostgres(tmp_path / "pg")
    server.start()
    server.stop()
    assert not (tmp_path / "pg" / "postmaster.pid").exists()
