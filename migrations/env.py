"""Alembic environment: the URL comes from the caller (the app) or SIXBTC_DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context

from adapters.postgres.engine import create_engine

config = context.config
url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or os.environ.get(
    "SIXBTC_DATABASE_URL"
)
if not url:
    raise SystemExit("set SIXBTC_DATABASE_URL (or run `sixbtc db migrate`) to choose the database")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            context.configure(connection=conn, transaction_per_migration=True)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
