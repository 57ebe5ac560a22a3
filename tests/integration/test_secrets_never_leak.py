"""No private key or API key ever reaches a log file, stderr or a response, and the log file rotates.

The secrets are set the way an operator sets them (the environment), in shapes scrub() has no
pattern for too: a signing key without its 0x, a Gemini-style key. The API is exercised in process
(refusals, validation errors, unknown ids that echo the path, a live request refused, a crash) and
as `sixbtc api` on a local port, beside other CLI commands that log; then every log file, the
captured stderr and every response body are searched for each secret.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient
from sqlalchemy.engine import URL, Engine

from adapters.memory.clock import ManualClock
from adapters.threads.runner import InlineTaskRunner
from entrypoints.api.app import create_app
from entrypoints.api.security import API_KEYS_VARIABLE, HEADER
from entrypoints.container import Container, build_container
from entrypoints.logging_setup import configure_logging
from entrypoints.settings import load_settings
from tests.conftest import empty_tables
from tests.e2e.execution_support import INSTRUMENTS, REPO, T0, seed_selected

HL_KEY = "3a" * 32                                     # a signing key as often pasted: no 0x, no pattern
API_KEY = "leak-test-api-key-6f1e2d3c4b5a9788"
ANTHROPIC_KEY = "sk-ant-api03-leaktest" + "A" * 40
OPENAI_KEY = "sk-proj-leaktest" + "B" * 40
GEMINI_KEY = "AIzaSyLeakTest" + "C" * 25                # no sk- prefix: only registration scrubs it
SECRETS = {"HL_PRIVATE_KEY": HL_KEY, API_KEYS_VARIABLE: API_KEY, "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
           "OPENAI_API_KEY": OPENAI_KEY, "GEMINI_API_KEY": GEMINI_KEY}
pytestmark = pytest.mark.postgres


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.fixture
def database(clean_pg: Engine, pg_url: URL) -> Iterator[str]:
    yield pg_url.render_as_string(hide_password=False)
    empty_tables(clean_pg)


def config_file(folder: Path, *, max_bytes: int, backup_count: int) -> Path:
    text = (REPO / "config" / "config.yaml").read_text()
    for old, new in (("file: logs/sixbtc.log", f"file: {folder / 'logs' / 'sixbtc.log'}"),
                     ("max_bytes: 10485760", f"max_bytes: {max_bytes}"),
                     ("backup_count: 5", f"backup_count: {backup_count}"), ("level: INFO", "level: DEBUG")):
        assert old in text, old
        text = text.replace(old, new)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(text)
    return path


def leaks(text: str) -> list[str]:
    return [name for name, secret in SECRETS.items() if secret in text]


def log_text(folder: Path) -> str:
    files = sorted((folder / "logs").glob("sixbtc.log*"))
    assert files, f"nothing was logged under {folder}"
    return "\n".join(f.read_text(errors="replace") for f in files)


def test_the_log_file_rotates_and_keeps_only_backup_count_old_files(tmp_path: Path, restore_root: None) -> None:
    path = tmp_path / "logs" / "sixbtc.log"
    configure_logging("INFO", "json", str(path), 2_000, 2)
    for n in range(200):
        logging.getLogger("rotation").info("line %d of the rotation test", n, extra={"n": n})
    names = sorted(p.name for p in path.parent.iterdir())
    assert names == ["sixbtc.log", "sixbtc.log.1", "sixbtc.log.2"]
    assert all(p.stat().st_size <= 2_000 for p in path.parent.iterdir())
    assert '"n": 199' in path.read_text() and '"n": 0,' not in path.read_text()  # the oldest were dropped


def api_container(config: Path, database: str) -> Container:
    container = build_container(load_settings(config, env={**SECRETS, "SIXBTC_DATABASE_URL": database},
                                              dotenv_path=config.parent / "none.env"))
    container.clock.override(providers.Object(ManualClock(T0)))
    container.instruments.override(providers.Object(INSTRUMENTS))
    container.environ.override(providers.Object(dict(SECRETS)))
    container.task_runner.override(providers.Object(InlineTaskRunner()))
    return container


def in_process_requests(client: TestClient, container: Container) -> list[Any]:
    keyed = {HEADER: API_KEY}
    container.live_requested.override(providers.Object(True))                           # config says paper
    answers = [client.post("/reconciliations", json={}, headers=keyed)]                # 403 live refused
    container.live_requested.override(providers.Object(False))
    answers += [
        client.post("/deployments", json={}),                                           # 401: no key
        client.post("/deployments", json={}, headers={HEADER: API_KEY + "x"}),          # 401: the key, misspelt
        client.post("/deployments", json={"plan": API_KEY}, headers=keyed),             # 422 naming plan
        client.get(f"/strategies/{HL_KEY}"),                                            # 404 echoing the id
        client.get(f"/strategies/{GEMINI_KEY}"),
        client.get(f"/pipeline-runs/{OPENAI_KEY}"),
        client.get("/strategies", params={"sort": ANTHROPIC_KEY}),                      # 422 on a query
        client.post("/backtests", json={"strategy": GEMINI_KEY}, headers=keyed),        # a job that fails
        client.post("/deployments", json={"dry_run": True}, headers=keyed),
        client.get("/health"),
    ]
    answers.append(client.get(f"/backtests/{answers[-3].json()['id']}"))

    class Exploding:
        def rows(self, *_: Any) -> Any:
            raise RuntimeError(f"read model broke holding {HL_KEY} and {API_KEY}")

    container.read_models.override(providers.Object(Exploding()))
    answers.append(client.get("/strategies"))                                           # 500
    return answers


def test_api_responses_logs_and_stderr_hold_no_secret(
        tmp_path: Path, database: str, restore_root: None, capfd: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    config = config_file(tmp_path, max_bytes=4_096, backup_count=3)
    settings = load_settings(config, env={**SECRETS, "SIXBTC_DATABASE_URL": database})
    configure_logging("DEBUG", "json", settings.logging.file, settings.logging.max_bytes, settings.logging.backup_count)
    container = api_container(config, database)
    seed_selected(container.event_store(), 2)
    with TestClient(create_app(container, follow_projections=False), raise_server_exceptions=False) as client:
        answers = in_process_requests(client, container)
    container.shutdown_resources()
    statuses = [a.status_code for a in answers]
    assert statuses == [403, 401, 401, 422, 404, 404, 404, 422, 202, 200, 200, 200, 500], statuses
    assert answers[-2].json()["status"] == "failed" and "***" in answers[-2].json()["error"]
    for answer in answers:
        assert leaks(answer.text) == [] and leaks(str(answer.headers)) == [], answer.text
    logging.getLogger("tests.leak").error("a caller logs %s", f"key={HL_KEY} api={API_KEY} gemini={GEMINI_KEY}")
    assert leaks(log_text(tmp_path)) == []
    captured = capfd.readouterr()
    assert leaks(captured.err + captured.out) == []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli_env(database: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIXBTC_") and k not in SECRETS}
    return {**env, **SECRETS, "SIXBTC_DATABASE_URL": database}


def sixbtc(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "entrypoints.cli.main", *args], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=120)


def serve_and_call(config: Path, env: dict[str, str]) -> tuple[str, list[httpx.Response]]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "entrypoints.cli.main", "api", "--config", str(config),
                               "--port", str(port)], env=env, cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, "sixbtc api did not start"
                time.sleep(0.3)
        keyed = {HEADER: API_KEY}
        answers = [httpx.post(f"{base}/deployments", json={}, timeout=30),
                   httpx.post(f"{base}/deployments", json={}, headers={HEADER: HL_KEY}, timeout=30),
                   httpx.get(f"{base}/strategies/{GEMINI_KEY}", timeout=30),
                   httpx.post(f"{base}/deployments", json={"plan": OPENAI_KEY}, headers=keyed, timeout=30),
                   httpx.post(f"{base}/deployments", json={"dry_run": True}, headers=keyed, timeout=30)]
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=60)
    return err, answers


def test_cli_commands_and_the_served_api_log_no_secret(tmp_path: Path, database: str) -> None:
    config = config_file(tmp_path, max_bytes=1_024, backup_count=3)
    env = cli_env(database)
    shown = sixbtc("config", "show", "--config", str(config), env=env)
    assert shown.returncode == 0, shown.stderr
    planned = sixbtc("deploy", "--dry-run", "--config", str(config), env=env)
    refused = sixbtc("deploy", "--live", "--config", str(config), env=env)
    assert (planned.returncode, refused.returncode) == (1, 2), planned.stderr + refused.stderr  # 1: none SELECTED
    assert "HL_PRIVATE_KEY" in refused.stderr or "deployment.mode" in refused.stderr
    err, answers = serve_and_call(config, env)
    assert [a.status_code for a in answers] == [401, 401, 404, 422, 200]
    outputs = [shown.stdout, shown.stderr, planned.stdout, planned.stderr, refused.stdout, refused.stderr, err]
    assert [leaks(text) for text in outputs] == [[]] * len(outputs)
    assert [leaks(a.text) for a in answers] == [[]] * len(answers)
    logged = log_text(tmp_path)
    assert leaks(logged) == []
    assert '"api_keys": 1' in logged, "sixbtc api did not log how many keys it accepts"
    assert (tmp_path / "logs" / "sixbtc.log.1").exists(), "the log never rotated at max_bytes 1024"
