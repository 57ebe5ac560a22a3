from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.read_models import InMemoryReadModels
from adapters.postgres.event_store import PostgresEventStore
from adapters.postgres.read_models import PostgresReadModels
from application.ports.event_store import EventStore
from application.ports.read_models import ReadModelStore


@pytest.fixture(params=["memory", "postgres"])
def backend(request: pytest.FixtureRequest) -> tuple[EventStore, ReadModelStore]:
    """The same suite runs against every adapter of the event-store and read-model ports."""
    if request.param == "memory":
        return InMemoryEventStore(), InMemoryReadModels()
    engine: Engine = request.getfixturevalue("clean_pg")
    return PostgresEventStore(engine), PostgresReadModels(engine)


@pytest.fixture
def store(backend: tuple[EventStore, ReadModelStore]) -> EventStore:
    return backend[0]


@pytest.fixture
def read_models(backend: tuple[EventStore, ReadModelStore]) -> ReadModelStore:
    return backend[1]
