"""The migrations create exactly the schema the adapters query, and the app upgrades itself."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from adapters.postgres.migrate import current_revision, head_revision, upgrade_to_head
from adapters.postgres.tables import metadata


def test_schema_is_at_head_and_matches_the_table_definitions(pg_engine: Engine) -> None:
    assert current_revision(pg_engine) == head_revision()
    with pg_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_upgrading_twice_is_harmless(pg_engine: Engine) -> None:
    upgrade_to_head(pg_engine)
    upgrade_to_head(pg_engine)
    assert current_revision(pg_engine) == head_revision()


def test_events_table_enforces_one_version_per_stream(pg_engine: Engine) -> None:
    with pg_engine.connect() as conn:
        constraints = {
            row[0] for row in conn.execute(sa.text(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'events'::regclass"))
        }
    assert {"uq_events_stream_version", "uq_events_event_id"} <= constraints
