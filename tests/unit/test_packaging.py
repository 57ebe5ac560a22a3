"""The deployment files start commands that exist, with the arguments our CLI accepts.

A renamed command or flag would otherwise only show up as a crash loop on a user's server.
"""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import pytest
import yaml

from entrypoints.cli.main import build_parser

REPO = Path(__file__).resolve().parents[2]


def _parses(argv: list[str]) -> str:
    assert argv[0].endswith("sixbtc"), argv
    args = build_parser().parse_args(argv[1:])
    assert callable(args.handler)
    return str(args.command)


def test_compose_runs_postgres_the_api_and_the_runner_on_paper() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "api", "runner"}
    assert _parses(services["api"]["command"]) == "api"
    assert _parses(services["runner"]["command"]) == "run"
    assert "--live" not in services["runner"]["command"], "paper unless a person asks for live"
    for name in ("api", "runner"):
        service = services[name]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["environment"]["SIXBTC_DATABASE_URL"].startswith("postgresql://")
        assert "HL_PRIVATE_KEY" not in str(service["environment"]), "secrets come from .env, never the file"
    assert services["runner"]["stop_signal"] == "SIGTERM"


def test_the_dockerfile_copies_what_exists_and_starts_the_api() -> None:
    text = (REPO / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (\S+)", text, flags=re.MULTILINE):
        assert (REPO / source).exists(), f"Dockerfile copies {source}, which is not in the repository"
    cmd = re.search(r"^CMD (\[.*\])$", text, flags=re.MULTILINE)
    assert cmd is not None and _parses(yaml.safe_load(cmd.group(1))) == "api"
    assert re.search(r"^USER sixbtc$", text, flags=re.MULTILINE), "the service does not run as root"


def test_supervisor_programs_run_the_runner_and_the_api() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO / "deployment" / "supervisor" / "sixbtc.conf")
    commands = {}
    for section in ("program:sixbtc-runner", "program:sixbtc-api"):
        program = parser[section]
        inner = shlex.split(program["command"])[-1]  # sh -c '...; exec <command>'
        argv = shlex.split(inner.split("exec ", 1)[1])
        commands[section] = _parses(argv)
        assert program["stopsignal"] == "TERM" and int(program["stopwaitsecs"]) >= 20
    assert commands == {"program:sixbtc-runner": "run", "program:sixbtc-api": "api"}
    assert parser["group:sixbtc"]["programs"] == "sixbtc-runner,sixbtc-api"


@pytest.mark.parametrize(("unit", "command"), [("sixbtc.service", "run"), ("sixbtc-api.service", "api")])
def test_systemd_units_start_the_right_command(unit: str, command: str) -> None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(REPO / "deployment" / "systemd" / unit)
    service = parser["Service"]
    assert _parses(shlex.split(service["ExecStart"])) == command
    assert service["KillSignal"] == "SIGTERM" and service["Restart"] == "on-failure"
    assert service["EnvironmentFile"].startswith("-/etc/sixbtc/"), "secrets live outside the unit file"
    assert parser["Install"]["WantedBy"] == "multi-user.target"
