"""`sixbtc run` as a user starts it: its health port answers /health, /ready and /metrics, and closes on SIGTERM.

The live feed comes from the local fake Hyperliquid, seeded with three days of history ending now,
so the feed is fresh; the runner trades on paper and nothing is deployed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.execution_support import REPO, write_config
from tests.e2e.test_metrics import free_port
from tests.fakes.hyperliquid import FakeHyperliquid


@pytest.fixture
def venue() -> Iterator[FakeHyperliquid]:
    with FakeHyperliquid(start=datetime.now(UTC)) as fake:
        fake.seed_history(3 * 24 * 60, ["BTC", "ETH", "SOL"])
        yield fake


def _get(url: str, deadline: float, proc: subprocess.Popen[str]) -> httpx.Response:
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.ConnectError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_sixbtc_run_serves_its_health_port_until_sigterm(
        database: dict[str, str], venue: FakeHyperliquid, tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, base_url=venue.url)
    config.write_text(config.read_text().replace("    port: 8080", f"    port: {port}"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIXBTC_")} | database | {"HL_PRIVATE_KEY": ""}
    proc = subprocess.Popen([sys.executable, "-m", "entrypoints.cli.main", "run", "--config", str(config)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        base = f"http://127.0.0.1:{port}"
        assert _get(f"{base}/health", deadline, proc).json()["database"] == "reachable"
        ready = _get(f"{base}/ready", deadline, proc)
        while ready.status_code != 200 and time.monotonic() < deadline:  # the scheduler starts after reconciling
            time.sleep(0.2)
            ready = _get(f"{base}/ready", deadline, proc)
        assert ready.status_code == 200, ready.text
        assert {c["name"]: c["detail"] for c in ready.json()["checks"]}["candles"] == "15 series fresh"
        families = {f.name for f in text_string_to_metric_families(_get(f"{base}/metrics", deadline, proc).text)}
        assert {"sixbtc_last_candle_age_seconds", "sixbtc_scheduler_job_duration_seconds", "sixbtc_scheduler_running",
                "sixbtc_database_up", "sixbtc_orders_sent"} <= families
        jobs = _get(f"{base}/jobs", deadline, proc).json()
        assert jobs["scheduler"] == "running"
        assert {"close-15m", "close-1h", "close-1d", "snapshots", "rotation"} <= {j["job_id"] for j in jobs["jobs"]}
        assert all(j["next_run_at"] for j in jobs["jobs"])
        status = subprocess.run([sys.executable, "-m", "entrypoints.cli.main", "status", "--json", "--config",
                                 str(config)], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert status.returncode == 0, status.stderr
        runner = json.loads(status.stdout)["runner"]
        assert runner["reachable"] and runner["scheduler"] == "running"
        assert {j["job_id"]: j["next_run_at"] for j in runner["jobs"]} == {
            j["job_id"]: j["next_run_at"] for j in jobs["jobs"]}, "sixbtc status shows every job's next run"
        table = subprocess.run([sys.executable, "-m", "entrypoints.cli.main", "status", "--config", str(config)],
                               cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert "scheduled jobs of the runner" in table.stdout and "close-1h" in table.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/health")


def test_a_port_in_use_stops_sixbtc_run_with_a_clear_message(
        database: dict[str, str], venue: FakeHyperliquid, tmp_path: Path) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        config = write_config(tmp_path, base_url=venue.url)
        config.write_text(config.read_text().replace("    port: 8080", f"    port: {port}"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("SIXBTC_")} | database | {"HL_PRIVATE_KEY": ""}
        result = subprocess.run([sys.executable, "-m", "entrypoints.cli.main", "run", "--config", str(config)],
                                cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"cannot serve health checks on 127.0.0.1:{port}" in result.stderr
    assert "monitoring.health_check.enabled: false" in result.stderr
    assert venue.info_requests["candleSnapshot"] == 0, "it stopped before the feed loaded any history"
