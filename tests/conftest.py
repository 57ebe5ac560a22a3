from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from adapters.postgres.engine import create_engine
from adapters.postgres.migrate import upgrade_to_head
from tests.postgres_server import fresh_database, server_url
from tests.worker_crash_report import crash_report

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[URL]:
    with server_url(tmp_path_factory.mktemp("pgserver")) as url:
        yield url


@pytest.fixture(scope="session")
def pg_url(pg_server: URL) -> Iterator[URL]:
    with fresh_database(pg_server) as url:
        yield url


@pytest.fixture(scope="session")
def pg_engine(pg_url: URL) -> Iterator[Engine]:
    engine = create_engine(pg_url, pool_size=10, max_overflow=10)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


def empty_tables(engine: Engine) -> None:
    """Every table emptied, identities restarted."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "TRUNCATE events, projection_checkpoints, strategies, backtest_results, "
            "live_trades, performance_snapshots, validation_results, pipeline_runs, subaccounts, "
            "subaccount_positions, orders RESTART IDENTITY"
        ))


@pytest.fixture
def clean_pg(pg_engine: Engine) -> Engine:
    """Each test starts from nothing."""
    empty_tables(pg_engine)
    return pg_engine


@pytest.fixture(autouse=True)
def root_logging_as_it_was() -> Iterator[None]:
    """A test that configures logging (the CLI in process does) leaves no handler of its own on the root
    logger: its stream handler would otherwise write, from other tests' threads, to a capture already
    closed. pytest's own capture handlers come and go with each phase and are left to pytest."""
    root = logging.getLogger()
    before, level = set(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in before and not type(handler).__module__.startswith("_pytest"):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object | None) -> None:
    """In the controller, when an xdist worker dies: say how, so a CI log is enough to find why."""
    if error is not None:
        sys.stderr.write(crash_report(node, error))
