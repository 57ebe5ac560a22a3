from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import URL, Engine

from tests.conftest import empty_tables


@pytest.fixture
def database(clean_pg: Engine, pg_url: URL) -> Iterator[dict[str, str]]:
    """The environment of a `sixbtc` subprocess on an empty database, emptied again after the test so
    later tests count their own rows."""
    yield {"SIXBTC_DATABASE_URL": pg_url.render_as_string(hide_password=False)}
    empty_tables(clean_pg)
