"""POST /validations and GET /validations/{id}: code runs in the confined sandbox, outcomes are events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.read_models import InMemoryReadModels
from adapters.threads.runner import InlineTaskRunner
from entrypoints.api.app import create_app
from entrypoints.container import Container, build_container
from entrypoints.settings import load_settings
from tests.api_keys import KEYED
from tests.conftest import SHARED_DATA
from tests.e2e.test_backtest_api import REPO, stored_strategy

OHLCV = SHARED_DATA / "ohlcv"
CORPUS = REPO / "tests" / "validation_corpus"

pytestmark = pytest.mark.skipif(not OHLCV.is_dir(), reason=f"real candles not found at {OHLCV} (../shared/data)")


@pytest.fixture
def container() -> Iterator[Container]:
    container = build_container(load_settings(REPO / "config" / "config.yaml", env={}))
    container.event_store.override(providers.Singleton(InMemoryEventStore))
    container.read_models.override(providers.Singleton(InMemoryReadModels))
    container.task_runner.override(providers.Singleton(InlineTaskRunner))
    yield container
    container.unwire()


def test_code_sent_over_http_is_validated_in_the_sandbox(container: Container) -> None:
    code = (CORPUS / "lookahead" / "dyn_qcut_regime.py").read_text()
    with TestClient(create_app(container, follow_projections=False), headers=KEYED) as client:
        started = client.post("/validations", json={"code": code, "origin": "qcut.py", "symbols": ["BTC"],
                                                    "days": 60, "data": str(OHLCV)})
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        assert started.headers["location"] == f"/validations/{job_id}"
        body = client.get(f"/validations/{job_id}").json()
        hostile = client.post("/validations", json={"code": "import os\nos.system('true')\n", "data": str(OHLCV)})
        refused = client.get(f"/validations/{hostile.json()['id']}").json()
    assert (body["status"], body["error"]) == ("done", None)
    result = body["result"]
    assert result["file"] == "qcut.py" and result["lookahead_free"] is False and result["passed"] is False
    assert refused["status"] == "done" and refused["result"]["sandbox_ok"] is False
    assert refused["result"]["violations"][0]["rule"] == "import_not_allowed"
    container.projection_runner().catch_up()
    rows = {r["origin"]: r for r in container.read_models().rows("validation_results")}
    assert rows["qcut.py"]["passed"] is False and rows["qcut.py"]["lookahead_free"] is False
    assert rows["<api>"]["sandbox_ok"] is False and rows["<api>"]["reasons"]


def test_stored_strategies_and_bad_bodies(container: Container) -> None:
    name = stored_strategy(container)
    with TestClient(create_app(container, follow_projections=False), headers=KEYED) as client:
        started = client.post("/validations", json={"strategy": name, "symbols": ["BTC"], "days": 60,
                                                    "data": str(OHLCV)})
        done = client.get(f"/validations/{started.json()['id']}").json()
        assert client.post("/validations", json={"code": "x", "strategy": name}).status_code == 422
        assert client.post("/validations", json={}).status_code == 422
        assert client.post("/validations", json={"strategy": "missing"}).status_code == 404
        assert client.get("/validations/nope").status_code == 404
        backtest_id = client.post("/backtests", json={"strategy": name, "data": str(OHLCV)}).json()["id"]
        assert client.get(f"/validations/{backtest_id}").status_code == 404  # a backtest job is not a validation
        assert "/validations" in client.get("/openapi.json").json()["paths"]
    assert done["status"] == "done" and done["result"]["sandbox_ok"] is True
    assert done["result"]["lookahead_free"] is True and done["result"]["shuffle_p_value"] is not None


def test_code_over_http_is_refused_when_the_sandbox_is_off(container: Container) -> None:
    settings = load_settings(REPO / "config" / "config.yaml", env={})
    unsafe = settings.model_copy(update={"validation": settings.validation.model_copy(
        update={"sandbox": settings.validation.sandbox.model_copy(update={"isolation": "none"})})})
    container.settings.override(providers.Object(unsafe))
    with TestClient(create_app(container, follow_projections=False), headers=KEYED) as client:
        refused = client.post("/validations", json={"code": "x = 1\n"})
    assert refused.status_code == 422 and "isolation is none" in refused.text
