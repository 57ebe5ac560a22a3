"""GET /reports/weekly (list, latest, one week as JSON or Markdown) and POST /reports/weekly, on in-memory
stores and a report folder of the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.read_models import InMemoryReadModels
from adapters.reports.files import FileReportStore
from application.event_codec import encode
from application.strategy_repository import StrategyRepository
from domain import events as ev
from domain.lifecycle import Strategy
from entrypoints.api.app import create_app
from entrypoints.container import Container, build_container
from entrypoints.settings import load_settings
from tests.api_keys import KEYED

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 9, 6, tzinfo=UTC)
WEEK = "2026-W10"


def seed_live_strategy(container: Container) -> None:
    at = NOW - timedelta(days=20)
    strategy = Strategy.generate("live-1", "MOM_LIVE", "MOM", "1h", "class S: pass\n", "test", at=at)
    strategy.record_backtest(backtest_id="bt-1", symbol="BTC", timeframe="1h", period_start=at - timedelta(days=90),
                             period_end=at, total_trades=40, win_rate=0.5, sharpe=1.2, total_return=0.2,
                             max_drawdown=0.1, expectancy=0.01, at=at)
    strategy.mark_tested("bt-1", at=at)
    strategy.select(80.0, 1, at=at)
    strategy.deploy(1, "paper", at=at)
    StrategyRepository(container.event_store()).save(strategy)
    for day, equity in enumerate((1000.0, 1010.0, 1030.0)):
        snapshot = ev.PortfolioSnapshotTaken(
            aggregate_id="1", occurred_at=NOW - timedelta(days=3 - day), strategy_id="live-1", equity=equity,
            cash=equity, realized_pnl=0.0, unrealized_pnl=0.0, peak_equity=equity, drawdown=0.0, daily_pnl=0.0,
            open_positions=0)
        container.event_store().append(snapshot.stream_id, [encode(snapshot)], None)


def is_problem(response: Any, status: int, title: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert (body["status"], body["title"]) == (status, title)
    return body


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    container = build_container(load_settings(REPO / "config" / "config.yaml", env={}))
    container.event_store.override(providers.Singleton(InMemoryEventStore))
    container.read_models.override(providers.Singleton(InMemoryReadModels))
    container.clock.override(providers.Object(ManualClock(NOW)))
    container.report_store.override(providers.Object(FileReportStore(tmp_path / "weekly")))
    seed_live_strategy(container)
    with TestClient(create_app(container, follow_projections=False), headers=KEYED) as test_client:
        yield test_client
    container.unwire()


def test_no_report_yet(client: TestClient) -> None:
    assert client.get("/reports/weekly").json() == {"weeks": [], "latest": None}
    assert "sixbtc report weekly" in is_problem(client.get("/reports/weekly/latest"), 404, "Not Found")["detail"]
    assert WEEK in is_problem(client.get(f"/reports/weekly/{WEEK}"), 404, "Not Found")["detail"]
    is_problem(client.get(f"/reports/weekly/{WEEK}/markdown"), 404, "Not Found")


@pytest.mark.parametrize(("week", "title"), [("2026-10", "Invalid request"), ("2026-W1", "Invalid request"),
                                             ("2025-W53", "InvalidWeek"), ("2026-W00", "InvalidWeek")])
def test_a_malformed_week_is_422(client: TestClient, week: str, title: str) -> None:
    is_problem(client.get(f"/reports/weekly/{week}"), 422, title)


def test_building_needs_a_key_then_the_report_is_served_by_week_and_as_latest(client: TestClient,
                                                                               tmp_path: Path) -> None:
    is_problem(client.post("/reports/weekly", headers={"X-API-Key": ""}), 401, "API key required")
    assert not (tmp_path / "weekly").exists()
    built = client.post("/reports/weekly")
    assert built.status_code == 201, built.text
    assert built.headers["location"] == f"/reports/weekly/{WEEK}"
    body = built.json()
    assert body["week"] == WEEK and body["totals"]["live_strategies"] == 1
    [strategy] = body["strategies"]
    assert (strategy["strategy_id"], strategy["subaccount"], strategy["status"]) == ("live-1", 1, "LIVE")
    assert strategy["return_in_week"] == pytest.approx(0.03) and strategy["live"]["backtest_expectancy"] == 0.01
    assert body["correlation"]["matrix"] == [[None]], "three snapshots are two daily returns: too few"
    assert client.get("/reports/weekly").json() == {"weeks": [WEEK], "latest": WEEK}
    assert client.get("/reports/weekly/latest").json() == client.get(f"/reports/weekly/{WEEK}").json() == body
    markdown = client.get(f"/reports/weekly/{WEEK}/markdown")
    assert markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text.startswith(f"# SixBTC weekly report {WEEK}") and "MOM_LIVE" in markdown.text
    assert sorted(p.name for p in (tmp_path / "weekly").iterdir()) == [f"{WEEK}.json", f"{WEEK}.md"]


def test_the_reports_are_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/reports/weekly", "/reports/weekly/latest", "/reports/weekly/{week}",
            "/reports/weekly/{week}/markdown"} <= set(paths)
    assert paths["/reports/weekly"]["post"]["security"] and "security" not in paths["/reports/weekly"]["get"]
    one = paths["/reports/weekly/{week}"]["get"]
    assert one["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("WeeklyReportView")
    assert "404" in one["responses"] and one["parameters"][0]["schema"]["pattern"]
