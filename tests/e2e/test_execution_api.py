"""The execution endpoints on PostgreSQL, paper: deployments, rotations, stops, subaccounts, reconciliations.

The paper venue gets its instruments from the test (no meta call) and its candle feed is a
provider that fails the test if anything builds it: deploying, stopping and reconciling with
nothing open must never open a feed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from adapters.memory.clock import ManualClock
from application.ports.exchange import ExchangeUnavailable
from entrypoints.api.app import create_app
from entrypoints.container import Container, build_container
from entrypoints.settings import load_settings
from tests.api_keys import KEY_ENVIRON, KEYED
from tests.e2e.execution_support import FAKE_ADDRESS, INSTRUMENTS, T0, seed_selected, write_config


def no_feed() -> Any:
    raise AssertionError("the live candle feed was built, but nothing needed a price")


def container_for(config: Path, database: dict[str, str]) -> Container:
    container = build_container(load_settings(config, env=database, dotenv_path=config.parent / "none.env"))
    container.clock.override(providers.Object(ManualClock(T0)))
    container.instruments.override(providers.Object(INSTRUMENTS))
    container.live_candles.override(providers.Callable(no_feed))
    container.environ.override(providers.Object(dict(KEY_ENVIRON)))
    return container


@pytest.fixture
def paper(database: dict[str, str], tmp_path: Path) -> Iterator[tuple[TestClient, list[str]]]:
    container = container_for(write_config(tmp_path), database)
    ids = seed_selected(container.event_store(), 4)
    with TestClient(create_app(container, follow_projections=False), headers=KEYED) as client:
        yield client, ids
    container.shutdown_resources()
    container.unwire()


def is_problem(response: Any, status: int, title: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert (body["status"], body["title"]) == (status, title)
    return body


def test_a_dry_run_plans_then_a_deployment_fills_the_test_subaccounts(paper: tuple[TestClient, list[str]]) -> None:
    client, ids = paper
    store = client.app.state.container.event_store()  # type: ignore[attr-defined]
    head = store.head_position()
    planned = client.post("/deployments", json={"dry_run": True})
    assert planned.status_code == 200, planned.text
    assert store.head_position() == head
    assert [s["status"] for s in planned.json()["steps"]] == ["planned"] * 3 + ["skipped"]
    assert all(s["status"] == "free" for s in client.get("/subaccounts").json())

    deployed = client.post("/deployments", json={"plan": "test"})
    assert deployed.status_code == 201, deployed.text
    body = deployed.json()
    assert (body["mode"], body["plan"], body["dry_run"]) == ("paper", "test", False)
    assert [(s["strategy_id"], s["subaccount"], s["capital"], s["status"]) for s in body["steps"][:3]] == [
        (ids[0], 1, 100.0, "deployed"), (ids[1], 2, 100.0, "deployed"), (ids[2], 3, 100.0, "deployed")]
    assert body["steps"][3]["status"] == "skipped"

    listed = client.get("/subaccounts")
    assert listed.status_code == 200 and "0x" not in listed.text
    rows = listed.json()
    assert [(r["subaccount"], r["status"], r["strategy_id"]) for r in rows[:4]] == [
        (1, "active", ids[0]), (2, "active", ids[1]), (3, "active", ids[2]), (4, "free", None)]
    assert len(rows) == 10 and rows[0]["positions"] == [] and rows[0]["mode"] == "paper"
    assert client.get("/strategies", params={"status": "LIVE"}).json()[0]["subaccount"] == 1


def test_deployment_errors(paper: tuple[TestClient, list[str]]) -> None:
    client, ids = paper
    is_problem(client.post("/deployments", json={"strategy_ids": ["nope"]}), 404, "StrategyNotFound")
    assert client.post("/deployments", json={"plan": "everything"}).status_code == 422
    assert client.post("/deployments", json={"strategy_ids": [ids[0], ids[0]]}).status_code == 422
    assert client.post("/deployments", json={"strategy_ids": [" "]}).status_code == 422
    assert client.post("/deployments", json={"strategy_ids": [ids[0]]}).status_code == 201
    skipped = client.post("/deployments", json={"strategy_ids": [ids[0]]}).json()["steps"][0]
    assert skipped["status"] == "skipped" and "not SELECTED" in skipped["reason"]


def test_rotation_and_stop(paper: tuple[TestClient, list[str]]) -> None:
    client, ids = paper
    assert client.post("/deployments", json={}).status_code == 201

    rotated = client.post("/rotations", json={"old_strategy_id": ids[0], "new_strategy_id": ids[3],
                                              "reason": "a better score"})
    assert rotated.status_code == 201, rotated.text
    assert rotated.json()["stopped"]["subaccount"] == 1 and rotated.json()["deployed"]["subaccount"] == 1
    assert "a better score" in rotated.json()["stopped"]["reason"]
    first = client.get("/subaccounts").json()[0]
    assert (first["strategy_id"], first["previous_strategy_id"]) == (ids[3], ids[0])

    refused = is_problem(client.post("/rotations", json={"old_strategy_id": ids[1], "new_strategy_id": ids[0],
                                                         "reason": "x"}), 409, "DeploymentRefused")
    assert "SELECTED" in refused["detail"]
    is_problem(client.post("/rotations", json={"old_strategy_id": ids[1], "new_strategy_id": "nope",
                                               "reason": "x"}), 404, "StrategyNotFound")
    assert client.post("/rotations", json={"old_strategy_id": ids[1], "new_strategy_id": ids[1],
                                           "reason": "x"}).status_code == 422

    stopped = client.post(f"/strategies/{ids[1]}/stop", json={"reason": "drawdown"})
    assert stopped.status_code == 200, stopped.text
    assert stopped.json() == {"strategy_id": ids[1], "subaccount": 2, "reason": "drawdown", "cancelled_orders": [],
                              "closed_symbols": [], "realized_pnl": 0.0}
    second = client.get("/subaccounts").json()[1]
    assert (second["status"], second["unassigned_reason"]) == ("free", "drawdown")
    is_problem(client.post(f"/strategies/{ids[1]}/stop", json={"reason": "again"}), 409, "NotDeployed")
    is_problem(client.post("/strategies/nope/stop", json={"reason": "x"}), 404, "StrategyNotFound")
    assert client.post(f"/strategies/{ids[2]}/stop", json={"reason": "  "}).status_code == 422
    assert client.post(f"/strategies/{ids[2]}/stop", json={}).status_code == 422


def test_reconciliations(paper: tuple[TestClient, list[str]]) -> None:
    client, _ = paper
    assert client.post("/deployments", json={}).status_code == 201
    every = client.post("/reconciliations", json={})
    assert every.status_code == 200, every.text
    assert every.json()["mode"] == "paper"
    reports = every.json()["reconciliations"]
    assert [r["subaccount"] for r in reports] == list(range(1, 11))
    assert all(r["clean"] and r["account_value"] == 100.0 for r in reports)
    one = client.post("/reconciliations", json={"subaccount": 2}).json()["reconciliations"]
    assert [r["subaccount"] for r in one] == [2]
    assert client.post("/reconciliations", json={"subaccount": 11}).status_code == 422
    assert client.get("/subaccounts").json()[1]["last_reconciled_at"] is not None


def test_an_unconfigured_subaccount_is_404(database: dict[str, str], tmp_path: Path) -> None:
    config = write_config(tmp_path)
    config.write_text(config.read_text().replace("    count: 10", "    count: 5"))
    container = container_for(config, database)
    with TestClient(create_app(container, follow_projections=False), headers=KEYED) as client:
        is_problem(client.post("/reconciliations", json={"subaccount": 7}), 404, "UnknownSubaccount")
        assert len(client.get("/subaccounts").json()) == 5
    container.shutdown_resources()


def test_live_is_refused_with_403_and_an_unreachable_venue_is_503(database: dict[str, str], tmp_path: Path) -> None:
    container = container_for(write_config(tmp_path, mode="live", subaccounts={1: FAKE_ADDRESS}), database)
    container.live_requested.override(providers.Object(True))
    with TestClient(create_app(container, follow_projections=False), headers=KEYED) as client:
        refused = is_problem(client.post("/deployments", json={}), 403, "LiveTradingRefused")
        assert "HL_PRIVATE_KEY" in refused["detail"] and "deployment.mode" not in refused["detail"]
        assert FAKE_ADDRESS not in refused["detail"]
        is_problem(client.post("/reconciliations", json={}), 403, "LiveTradingRefused")
        container.live_requested.override(providers.Object(False))

        def down() -> Any:
            raise ExchangeUnavailable("cannot load Hyperliquid's instrument list: connection refused")

        container.instruments.override(providers.Callable(down))
        offline = client.post("/deployments", json={"dry_run": True})
        assert offline.status_code == 200, "a paper deploy needs neither the instrument list nor a price"

        class Unreachable:
            mode = "live"

            def subaccounts(self) -> tuple[int, ...]:
                return (1,)

            def subaccount(self, number: int) -> Any:
                raise ExchangeUnavailable("Hyperliquid did not answer: connection refused")

            def close(self) -> None:
                pass

        container.exchange.override(providers.Object(Unreachable()))
        unavailable = is_problem(client.post("/reconciliations", json={}), 503, "ExchangeUnavailable")
        assert "connection refused" in unavailable["detail"]
    container.shutdown_resources()


def test_the_execution_endpoints_are_documented(paper: tuple[TestClient, list[str]]) -> None:
    client, _ = paper
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in (("/deployments", "post"), ("/rotations", "post"), ("/strategies/{strategy_id}/stop", "post"),
                         ("/subaccounts", "get"), ("/reconciliations", "post")):
        operation = paths[path][method]
        assert operation["summary"] and operation["tags"] == ["execution"], path
