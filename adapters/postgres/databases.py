"""Create and drop whole databases: for first start on a fresh server and for test isolation."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from adapters.postgres.engine import create_engine, unavailable


def ensure_database(url: str | URL) -> None:
    """Create the URL's database if missing, connecting to the server's `postgres` database."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), pool_size=1, max_overflow=0)
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            ).scalar()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{_safe(target.database)}"'))
    except sa.exc.OperationalError as exc:
        raise unavailable(admin, exc) from None
    finally:
        admin.dispose()


def drop_database(url: str | URL) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), pool_size=1, max_overflow=0)
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{_safe(target.database)}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _safe(name: str | None) -> str:
    if not name or not all(ch.isalnum() or ch in "_-" for ch in name):
        raise ValueError(f"database name {name!r} must be letters, digits, '_' or '-'")
    return name
