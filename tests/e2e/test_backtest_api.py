"""POST /backtests and GET /backtests/{id} on in-memory adapters, with real candles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.read_models import InMemoryReadModels
from adapters.threads.runner import InlineTaskRunner
from domain.metrics import METRIC_NAMES
from entrypoints.api.app import create_app
from entrypoints.container import Container, build_container
from entrypoints.settings import load_settings
from tests.api_keys import KEYED
from tests.conftest import SHARED_DATA

REPO = Path(__file__).resolve().parents[2]
OHLCV = SHARED_DATA / "ohlcv"

pytestmark = pytest.mark.skipif(not OHLCV.is_dir(), reason=f"real candles not found at {OHLCV} (../shared/data)")


@pytest.fixture
def container() -> Iterator[Container]:
    container = build_container(load_settings(REPO / "config" / "config.yaml", env={}))
    container.event_store.override(providers.Singleton(InMemoryEventStore))
    container.read_models.override(providers.Singleton(InMemoryReadModels))
    container.clock.override(providers.Object(ManualClock(datetime(2026, 1, 1, tzinfo=UTC))))
    container.task_runner.override(providers.Singleton(InlineTaskRunner))
    yield container
    container.unwire()


def stored_strategy(container: Container) -> str:
    code = (REPO / "examples" / "strategies" / "rev_rsi_bands.py").read_text()
    name = container.register_strategy().execute(code, generator="example").name
    container.projection_runner().catch_up()
    return name


def test_a_backtest_job_runs_and_its_result_is_served_and_projected(container: Container) -> None:
    name = stored_strategy(container)
    with TestClient(create_app(container, follow_projections=False), headers=KEYED) as client:
        started = client.post("/backtests", json={"strategy": name, "symbols": ["BTC", "ETH"], "days": 30,
                                                  "data": str(OHLCV)})
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        assert started.headers["location"] == f"/backtests/{job_id}"
        body = client.get(f"/backtests/{job_id}").json()
    assert (body["status"], body["progress"], body["error"]) == ("done", 1.0, None)
    result = body["result"]
    assert set(result["metrics"]) >= set(METRIC_NAMES) and result["symbols"] == ["BTC", "ETH"]
    assert len(result["trades"]) == result["metrics"]["total_trades"] > 0
    container.projection_runner().catch_up()
    (row,) = container.read_models().rows("backtest_results")
    assert row["backtest_id"] == result["backtest_id"] and row["symbol"] == "BTC,ETH"


def test_unknown_jobs_strategies_and_bad_bodies_are_reported(container: Container) -> None:
    with TestClient(create_app(container, follow_projections=False), headers=KEYED) as client:
        assert client.get("/backtests/nope").status_code == 404
        assert client.post("/backtests", json={"code": "print('hi')"}).status_code == 422
        assert client.post("/backtests", json={"strategy": "x", "days": 0}).status_code == 422
        started = client.post("/backtests", json={"strategy": "missing", "data": str(OHLCV)})
        failed = client.get(f"/backtests/{started.json()['id']}").json()
        assert "/backtests" in client.get("/openapi.json").json()["paths"]
    assert failed["status"] == "failed" and "missing" in failed["error"]
