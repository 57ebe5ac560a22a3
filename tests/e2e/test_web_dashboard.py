"""The web dashboard (/ui) in headless Chromium, served by uvicorn on 127.0.0.1 from PostgreSQL.

The page must load, draw each subaccount's equity and drawdown with Plotly from the seeded
snapshots, list the seeded strategies, positions, trades and pipeline runs, and say so when there
is nothing to show. Chromium missing: skipped for a developer, a failure under CI or `make unit`
(see tests/e2e/browser.py).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from adapters.memory.event_store import InMemoryEventStore
from application.ports.event_store import EventStoreUnavailable
from entrypoints.api.app import create_app
from entrypoints.container import Container
from tests.e2e.browser import Element, chromium, dump_dom, parse, png_size, screenshot, serving
from tests.e2e.dashboard_support import HOURS, Seeded, seed_dashboard
from tests.e2e.execution_support import REPO, write_config
from tests.e2e.test_execution_api import container_for

SCREENSHOTS = REPO / "var" / "screenshots"


@pytest.fixture
def container(database: dict[str, str], tmp_path: Path) -> Iterator[Container]:
    container = container_for(write_config(tmp_path), database)
    yield container
    container.shutdown_resources()
    container.unwire()


def points(plot: Element) -> int:
    """Points drawn by the plot's line traces (Plotly draws each as one SVG path "Mx,yLx,y...")."""
    lines = [e.attrs.get("d", "") for e in plot.walk() if e.tag == "path" and "js-line" in e.classes]
    return sum(len(re.findall(r"[ML]", d)) for d in lines)


def assert_plotted(dom: Element, plot_id: str, at_least: int) -> None:
    plot = dom.find(plot_id)
    assert plot.having("main-svg"), f"{plot_id}: Plotly drew no chart"
    traces = [t for layer in plot.having("scatterlayer") for t in layer.walk() if "trace" in t.classes]
    assert traces, f"{plot_id}: the chart has no scatter trace"
    assert points(plot) >= at_least, f"{plot_id}: {points(plot)} points drawn, expected {at_least}+"


def test_the_dashboard_draws_the_seeded_system(container: Container, tmp_path: Path) -> None:
    browser = chromium()
    seeded: Seeded = seed_dashboard(container)
    with serving(create_app(container, follow_projections=False)) as base:
        dom = parse(dump_dom(browser, f"{base}/ui", tmp_path / "profile"))
        shot = screenshot(browser, f"{base}/ui", tmp_path / "dashboard.png", tmp_path / "profile")

    body = next(e for e in dom.walk() if e.tag == "body")
    assert body.attrs["data-state"] == "ready" and body.attrs["data-refresh-seconds"] == "5.0"
    assert "hidden" in dom.find("error").attrs, dom.find("error").content()
    status = dom.find("status").content()
    assert "OK" in status and "PAPER" in status and "LIVE 3" in status and "SELECTED 1" in status
    assert "3 active subaccounts" in status and "1 open positions" in status

    strategies = dom.find("strategies").rows()
    assert [(r[0], r[1]) for r in strategies] == [("MOM_01", "LIVE"), ("MOM_02", "LIVE"), ("MOM_03", "LIVE"),
                                                  ("MOM_04", "SELECTED")]
    assert strategies[0][2:6] == ["89.00", "1", "MOM", "1h"]

    for subaccount in seeded.snapshots:
        assert_plotted(dom, f"equity-{subaccount}", at_least=HOURS // 2)
        assert_plotted(dom, f"drawdown-{subaccount}", at_least=HOURS // 2)
        assert f"Subaccount {subaccount} · {seeded.strategy_ids[subaccount - 1]}" in dom.find(
            f"curve-{subaccount}").content()
    assert not [e for e in dom.walk() if e.attrs.get("id") == "equity-3"], "subaccount 3 has no snapshots"

    assert dom.find("positions").rows() == [["1", "strategy-01", "ETH", "long", "0.05", "3100.00",
                                             "2026-01-03 00:00"]]
    trades = dom.find("trades").rows()
    assert len(trades) == seeded.trades == 24
    assert {(r[1], r[3], r[4]) for r in trades} == {("1", "BTC", "long"), ("2", "BTC", "long")}
    assert trades[0][0] == "2026-01-02 23:30"  # newest first

    runs = {r[0]: r for r in dom.find("runs").rows()}
    assert runs["run-running"][1:5] == ["running", "63%", runs["run-running"][3], "1/4"]
    assert runs["run-running"][3].startswith("evaluated 1 of 4, as recorded")
    assert runs["run-completed"][1:7] == ["completed", "100%", "completed", "4/4", "2", "2"]

    assert png_size(shot) == (1400, 1800) and shot.stat().st_size > 50_000
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SCREENSHOTS / "dashboard.png")
    print(f"dashboard screenshot: {SCREENSHOTS / 'dashboard.png'} ({shot.stat().st_size} bytes)")


def test_an_empty_system_shows_messages_instead_of_charts(container: Container, tmp_path: Path) -> None:
    browser = chromium()
    with serving(create_app(container, follow_projections=False)) as base:
        dom = parse(dump_dom(browser, f"{base}/ui", tmp_path / "profile"))
    assert next(e for e in dom.walk() if e.tag == "body").attrs["data-state"] == "ready"
    assert not dom.having("main-svg")
    for section, message in (("strategies", "No strategies yet"), ("curves", "No performance snapshots yet"),
                             ("positions", "No open positions"), ("trades", "No closed trades yet"),
                             ("runs", "No pipeline runs yet")):
        assert message in dom.find(section).content(), section


def test_the_page_and_its_assets_are_served_locally_and_documented(container: Container) -> None:
    container.settings.override(providers.Object(container.settings().model_copy(update={
        "monitoring": container.settings().monitoring.model_copy(update={
            "dashboard": container.settings().monitoring.dashboard.model_copy(update={"refresh_seconds": 12.5})})})))
    with TestClient(create_app(container, follow_projections=False)) as client:
        page = client.get("/ui")
        plotly_js = client.get("/ui/assets/plotly.min.js")
        missing = client.get("/ui/assets/nothing.js")
        schema = client.get("/openapi.json").json()
        status = client.get("/ui/data/status").json()
    assert page.status_code == 200 and 'data-refresh-seconds="12.5"' in page.text
    assert "http" not in re.sub(r'href="/docs[^"]*"', "", page.text.split("<body")[0]), "an asset from elsewhere"
    assert plotly_js.status_code == 200 and b"plotly.js" in plotly_js.content[:2000]
    assert plotly_js.headers["cache-control"].startswith("public") and missing.status_code == 404
    dashboard = {path for path, ops in schema["paths"].items() if "dashboard" in ops.get("get", {}).get("tags", [])}
    assert dashboard == {"/ui/data/status", "/ui/data/equity", "/ui/data/trades", "/ui/data/pipeline-runs"}
    assert status["refresh_seconds"] == 12.5 and status["database"] == "reachable"


class DownStore(InMemoryEventStore):
    def head_position(self) -> int:
        raise EventStoreUnavailable("cannot reach PostgreSQL at db.example:5432: refused")


def test_the_status_says_degraded_when_the_database_is_down(container: Container) -> None:
    container.event_store.override(providers.Singleton(DownStore))
    with TestClient(create_app(container, follow_projections=False)) as client:
        response = client.get("/ui/data/status")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"], body["events_stored"]) == ("degraded", "unreachable", None)
    assert "db.example:5432" in body["detail"] and body["mode"] == "paper"
