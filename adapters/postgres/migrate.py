"""Upgrade the schema to head: the app calls this on start, so a new release migrates itself."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from adapters.postgres.engine import unavailable

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
# Serialises concurrent starts (API and scheduler booting together) on one database.
_MIGRATE_LOCK_KEY = 0x5B7C_0002


def _config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["url"] = engine.url
    return cfg


def upgrade_to_head(engine: Engine) -> None:
    try:
        with engine.begin() as conn:
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATE_LOCK_KEY)))
            cfg = _config(engine)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except sa.exc.OperationalError as exc:
        raise unavailable(engine, exc) from None


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
