"""`sixbtc validate` as a user runs it: a real subprocess, the confined sandbox, real candles, PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.conftest import SHARED_DATA
from tests.e2e.test_cli import REPO, sixbtc

OHLCV = SHARED_DATA / "ohlcv"
CORPUS = REPO / "tests" / "validation_corpus"
CLEAN = CORPUS / "clean" / "clean_ewm_macd.py"
KEYS = {"file", "sandbox_ok", "ast_ok", "lookahead_free", "violations", "shuffle_p_value", "error"}

pytestmark = pytest.mark.skipif(not OHLCV.is_dir(), reason=f"real candles not found at {OHLCV} (../shared/data)")



@pytest.fixture
def lenient_config(tmp_path: Path) -> Path:
    """The shipped config with the shuffle and Sharpe gates opened, so a strategy without edge can pass."""
    text = (REPO / "config" / "config.yaml").read_text()
    assert "max_p_value: 0.05" in text and "min_sharpe: 1.0" in text
    path = tmp_path / "config.yaml"
    path.write_text(text.replace("max_p_value: 0.05", "max_p_value: 0.999").replace("min_sharpe: 1.0",
                                                                                    "min_sharpe: -1000.0"))
    return path


def validate(*args: str, env: dict[str, str]):  # type: ignore[no-untyped-def]
    result = sixbtc("validate", *args, "--data", str(OHLCV), "--symbols", "BTC", "--days", "60", "--json", env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result, (json.loads(result.stdout) if result.stdout.strip() else None)


def test_a_clean_strategy_passes_and_its_outcome_is_stored(database, lenient_config, clean_pg: Engine) -> None:
    result, report = validate(str(CLEAN), "--config", str(lenient_config), "--walk-forward", env=database)
    assert result.returncode == 0, result.stderr
    assert KEYS <= set(report) and report["passed"] is True and report["error"] is None
    assert (report["sandbox_ok"], report["ast_ok"], report["lookahead_free"]) == (True, True, True)
    assert 0 < report["shuffle_p_value"] <= 1 and report["walk_forward"]["windows"]
    with clean_pg.connect() as conn:
        row = conn.execute(sa.text("SELECT passed, strategy_id, shuffle_p_value FROM validation_results")).one()
        status = conn.execute(sa.text("SELECT validation_status FROM strategies")).scalar_one()
    assert row.passed is True and row.strategy_id == report["strategy_id"] and status == "VALIDATED"
    assert row.shuffle_p_value == pytest.approx(report["shuffle_p_value"])


def test_lookahead_and_hostile_code_are_rejected_with_exit_1(database, clean_pg: Engine, tmp_path: Path) -> None:
    result, report = validate(str(CORPUS / "lookahead" / "dyn_polyfit_trend.py"), env=database)
    assert result.returncode == 1 and report["lookahead_free"] is False and report["ast_ok"] is True
    assert report["violations"][0]["rule"] == "prefix_invariance" and report["shuffle_p_value"] is None
    marker = tmp_path / "pwned"
    hostile = tmp_path / "shell.py"
    hostile.write_text((CORPUS / "hostile" / "shell_command.py").read_text().replace("MARKER_PLACEHOLDER",
                                                                                      repr(str(marker))))
    result, report = validate(str(hostile), env=database)
    assert result.returncode == 1 and report["sandbox_ok"] is False and "subprocess" in report["error"]
    assert report["violations"][0] == {"rule": "import_not_allowed", "line": 3,
                                       "message": "import of 'subprocess' is not allowed"}
    assert not marker.exists()
    broken = tmp_path / "broken.py"
    broken.write_text("class X(:\n")
    result, report = validate(str(broken), env=database)
    assert result.returncode == 1 and report["violations"][0]["rule"] == "syntax_error"
    assert report["strategy_id"] is None
    with clean_pg.connect() as conn:
        stored = conn.execute(sa.text("SELECT passed, reasons FROM validation_results ORDER BY created_at")).all()
    assert [r.passed for r in stored] == [False, False, False] and all(r.reasons for r in stored)


def test_usage_errors_exit_2(database, tmp_path: Path) -> None:
    missing = sixbtc("validate", "no_such_file.py", env=database)
    assert missing.returncode == 2 and "no strategy file" in missing.stderr
    result, _ = validate(str(CLEAN), "--trials", "0", env=database)
    assert result.returncode == 2
    unknown = sixbtc("validate", str(CLEAN), "--data", str(OHLCV), "--symbols", "NOPE", env=database)
    assert unknown.returncode == 2 and "NOPE" in unknown.stderr and "Traceback" not in unknown.stderr
