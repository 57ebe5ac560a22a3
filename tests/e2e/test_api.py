"""The REST API on in-memory adapters (container overrides), and against a database that is down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.read_models import InMemoryReadModels
from application.ports.event_store import EventStoreUnavailable
from entrypoints.api.app import create_app
from entrypoints.container import Container, build_container
from entrypoints.settings import load_settings
from tests.api_keys import KEYED

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def container() -> Iterator[Container]:
    container = build_container(load_settings(REPO / "config" / "config.yaml", env={}))
    container.event_store.override(providers.Singleton(InMemoryEventStore))
    container.read_models.override(providers.Singleton(InMemoryReadModels))
    container.clock.override(providers.Object(ManualClock(T0)))
    yield container
    container.unwire()


def test_health_reports_database_version_and_uptime(container: Container) -> None:
    with TestClient(create_app(container, follow_projections=False), headers=KEYED) as client:
        container.clock().advance(timedelta(seconds=42))
        body = client.get("/health").json()
    assert body["status"] == "ok" and body["database"] == "reachable"
    assert body["uptime_seconds"] == 42.0 and body["version"]


def test_strategies_endpoint_serves_the_projection(container: Container) -> None:
    code = (REPO / "examples" / "strategies" / "mom_ema_cross.py").read_text()
    container.register_strategy().execute(code, generator="example")
    container.projection_runner().catch_up()
    with TestClient(create_app(container, follow_projections=False), headers=KEYED) as client:
        rows = client.get("/strategies").json()
        assert client.get("/strategies", params={"status": "live"}).json() == []
    assert [(r["strategy_type"], r["status"]) for r in rows] == [("MOM", "PENDING")]


def test_openapi_docs_are_served(container: Container) -> None:
    with TestClient(create_app(container, follow_projections=False), headers=KEYED) as client:
        assert client.get("/docs").status_code == 200
        paths = client.get("/openapi.json").json()["paths"]
    assert {"/health", "/strategies"} <= set(paths)


class DownStore(InMemoryEventStore):
    def head_position(self) -> int:
        raise EventStoreUnavailable("cannot reach PostgreSQL at db.example:5432, database 'sixbtc': refused")


def test_health_is_503_when_the_database_is_down(container: Container) -> None:
    container.event_store.override(providers.Singleton(DownStore))
    with TestClient(create_app(container, follow_projections=False), headers=KEYED) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert "db.example:5432" in response.json()["detail"]
