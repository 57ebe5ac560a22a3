"""The emergency stop end to end on PostgreSQL, paper: POST /emergency-stop and `sixbtc emergency-stop`.

Three strategies are deployed and one holds a protected BTC position, priced from candles held
in memory; the kill switch must leave every strategy RETIRED with the reason, the venue flat (no
position, no trigger order) and every subaccount free.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from dependency_injector import providers
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from adapters.memory.live_candles import MemoryLiveCandles
from application.open_position import EntryRequest
from application.ports.exchange import ExchangeUnavailable
from entrypoints.api.app import create_app
from entrypoints.cli import emergency_commands
from entrypoints.cli.main import build_parser
from entrypoints.container import Container
from entrypoints.execution import price_timeframe
from tests.api_keys import KEYED
from tests.e2e.execution_support import T0, seed_selected, write_config
from tests.e2e.test_cli import sixbtc
from tests.e2e.test_execution_api import container_for, is_problem

BTC = 50_000.0


def priced(container: Container) -> MemoryLiveCandles:
    """One BTC bar at the paper venue's price timeframe, so a position can be opened and closed."""
    feed = MemoryLiveCandles(clock=container.clock())
    feed.append("BTC", price_timeframe(container.settings()), T0, BTC, BTC, BTC, BTC, 1.0)
    container.live_candles.override(providers.Object(feed))
    return feed


class FailingOn:
    """The paper venue, but one subaccount does not answer."""

    def __init__(self, exchange: Any, down: int) -> None:
        self._exchange, self._down = exchange, down
        self.mode = exchange.mode

    def subaccounts(self) -> tuple[int, ...]:
        return tuple(self._exchange.subaccounts())

    def subaccount(self, number: int) -> Any:
        if number == self._down:
            raise ExchangeUnavailable(f"subaccount {number}: Hyperliquid did not answer: connection refused")
        return self._exchange.subaccount(number)

    def close(self) -> None:
        pass


@pytest.fixture
def deployed(database: dict[str, str], tmp_path: Path) -> Iterator[tuple[TestClient, Container, list[str]]]:
    """Strategies 1..3 LIVE on subaccounts 1..3; subaccount 2 long BTC with a stop on the venue."""
    container = container_for(write_config(tmp_path), database)
    priced(container)
    ids = seed_selected(container.event_store(), 3)
    with TestClient(create_app(container, follow_projections=False), headers=KEYED) as client:
        assert client.post("/deployments", json={}).status_code == 201
        opened = container.position_opener().open(EntryRequest(
            subaccount=2, strategy_id=ids[1], symbol="BTC", side="buy", size=0.001, bar_time=T0,
            max_slippage=0.01, stop_loss_pct=0.05))
        assert opened.status == "filled" and opened.protective_order_ids, opened
        container.projection_runner().catch_up()
        yield client, container, ids
    container.shutdown_resources()
    container.unwire()


def venue_holdings(container: Container) -> dict[int, tuple[int, int]]:
    """Positions and open orders per subaccount, as the venue sees them."""
    exchange = container.exchange()
    return {n: (len(exchange.subaccount(n).positions()), len(exchange.subaccount(n).open_orders()))
            for n in exchange.subaccounts()}


def test_the_kill_switch_flattens_everything_and_retires_every_strategy(
        deployed: tuple[TestClient, Container, list[str]]) -> None:
    client, container, ids = deployed
    assert venue_holdings(container)[2] == (1, 1)
    assert client.get("/subaccounts").json()[1]["positions"][0]["symbol"] == "BTC"

    stopped = client.post("/emergency-stop", json={"all": True, "reason": "kill switch drill"})
    assert stopped.status_code == 200, stopped.text
    body = stopped.json()
    assert (body["mode"], body["reason"], body["complete"]) == ("paper", "kill switch drill", True)
    outcomes = {o["subaccount"]: o for o in body["stopped"]}
    assert sorted(outcomes) == list(range(1, 11))
    assert [(outcomes[n]["strategy_id"], outcomes[n]["closed_symbols"]) for n in (1, 2, 3, 4)] == [
        (ids[0], []), (ids[1], ["BTC"]), (ids[2], []), (None, [])]

    assert set(venue_holdings(container).values()) == {(0, 0)}
    for strategy_id in ids:
        strategy = client.get(f"/strategies/{strategy_id}").json()
        assert (strategy["status"], strategy["retired_reason"]) == ("RETIRED", "kill switch drill")
    rows = client.get("/subaccounts").json()
    assert all(r["status"] == "free" and r["positions"] == [] for r in rows)
    assert [r["unassigned_reason"] for r in rows[:3]] == ["kill switch drill"] * 3

    again = client.post("/emergency-stop", json={"all": True})
    assert again.status_code == 200 and again.json()["reason"] == "manual emergency stop"
    assert all(o["strategy_id"] is None and o["closed_symbols"] == [] for o in again.json()["stopped"])


def test_one_subaccount_stops_only_that_one(deployed: tuple[TestClient, Container, list[str]]) -> None:
    client, container, ids = deployed
    stopped = client.post("/emergency-stop", json={"subaccount": 2, "reason": "drawdown on 2"})
    assert stopped.status_code == 200, stopped.text
    assert stopped.json()["stopped"] == [{"subaccount": 2, "strategy_id": ids[1], "reason": "drawdown on 2",
                                          "closed_symbols": ["BTC"]}]
    assert venue_holdings(container)[2] == (0, 0)
    rows = client.get("/subaccounts").json()
    assert [(r["status"], r["strategy_id"]) for r in rows[:3]] == [("active", ids[0]), ("free", None),
                                                                   ("active", ids[2])]
    statuses = {s["strategy_id"]: s["status"] for s in client.get("/strategies").json()}
    assert statuses == {ids[0]: "LIVE", ids[1]: "RETIRED", ids[2]: "LIVE"}


def test_bad_bodies_are_422(deployed: tuple[TestClient, Container, list[str]]) -> None:
    client, _, _ = deployed
    for body in ({}, {"all": False}, {"all": True, "subaccount": 2}, {"subaccount": 0}, {"subaccount": 11},
                 {"subaccount": 2, "reason": "  "}, {"all": "everything"}):
        assert client.post("/emergency-stop", json=body).status_code == 422, body
    assert {s["status"] for s in client.get("/strategies").json()} == {"LIVE"}
    operation = client.get("/openapi.json").json()["paths"]["/emergency-stop"]["post"]
    assert operation["summary"] and operation["tags"] == ["execution"]


def test_a_subaccount_the_venue_refuses_does_not_keep_the_others_open(
        deployed: tuple[TestClient, Container, list[str]]) -> None:
    client, container, ids = deployed
    container.exchange.override(providers.Object(FailingOn(container.exchange(), down=3)))
    cut_short = is_problem(client.post("/emergency-stop", json={"all": True}), 503, "EmergencyStopIncomplete")
    assert "subaccount 3" in cut_short["detail"] and "Done: 1, 2, 4, 5, 6, 7, 8, 9, 10" in cut_short["detail"]
    container.exchange.reset_override()
    assert venue_holdings(container)[2] == (0, 0)
    statuses = {s["strategy_id"]: s["status"] for s in client.get("/strategies").json()}
    assert statuses == {ids[0]: "RETIRED", ids[1]: "RETIRED", ids[2]: "LIVE"}


def test_the_cli_exits_1_and_names_what_was_done_when_the_venue_fails(
        deployed: tuple[TestClient, Container, list[str]], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """In process (the test's container), so the venue can fail; the subprocess test below runs the real one."""
    _, container, ids = deployed
    container.exchange.override(providers.Object(FailingOn(container.exchange(), down=1)))

    class Context:
        def __init__(self, *_: Any) -> None:
            pass

        def __enter__(self) -> tuple[Container, str]:
            return container, "paper"

        def __exit__(self, *_: Any) -> None:
            pass

    monkeypatch.setattr(emergency_commands, "execution_container", Context)
    args = build_parser().parse_args(["emergency-stop", "--all", "--json"])
    assert args.handler(args) == 1
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["complete"] is False and [f["subaccount"] for f in report["failed"]] == [1]
    assert [o["subaccount"] for o in report["stopped"]] == list(range(2, 11))
    assert [o["strategy_id"] for o in report["stopped"][:2]] == [ids[1], ids[2]]
    assert "subaccount 1 NOT flattened (ExchangeUnavailable)" in err and "done 2, 3, 4" in err and "PAPER" in err

    args = build_parser().parse_args(["emergency-stop", "--all", "--reason", "second try"])
    assert args.handler(args) == 1, "subaccount 1 is still down"
    out, err = capsys.readouterr()
    assert "PAPER" in out and "second try" in out and "NOT flattened" in err
    container.exchange.reset_override()


@pytest.mark.parametrize("argv", [["emergency-stop"], ["emergency-stop", "--all", "--subaccount", "2"],
                                  ["emergency-stop", "--subaccount", "two"]])
def test_usage_errors_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 2


def test_the_cli_kill_switch(database: dict[str, str], clean_pg: Engine, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    container = container_for(config, database)
    ids = seed_selected(container.event_store(), 2)
    with TestClient(create_app(container, follow_projections=False), headers=KEYED) as client:
        assert client.post("/deployments", json={}).status_code == 201
    container.shutdown_resources()

    result = sixbtc("emergency-stop", "--all", "--reason", "drill", "--json", "--config", str(config),
                    env={**database, "HL_PRIVATE_KEY": "", "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "PAPER" in result.stderr and "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert (report["mode"], report["complete"], report["failed"]) == ("paper", True, [])
    assert [(o["subaccount"], o["strategy_id"]) for o in report["stopped"][:3]] == [(1, ids[0]), (2, ids[1]),
                                                                                    (3, None)]
    with clean_pg.connect() as conn:
        rows = conn.execute(sa.text("SELECT status, retired_reason FROM strategies")).all()
    assert [tuple(r) for r in rows] == [("RETIRED", "drill")] * 2
