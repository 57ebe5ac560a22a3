"""`sixbtc report weekly [--json]`, in process against the real Postgres, writing into the test's own var_dir."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from adapters.postgres.event_store import PostgresEventStore
from application.event_codec import encode
from application.weekly_report import iso_week
from domain import events as ev
from entrypoints.cli.main import build_parser, main
from tests.e2e.execution_support import seed_selected, write_config


def test_report_weekly_writes_the_week_and_prints_it(database: dict[str, str], clean_pg: Engine, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SIXBTC_DATABASE_URL", database["SIXBTC_DATABASE_URL"])
    config = write_config(tmp_path)
    config.write_text(config.read_text().replace("var_dir: var ", f"var_dir: {tmp_path / 'var'} "))
    store = PostgresEventStore(clean_pg)
    now = datetime.now(UTC)
    [strategy_id, _] = seed_selected(store, 2, at=now - timedelta(days=30))
    deployed = ev.StrategyDeployed(aggregate_id=strategy_id, occurred_at=now - timedelta(days=10), subaccount=1,
                                   mode="paper")
    retired = ev.StrategyRetired(aggregate_id=strategy_id, occurred_at=now - timedelta(days=1),
                                 reason="manual: end of test")
    store.append(deployed.stream_id, [encode(deployed), encode(retired)], None)

    assert main(["report", "weekly", "--json", "--config", str(config)]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    week = report["week"]
    assert week == iso_week(datetime.fromisoformat(report["period_end"]))
    assert [s["strategy_id"] for s in report["strategies"]] == [strategy_id]
    assert [(c["kind"], c["reason"]) for c in report["changes"]] == [("stopped", "manual: end of test")]
    folder = tmp_path / "var" / "reports" / "weekly"
    assert f"{folder}/{week}.json" in err
    assert json.loads((folder / f"{week}.json").read_text()) == report

    assert main(["report", "weekly", "--config", str(config)]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith(f"# SixBTC weekly report {week}") and "manual: end of test" in markdown
    assert (folder / f"{week}.md").read_text() == markdown
    assert sorted(p.name for p in folder.iterdir()) == [f"{week}.json", f"{week}.md"], "one pair per week"


def test_report_is_a_command_with_a_weekly_report() -> None:
    parser = build_parser()
    assert "report" in parser.format_help()
    with pytest.raises(SystemExit) as refused:
        parser.parse_args(["report"])
    assert refused.value.code == 2
