"""`sixbtc generate` and POST /strategies/generate, offline: no key, no network, the confined sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from dependency_injector import providers
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.read_models import InMemoryReadModels
from adapters.threads.runner import InlineTaskRunner
from entrypoints.api.app import create_app
from entrypoints.container import Container, build_container
from entrypoints.settings import load_settings
from tests.api_keys import KEYED
from tests.e2e.test_cli import REPO, sixbtc


@pytest.fixture
def database(database: dict[str, str]) -> dict[str, str]:
    """No AI key reaches the subprocess: generation must be offline here."""
    return {**database, "ANTHROPIC_API_KEY": "", "OPENAI_API_KEY": ""}


def test_offline_generation_stores_distinct_valid_strategies(database, clean_pg: Engine, tmp_path: Path) -> None:
    """The issue's bar: 50 offline strategies give at least 45 distinct ones past the gate, >= 4 types, >= 3 tfs."""
    result = sixbtc("generate", "--count", "50", "--provider", "offline", "--data", str(tmp_path), "--json",
                    env=database)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["requested"] == 50 and report["stored"] >= 45 and report["spent_usd"] == 0
    assert len(report["types"]) >= 4 and len(report["timeframes"]) >= 3
    with clean_pg.connect() as conn:
        rows = conn.execute(sa.text("SELECT name, generator, provenance FROM strategies")).all()
    assert len(rows) == report["stored"] and all(r.name.startswith("Strategy_") for r in rows)
    assert all(r.generator == "offline" and r.provenance["attempts"] for r in rows)
    again = sixbtc("generate", "--count", "5", "--provider", "offline", "--data", str(tmp_path), "--json",
                   env=database)
    assert json.loads(again.stdout)["stored"] == 0  # the same seed repeats the run: all duplicates


def test_asking_for_a_provider_without_a_key(database, tmp_path: Path) -> None:
    strict = tmp_path / "config.yaml"
    text = (REPO / "config" / "config.yaml").read_text()
    strict.write_text(text.replace("offline_fallback: true", "offline_fallback: false"))
    refused = sixbtc("generate", "--count", "1", "--provider", "anthropic", "--config", str(strict), env=database)
    assert refused.returncode == 2 and "claude" in refused.stderr and "Traceback" not in refused.stderr
    fallback = sixbtc("generate", "--count", "1", "--provider", "anthropic", "--data", str(tmp_path), "--json",
                      env=database)
    assert fallback.returncode == 0, fallback.stderr
    assert json.loads(fallback.stdout)["provider"] == "offline"


def test_the_api_generates_as_a_job() -> None:
    container: Container = build_container(load_settings(REPO / "config" / "config.yaml", env={}))
    container.event_store.override(providers.Singleton(InMemoryEventStore))
    container.read_models.override(providers.Singleton(InMemoryReadModels))
    container.task_runner.override(providers.Singleton(InlineTaskRunner))
    with TestClient(create_app(container, follow_projections=False), headers=KEYED) as client:
        started = client.post("/strategies/generate", json={"count": 3, "provider": "offline",
                                                            "data": "/nonexistent"})
        assert started.status_code == 202, started.text
        job = client.get(started.headers["location"]).json()
        assert client.post("/strategies/generate", json={"count": 0}).status_code == 422
        assert client.get("/strategies/generate/nope").status_code == 404
        container.projection_runner().catch_up()
        listed = client.get("/strategies").json()
    assert job["status"] == "done" and job["result"]["stored"] >= 2
    assert {s["name"] for s in listed} >= {s["name"] for s in job["result"]["strategies"] if s["status"] == "stored"}
    container.unwire()
