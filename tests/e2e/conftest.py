from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import URL, Engine

from entrypoints.api.security import API_KEYS_VARIABLE
from tests.api_keys import TEST_API_KEY
from tests.conftest import empty_tables


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every app built here accepts TEST_API_KEY; clients send it with `headers=KEYED`."""
    monkeypatch.setenv(API_KEYS_VARIABLE, TEST_API_KEY)
    return TEST_API_KEY


@pytest.fixture
def database(clean_pg: Engine, pg_url: URL) -> Iterator[dict[str, str]]:
    """The environment of a `sixbtc` subprocess on an empty database, emptied again after the test so
    later tests count their own rows."""
    yield {"SIXBTC_DATABASE_URL": pg_url.render_as_string(hide_password=False)}
    empty_tables(clean_pg)
