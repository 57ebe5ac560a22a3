"""`sixbtc pipeline`, `sixbtc classify` and the pipeline/strategies API, end to end on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_a_pipeline_run_then_classify_and_resume(database, clean_pg: Engine, tmp_path: Path) -> None:
    run = sixbtc("pipeline", "--count", "6", "--provider", "offline", "--data", str(tmp_path), "--days", "60",
                 "--json", env=database)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert {"run_id", "candidates", "passed", "selected"} <= set(report) and report["candidates"] == 6
    assert all({"name", "score", "reasons"} <= set(s) for s in report["selected"])
    assert len(report["decisions"]) == 6 and all(d["reasons"] for d in report["decisions"])
    assert report["synthetic"]  # no candles in the data folder: the synthetic market, and the report says so
    ranked = sixbtc("classify", "--limit", "3", "--json", env=database)
    assert ranked.returncode == 0, ranked.stderr
    assert json.loads(ranked.stdout)["run_id"] == report["run_id"]
    assert len(json.loads(ranked.stdout)["ranking"]) == 3
    again = sixbtc("pipeline", "--resume", report["run_id"], "--data", str(tmp_path), "--json", env=database)
    assert again.returncode == 0 and json.loads(again.stdout)["resumed"] is True
    missing = sixbtc("pipeline", "--resume", "no-such-run", "--data", str(tmp_path), env=database)
    assert missing.returncode == 2 and "no pipeline run" in missing.stderr and "Traceback" not in missing.stderr
    with clean_pg.connect() as conn:
        runs = conn.execute(sa.text("SELECT status, candidates FROM pipeline_runs")).all()
        evaluated = conn.execute(sa.text("SELECT count(*) FROM events WHERE event_type = 'CandidateEvaluated'"))
    assert [(r.status, r.candidates) for r in runs] == [("completed", 6)] and evaluated.scalar() == 6


def test_classify_before_any_run_is_a_clear_error(database) -> None:
    refused = sixbtc("classify", env=database)
    assert refused.returncode == 2 and "sixbtc pipeline" in refused.stderr


def test_the_api_runs_the_pipeline_and_serves_strategies() -> None:
    container: Container = build_container(load_settings(REPO / "config" / "config.yaml", env={}))
    container.event_store.override(providers.Singleton(InMemoryEventStore))
    container.read_models.override(providers.Singleton(InMemoryReadModels))
    container.task_runner.override(providers.Singleton(InlineTaskRunner))
    with TestClient(create_app(container, follow_projections=False), headers=KEYED) as client:
        started = client.post("/pipeline-runs", json={"count": 4, "provider": "offline", "days": 60,
                                                      "data": "/nonexistent"})
        assert started.status_code == 202, started.text
        run_id = started.json()["id"]
        done = client.get(f"/pipeline-runs/{run_id}").json()
        assert client.get("/pipeline-runs/nope").status_code == 404
        assert client.post("/pipeline-runs", json={"count": 0}).status_code == 422
        container.projection_runner().catch_up()
        listed = client.get("/strategies", params={"sort": "score"}).json()
        by_type = client.get("/strategies", params={"type": listed[0]["strategy_type"]}).json()
        detail = client.get(f"/strategies/{listed[0]['strategy_id']}").json()
        by_name = client.get(f"/strategies/{listed[0]['name']}").json()
        assert client.get("/strategies/nope").status_code == 404
    assert done["status"] == "done" and done["result"]["run_id"] == run_id and done["result"]["candidates"] == 4
    assert len(listed) == 4 and all(s["strategy_type"] == listed[0]["strategy_type"] for s in by_type)
    assert detail["provenance"]["provider"] == "offline" and detail["code"] and detail["validations"]
    assert by_name["strategy_id"] == detail["strategy_id"]
    container.unwire()
