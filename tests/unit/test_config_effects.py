"""A config value takes effect: set it, and the adapter, pool, grid, page or handler built from it changes.

tests/unit/test_config_keys_live.py proves that each key is read; these prove, for the keys the
operator tunes most, that what is read is used. Already proven elsewhere and not repeated here:
deployment.mode switching paper/live (tests/unit/test_exchange_mode.py) and
monitoring.dashboard.refresh_seconds on /ui and /ui/data/status (tests/e2e/test_web_dashboard.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import logging.handlers
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import respx
import yaml
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

import tests.fakes.respx_httpx2  # noqa: F401  (registers respx's "httpx2" mocker)
from adapters.anthropic.provider import TAKES_TEMPERATURE, AnthropicProvider
from adapters.inprocess.sandbox import InProcessSandbox
from adapters.local.process_pool import ProcessPoolRunner
from adapters.memory.batch_runner import InlineBatchRunner
from adapters.openai.provider import OpenAIProvider
from application.validate_strategy import ValidationRequest
from entrypoints.api.app import create_app
from entrypoints.cli.context import app_container
from entrypoints.cli.monitor_command import _monitor
from entrypoints.container import build_container, validation_policy_from
from entrypoints.generation import ai_providers
from entrypoints.logging_setup import ConsoleFormatter, JsonFormatter
from entrypoints.pipeline import open_batch_runner
from entrypoints.settings import Settings
from tests.fakes.ai_payloads import ANTHROPIC_URL, OPENAI_URL, anthropic_message, chat_completion
from tests.unit.test_validate_strategy import FOLLOWER, TrendingCandles
from tests.validation_support import validator

GEMINI_BASE = "https://gemini.example.test/v1beta/openai/"
DEEPSEEK_BASE = "https://deepseek.example.test/v1/"
KEYS = {"claude": "sk-ant-claude-key", "codex": "sk-codex-key", "gemini": "gemini-key", "deepseek": "deepseek-key"}


def settings(**sections: Any) -> Settings:
    return Settings.model_validate(sections)


def providers_config() -> Settings:
    def provider(name: str, model: str, weight: float, base_url: str | None = None) -> dict[str, Any]:
        entry: dict[str, Any] = {"enabled": True, "model": model, "api_key": KEYS[name], "weight": weight,
                                 "temperature": 0.2, "max_tokens": 1234}
        return entry | ({"base_url": base_url} if base_url else {})

    return settings(generation={"ai_providers": {
        "claude": provider("claude", "claude-sonnet-4-5", 3), "codex": provider("codex", "gpt-4.1", 2),
        "gemini": provider("gemini", "gemini-2.5-pro", 1, GEMINI_BASE),
        "deepseek": provider("deepseek", "deepseek-chat", 0.5, DEEPSEEK_BASE),
        "spare": {"enabled": False, "model": "m", "api_key": "k"}}})


def test_each_ai_provider_name_maps_to_its_adapter_with_the_configured_model_and_weight() -> None:
    usable, problems = ai_providers(providers_config(), "auto")
    built = {provider.name: (type(provider), provider.model, weight) for provider, weight in usable}
    assert built == {"claude": (AnthropicProvider, "claude-sonnet-4-5", 3), "codex": (OpenAIProvider, "gpt-4.1", 2),
                     "gemini": (OpenAIProvider, "gemini-2.5-pro", 1),
                     "deepseek": (OpenAIProvider, "deepseek-chat", 0.5)}
    assert problems == ["generation.ai_providers.spare is disabled (enabled: false)"]
    assert [p.name for p, _ in ai_providers(providers_config(), "anthropic")[0]] == ["claude"]
    assert [p.name for p, _ in ai_providers(providers_config(), "openai")[0]] == ["codex", "gemini", "deepseek"]


def test_each_provider_calls_its_own_endpoint_with_its_own_key_and_settings() -> None:
    """gemini and deepseek: the OpenAI adapter sent to the base_url from config, with the key from config."""
    usable = {provider.name: provider for provider, _ in ai_providers(providers_config(), "auto")[0]}
    with respx.mock(using="httpx2") as router:
        routes = {"claude": router.post(ANTHROPIC_URL).respond(200, json=anthropic_message("ok")),
                  "codex": router.post(OPENAI_URL).respond(200, json=chat_completion("ok")),
                  "gemini": router.post(GEMINI_BASE + "chat/completions").respond(200, json=chat_completion("ok")),
                  "deepseek": router.post(DEEPSEEK_BASE + "chat/completions").respond(
                      200, json=chat_completion("ok"))}
        for name, provider in usable.items():
            assert provider.generate("write a strategy").text == "ok"
            (call,) = routes[name].calls
            sent = json.loads(call.request.content)
            credential = call.request.headers.get("x-api-key") or call.request.headers["authorization"]
            assert credential in (KEYS[name], f"Bearer {KEYS[name]}")
            assert sent["model"] == provider.model and sent.get("temperature") == (
                0.2 if name != "claude" or TAKES_TEMPERATURE else None)
            assert 1234 in (sent.get("max_tokens"), sent.get("max_completion_tokens"))


def test_parallel_workers_sizes_the_research_process_pool() -> None:
    for workers, kind in ((3, ProcessPoolRunner), (1, InlineBatchRunner)):
        opened = open_batch_runner(settings(backtesting={"parallel_workers": workers}))
        runner = next(opened)
        assert type(runner) is kind
        if isinstance(runner, ProcessPoolRunner):
            assert runner.workers == 3
        next(opened, None)  # past the yield: the runner is closed


def test_parallel_workers_sizes_the_api_job_threads() -> None:
    """Three jobs meet at a barrier only if three run at once; the default of two would break it."""
    runner = build_container(settings(backtesting={"parallel_workers": 3})).task_runner()
    barrier, met = threading.Barrier(3, timeout=10), []
    for _ in range(3):
        runner.submit(lambda: met.append(barrier.wait()))
    runner.shutdown()
    assert sorted(met) == [0, 1, 2]


def test_max_parameters_limits_the_walk_forward_grid() -> None:
    code = FOLLOWER.replace('param_grid = {"lag": [1, 2, 3]}', 'param_grid = {"lag": [1, 2], "size": [0.5, 1.0]}')
    request = ValidationRequest(code=code, origin="follower.py", walk_forward=True, register=False)
    results = {}
    for limit in (1, 2):
        policy = validation_policy_from(settings(
            backtesting={"optimization": {"max_parameters": limit}}, validation={"lookahead": {"max_bars": 3000}}))
        report = validator(InProcessSandbox(), policy=policy).execute(request, TrendingCandles())
        assert report.walk_forward is not None
        results[limit] = report.walk_forward
    assert results[1]["windows"] == [] and "at most 1 may be optimised" in results[1]["reasons"][0]
    assert len(results[2]["windows"]) == 4 and results[2]["combinations"] == 4


def test_system_name_titles_the_api_and_the_dashboard() -> None:
    app = create_app(build_container(settings(system={"name": "Desk <2>"})), follow_projections=False)
    assert app.openapi()["info"]["title"] == "Desk <2>"
    page = TestClient(app).get("/ui").text
    assert "<title>Desk &lt;2&gt; dashboard</title>" in page and ">Desk &lt;2&gt; <span" in page


@pytest.fixture
def root_handlers() -> Iterator[None]:
    """The CLI replaces the root logger's handlers; pytest's own are put back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def write_config(tmp_path: Path, **sections: Any) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(sections))
    return str(path)


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_the_logging_section_configures_the_cli_handlers(tmp_path: Path, fmt: str, root_handlers: None) -> None:
    log_file = tmp_path / "logs" / "bot.log"
    config = write_config(tmp_path, logging={"level": "warning", "format": fmt, "file": str(log_file),
                                             "max_bytes": 12_345, "backup_count": 3})
    with app_container(config):
        root = logging.getLogger()
        (rotating,) = [h for h in root.handlers if isinstance(h, logging.handlers.RotatingFileHandler)]
        assert (rotating.baseFilename, rotating.maxBytes, rotating.backupCount) == (str(log_file), 12_345, 3)
        assert root.level == logging.WARNING
        assert {type(h.formatter) for h in root.handlers} == {JsonFormatter if fmt == "json" else ConsoleFormatter}
        logging.getLogger("effects").info("dropped below the level")
        logging.getLogger("effects").warning("kept")
        rotating.flush()
    (line,) = log_file.read_text().splitlines()
    if fmt == "json":
        assert json.loads(line) | {"ts": None} == {"ts": None, "level": "WARNING", "logger": "effects", "msg": "kept"}
    else:
        assert line == "WARNING effects: kept"


def test_no_log_file_when_logging_file_is_empty(tmp_path: Path, root_handlers: None) -> None:
    with app_container(write_config(tmp_path, logging={"file": ""})):
        handlers = logging.getLogger().handlers
        assert [type(h) for h in handlers] == [logging.StreamHandler]


class RecordedStop(threading.Event):
    """Stands in for the monitor's stop event: records how long it was asked to wait, then stops the loop."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        return True


def test_refresh_seconds_paces_the_terminal_monitor(tmp_path: Path, clean_pg: Engine, root_handlers: None) -> None:
    config = write_config(tmp_path, database={"url": clean_pg.url.render_as_string(hide_password=False)},
                          monitoring={"dashboard": {"refresh_seconds": 7.5}}, logging={"file": ""})
    for override, expected in ((None, 7.5), (2.0, 2.0)):
        stop = RecordedStop()
        args = argparse.Namespace(config=config, refresh=override, json=False, once=False,
                                  runner_url="http://127.0.0.1:9")
        assert _monitor(args, stop) == 0
        assert stop.waits == [expected]


def test_no_ai_sdk_is_imported_when_every_provider_is_off() -> None:
    """An offline research run in the live loop's process must not pay seconds of SDK imports."""
    code = ("import sys; from entrypoints.settings import Settings; from entrypoints.generation import ai_providers;"
            "usable, problems = ai_providers(Settings(), 'auto'); assert not usable and problems;"
            "print(sorted(m for m in ('anthropic', 'openai') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"
