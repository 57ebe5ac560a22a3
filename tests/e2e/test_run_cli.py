"""`sixbtc run --replay` and `sixbtc status`, in process against the real Postgres."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from adapters.clock.system import SystemClock
from adapters.postgres.event_store import PostgresEventStore
from application.register_strategy import RegisterStrategy
from application.strategy_repository import StrategyRepository
from entrypoints.cli.main import main
from tests.conftest import SHARED_DATA
from tests.e2e.execution_support import REPO, write_config


def _register(engine: Engine) -> list[str]:
    store = PostgresEventStore(engine)
    register = RegisterStrategy(StrategyRepository(store), SystemClock())
    ids = []
    for name in ("mom_ema_cross.py", "rev_rsi_bands.py"):
        path = REPO / "examples" / "strategies" / name
        ids.append(register.execute(path.read_text(), generator="example", origin=name).strategy_id)
    return ids


def test_a_replay_runs_the_live_loop_on_history_and_writes_nothing_real(
        database: dict[str, str], clean_pg: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SIXBTC_DATABASE_URL", database["SIXBTC_DATABASE_URL"])
    config = str(write_config(tmp_path))
    assert main(["db", "migrate", "--config", config]) == 0
    ids = _register(clean_pg)
    capsys.readouterr()
    before = PostgresEventStore(clean_pg).head_position()
    argv = ["run", "--replay", "--from", "2026-01-10", "--to", "2026-01-12", "--data", str(SHARED_DATA / "ohlcv"),
            "--json", "--config", config] + [a for i in ids for a in ("--strategy", i)]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert {r["strategy_id"] for r in report["strategies"]} == set(ids)
    assert sum(r["trades"] for r in report["strategies"]) > 0
    assert PostgresEventStore(clean_pg).head_position() == before, "a replay never writes to the real store"
    assert main(["run", "--replay", "--from", "2026-01-13", "--to", "2026-01-10", "--config", config]) == 2
    assert "must be after" in capsys.readouterr().err
    assert main(["run", "--replay", "--from", "2026-01-10", "--to", "2026-01-11", "--live", "--config", config]) == 2
    assert main(["status", "--json", "--config", config]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["mode"] == "paper" and len(status["subaccounts"]) == 10
    assert set(status["next_candle_closes"]) == {"15m", "30m", "1h", "4h", "1d"}
