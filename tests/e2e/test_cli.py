"""The `sixbtc` command end to end, as a user runs it (a real subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config" / "config.yaml"
COMMANDS = ["config", "db", "data", "generate", "validate", "backtest", "classify", "pipeline", "deploy", "stop",
            "rotate", "subaccounts", "reconcile", "run", "monitor", "status", "emergency-stop", "api", "demo",
            "report"]


def sixbtc(*args: str, env: dict[str, str] | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SIXBTC_")}
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "entrypoints.cli.main", *args], capture_output=True, text=True,
                          env=base, cwd=cwd, timeout=120)


def test_help_lists_every_command() -> None:
    result = sixbtc("--help")
    assert result.returncode == 0
    for command in COMMANDS:
        assert command in result.stdout


def test_python_main_py_is_the_same_cli() -> None:
    """The seed's `python main.py ...` runs the same commands as `sixbtc ...`."""
    result = subprocess.run([sys.executable, "main.py", "config", "validate", "--config", str(CONFIG)],
                            capture_output=True, text=True, cwd=REPO, timeout=120,
                            env={k: v for k, v in os.environ.items() if not k.startswith("SIXBTC_")})
    assert (result.returncode, result.stdout.strip()) == (0, "OK"), result.stderr
    helped = subprocess.run([sys.executable, str(REPO / "main.py"), "--help"], capture_output=True, text=True,
                            cwd="/", timeout=120)
    assert helped.returncode == 0 and all(command in helped.stdout for command in COMMANDS)


def test_config_validate_ok() -> None:
    result = sixbtc("config", "validate", "--config", str(CONFIG))
    assert (result.returncode, result.stdout.strip()) == (0, "OK")


def test_config_validate_reports_key_path_and_line(tmp_path: Path) -> None:
    text = CONFIG.read_text().replace("max_daily_loss: 0.10", "max_daily_loss: 7")
    bad = tmp_path / "config.yaml"
    bad.write_text(text)
    result = sixbtc("config", "validate", "--config", str(bad))
    assert result.returncode == 2
    assert "risk.max_daily_loss" in result.stderr and "line" in result.stderr


def test_broken_yaml_exits_2_with_a_line(tmp_path: Path) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text("system:\n  name: [unclosed\n")
    result = sixbtc("config", "validate", "--config", str(bad))
    assert result.returncode == 2
    assert "line" in result.stderr


def test_unreachable_database_is_one_clear_message_without_the_password() -> None:
    url = "postgresql://trader:hunter2-secret@127.0.0.1:1/sixbtc_nowhere"
    result = sixbtc("db", "migrate", env={"SIXBTC_DATABASE_URL": url})
    assert result.returncode == 2
    assert "127.0.0.1:1" in result.stderr and "sixbtc_nowhere" in result.stderr
    assert "hunter2-secret" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_demo_leaves_events_and_projection_in_postgres(pg_url: URL, tmp_path: Path) -> None:
    env = {"SIXBTC_DATABASE_URL": pg_url.render_as_string(hide_password=False)}
    first = sixbtc("demo", "--count", "6", env=env)
    assert first.returncode == 0, first.stderr
    assert "registered" in first.stdout and "PENDING" in first.stdout
    second = sixbtc("demo", "--count", "6", env=env)
    assert second.returncode == 0 and "already stored" in second.stdout
    engine = sa.create_engine(pg_url.set(drivername="postgresql+psycopg2"))
    with engine.connect() as conn:
        events = conn.execute(sa.text("SELECT count(*) FROM events WHERE event_type = 'StrategyGenerated'")).scalar()
        rows = conn.execute(sa.text("SELECT count(*) FROM strategies")).scalar()
        total = conn.execute(sa.text("SELECT count(*) FROM events")).scalar()
        backtests = conn.execute(sa.text("SELECT count(*) FROM backtest_results")).scalar()
        validations = conn.execute(sa.text("SELECT count(*) FROM validation_results")).scalar()
        statuses = conn.execute(sa.text("SELECT count(*) FROM strategies WHERE validation_status IS NOT NULL")).scalar()
    engine.dispose()
    examples = len(list((REPO / "examples" / "strategies").glob("*.py")))
    generated = rows - examples  # the research run's candidates; the second run finds the same (duplicates)
    assert events == rows and 0 < generated <= 6
    assert backtests >= 2 * examples  # each demo run backtests every example on the synthetic market
    assert validations == 2 * (examples + generated) and statuses == examples + generated
    assert "research run" in first.stdout and "ranking" in first.stdout
    assert "SYNTHETIC" in first.stdout
    rebuilt = sixbtc("db", "rebuild-projections", env=env)
    assert rebuilt.returncode == 0 and f"from {total} events" in rebuilt.stdout
