"""`sixbtc backtest` as a user runs it: a real subprocess, real candles, the embedded PostgreSQL."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from domain.metrics import METRIC_NAMES
from tests.conftest import SHARED_DATA
from tests.e2e.test_cli import REPO, sixbtc

OHLCV = SHARED_DATA / "ohlcv"
STRATEGY = REPO / "examples" / "strategies" / "bre_donchian.py"
TRADE_FIELDS = {"symbol", "side", "entry_time", "entry_price", "exit_time", "exit_price", "pnl", "exit_reason"}

pytestmark = pytest.mark.skipif(not OHLCV.is_dir(), reason=f"real candles not found at {OHLCV} (../shared/data)")



def test_backtest_a_file_then_the_stored_strategy_by_name(database: dict[str, str], clean_pg: Engine) -> None:
    first = sixbtc("backtest", str(STRATEGY), "--data", str(OHLCV), "--symbols", "BTC", "SOL", "--days", "60",
                   "--json", env=database)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert set(report["metrics"]) >= set(METRIC_NAMES) and report["symbols"] == ["BTC", "SOL"]
    assert len(report["trades"]) == report["metrics"]["total_trades"] > 0
    assert TRADE_FIELDS <= set(report["trades"][0])
    assert {t["exit_reason"] for t in report["trades"]} <= {"tp", "sl", "signal", "reverse", "end"}
    again = sixbtc("backtest", report["strategy"], "--data", str(OHLCV), "--symbols", "ETH", "--days", "30",
                   "--timeframe", "1h", env=database)
    assert again.returncode == 0, again.stderr
    assert "total_return" in again.stdout and "ETH" in again.stdout
    with clean_pg.connect() as conn:
        rows = conn.execute(sa.text("SELECT symbol, timeframe, metrics FROM backtest_results ORDER BY created_at"))
        results = [(r.symbol, r.timeframe, r.metrics) for r in rows]
    assert [(s, tf) for s, tf, _ in results] == [("BTC,SOL", "15m"), ("ETH", "1h")]
    assert set(results[0][2]) >= set(METRIC_NAMES)


def test_clear_errors_for_bad_targets_and_data(database: dict[str, str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = sixbtc("backtest", "no_such_file.py", env=database)
    assert missing.returncode == 2 and "no strategy file" in missing.stderr
    unknown = sixbtc("backtest", str(STRATEGY), "--data", str(OHLCV), "--symbols", "NOPE", env=database)
    assert unknown.returncode == 2 and "NOPE 15m" in unknown.stderr and "BTCUSDT 15m" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    tiny = sixbtc("backtest", str(STRATEGY), "--data", str(OHLCV), "--symbols", "BTC", "--days", "1",
                  "--param", "window=200", env=database)
    assert tiny.returncode == 1 and "warm-up" in tiny.stderr
