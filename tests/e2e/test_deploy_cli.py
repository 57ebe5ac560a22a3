"""`sixbtc deploy | stop | rotate | subaccounts | reconcile` end to end: real subprocesses on PostgreSQL, paper.

The paper venue's instrument list comes from Hyperliquid's meta, served here by the local fake
Hyperliquid; nothing reads a price, so no candle feed is ever opened.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.postgres.event_store import PostgresEventStore
from tests.e2e.execution_support import FAKE_ADDRESS, FAKE_KEY, seed_selected, write_config
from tests.e2e.test_cli import sixbtc
from tests.fakes.hyperliquid import FakeHyperliquid

NO_KEY = {"HL_PRIVATE_KEY": ""}


@pytest.fixture(scope="module")
def venue() -> Iterator[FakeHyperliquid]:
    with FakeHyperliquid() as fake:
        yield fake


@pytest.fixture
def config(tmp_path: Path, venue: FakeHyperliquid) -> Path:
    return write_config(tmp_path, base_url=venue.url)


def run(config: Path, env: dict[str, str], *args: str) -> Any:
    result = sixbtc(*args, "--config", str(config), env={**env, **NO_KEY, "COLUMNS": "200"})
    assert "Traceback" not in result.stderr, result.stderr
    return result


def events_by_stream(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT split_part(stream_id, '-', 1) AS kind, count(*) FROM events GROUP BY 1"))
        return {r.kind: r.count for r in rows}


def strategy_rows(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT strategy_id, status, subaccount, retired_reason FROM strategies"))
        return {r.strategy_id: r for r in rows}


def test_test_mode_puts_three_selected_strategies_on_subaccounts_one_to_three(
        database: dict[str, str], clean_pg: Engine, config: Path) -> None:
    ids = seed_selected(PostgresEventStore(clean_pg), 4)
    before = events_by_stream(clean_pg)

    planned = run(config, database, "deploy", "--dry-run")
    assert planned.returncode == 0, planned.stderr
    assert "PAPER" in planned.stdout and "planned" in planned.stdout and "dry run" in planned.stdout
    assert events_by_stream(clean_pg) == before  # a dry run writes no event, not even a paper account's
    assert {s.status for s in strategy_rows(clean_pg).values()} == {"SELECTED"}

    deployed = run(config, database, "deploy", "--test-mode", "--json")
    assert deployed.returncode == 0, deployed.stderr
    assert "PAPER" in deployed.stderr  # the banner goes to stderr when stdout is JSON
    report = json.loads(deployed.stdout)
    assert (report["mode"], report["plan"], report["dry_run"]) == ("paper", "test", False)
    steps = {s["strategy_id"]: s for s in report["steps"]}
    assert [(steps[i]["subaccount"], steps[i]["capital"], steps[i]["status"]) for i in ids[:3]] == [
        (1, 100.0, "deployed"), (2, 100.0, "deployed"), (3, 100.0, "deployed")]
    assert steps[ids[3]]["status"] == "skipped" and "no free subaccount" in steps[ids[3]]["reason"]
    rows = strategy_rows(clean_pg)
    assert [(rows[i].status, rows[i].subaccount) for i in ids] == [("LIVE", 1), ("LIVE", 2), ("LIVE", 3),
                                                                   ("SELECTED", None)]

    listing = run(config, database, "subaccounts", "--json")
    assert listing.returncode == 0, listing.stderr
    subaccounts = json.loads(listing.stdout)["subaccounts"]
    assert [(s["subaccount"], s["status"], s["strategy_id"]) for s in subaccounts[:4]] == [
        (1, "active", ids[0]), (2, "active", ids[1]), (3, "active", ids[2]), (4, "free", None)]
    assert len(subaccounts) == 10 and all(s["capital"] == 100.0 for s in subaccounts[:3])
    assert "0x" not in listing.stdout

    again = run(config, database, "deploy", "--strategy", ids[3])
    assert again.returncode == 1 and "no free subaccount" in again.stdout


def test_stop_frees_the_subaccount_and_rotate_reuses_it(database: dict[str, str], clean_pg: Engine,
                                                         config: Path) -> None:
    ids = seed_selected(PostgresEventStore(clean_pg), 4)
    assert run(config, database, "deploy", "--json").returncode == 0

    stopped = run(config, database, "stop", ids[0], "--reason", "drawdown beyond the backtest")
    assert stopped.returncode == 0, stopped.stderr
    assert "PAPER" in stopped.stdout and "stopped" in stopped.stdout
    rows = strategy_rows(clean_pg)
    assert (rows[ids[0]].status, rows[ids[0]].retired_reason) == ("RETIRED", "drawdown beyond the backtest")

    rotated = run(config, database, "rotate", ids[1], ids[3], "--reason", "better score", "--json")
    assert rotated.returncode == 0, rotated.stderr
    body = json.loads(rotated.stdout)
    assert body["stopped"]["subaccount"] == 2 and body["deployed"] == {
        "strategy_id": ids[3], "subaccount": 2, "capital": 100.0, "status": "deployed", "reason": None}

    subaccounts = json.loads(run(config, database, "subaccounts", "--json").stdout)["subaccounts"]
    first, second = subaccounts[0], subaccounts[1]
    assert (first["status"], first["strategy_id"], first["unassigned_reason"]) == (
        "free", None, "drawdown beyond the backtest")
    assert (second["status"], second["strategy_id"], second["previous_strategy_id"]) == ("active", ids[3], ids[1])
    table = run(config, database, "subaccounts")
    assert table.returncode == 0 and ids[3] in table.stdout and "free" in table.stdout

    twice = run(config, database, "stop", ids[0], "--reason", "again")
    assert twice.returncode == 1 and "not LIVE" in twice.stderr
    unknown = run(config, database, "stop", "no-such-strategy", "--reason", "x")
    assert unknown.returncode == 2 and "no strategy with id" in unknown.stderr
    refused = run(config, database, "rotate", ids[2], ids[0], "--reason", "x")
    assert refused.returncode == 1 and "SELECTED" in refused.stderr
    assert run(config, database, "stop", ids[2]).returncode == 2  # --reason is required


def test_reconcile_reports_each_subaccount(database: dict[str, str], clean_pg: Engine, config: Path) -> None:
    seed_selected(PostgresEventStore(clean_pg), 1)
    assert run(config, database, "deploy").returncode == 0
    one = run(config, database, "reconcile", "--subaccount", "1", "--json")
    assert one.returncode == 0, one.stderr
    (report,) = json.loads(one.stdout)["reconciliations"]
    assert (report["subaccount"], report["clean"], report["account_value"]) == (1, True, 100.0)
    every = run(config, database, "reconcile")
    assert every.returncode == 0 and "clean" in every.stdout and "PAPER" in every.stdout
    unknown = run(config, database, "reconcile", "--subaccount", "11")
    assert unknown.returncode == 2 and "subaccount 11 is not configured" in unknown.stderr


def test_live_is_refused_unless_config_flag_and_key_all_agree(database: dict[str, str], clean_pg: Engine,
                                                               tmp_path: Path, config: Path) -> None:
    seed_selected(PostgresEventStore(clean_pg), 1)
    before = events_by_stream(clean_pg)

    paper_config = sixbtc("deploy", "--live", "--config", str(config), env={**database, "HL_PRIVATE_KEY": FAKE_KEY})
    assert paper_config.returncode == 2 and "Traceback" not in paper_config.stderr
    assert "LIVE TRADING REFUSED" in paper_config.stderr and "deployment.mode" in paper_config.stderr
    assert FAKE_KEY not in paper_config.stderr + paper_config.stdout

    live_config = write_config(tmp_path, mode="live", subaccounts={1: FAKE_ADDRESS})
    no_key = run(live_config, database, "deploy", "--live")
    assert no_key.returncode == 2 and "HL_PRIVATE_KEY" in no_key.stderr and "deployment.mode" not in no_key.stderr
    assert FAKE_ADDRESS not in no_key.stderr + no_key.stdout
    for command in (["stop", "x", "--reason", "y", "--live"], ["reconcile", "--live"], ["api", "--live"]):
        refused = run(live_config, database, *command)
        assert refused.returncode == 2 and "LIVE TRADING REFUSED" in refused.stderr, command
    assert events_by_stream(clean_pg) == before

    old = tmp_path / "old.yaml"
    old.write_text("system:\n  deployment_mode: live\n")
    moved = sixbtc("config", "validate", "--config", str(old))
    assert moved.returncode == 2 and "deployment.mode" in moved.stderr


def test_usage_errors_exit_2(config: Path) -> None:
    both = sixbtc("deploy", "--test-mode", "--full", "--config", str(config))
    assert both.returncode == 2 and "not allowed with" in both.stderr
    assert sixbtc("rotate", "a", "a", "--reason", "x", "--config", str(config)).returncode == 2
