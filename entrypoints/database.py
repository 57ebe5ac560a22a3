"""Choose the database: `database.url` (SIXBTC_DATABASE_URL in the shipped config), else an embedded server."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy.engine import Engine

from adapters.postgres.databases import ensure_database
from adapters.postgres.embedded import EmbeddedPostgres
from adapters.postgres.engine import check_reachable, create_engine, describe
from adapters.postgres.migrate import upgrade_to_head
from application.ports.event_store import EventStoreUnavailable
from entrypoints.settings import Settings

log = logging.getLogger(__name__)


def configured_url(settings: Settings) -> str | None:
    """`database.url` already holds ${SIXBTC_DATABASE_URL:-}, resolved and validated by the loader."""
    return settings.database.url or None


def open_database(settings: Settings) -> Iterator[Engine]:
    """A dependency-injector Resource: migrated engine in, server stopped and pool closed out."""
    url = configured_url(settings)
    embedded: EmbeddedPostgres | None = None
    if url is None:
        embedded = EmbeddedPostgres(Path(settings.database.embedded_dir))
        url = embedded.start().set(database="sixbtc").render_as_string(hide_password=False)
    engine = create_engine(
        url,
        pool_size=settings.database.pool_size,
        max_overflow=settings.database.max_overflow,
        connect_timeout=settings.database.connect_timeout_seconds,
    )
    try:
        _reach(engine, url)
        upgrade_to_head(engine)
        log.info("database ready", extra={"database": describe(engine.url)})
        yield engine
    finally:
        engine.dispose()
        if embedded is not None:
            embedded.stop()


def _reach(engine: Engine, url: str) -> None:
    try:
        check_reachable(engine)
    except EventStoreUnavailable as exc:
        if "does not exist" not in str(exc):
            raise
        ensure_database(url)
        check_reachable(engine)
