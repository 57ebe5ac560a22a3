"""What every execution command shares: the `--live` lock, the loud mode banner, JSON output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dependency_injector import providers
from rich.console import Console

from entrypoints.cli.context import app_container
from entrypoints.container import Container


def add_common(cmd: argparse.ArgumentParser, *, live: bool = True) -> None:
    if live:
        cmd.add_argument("--live", action="store_true",
                         help="real orders on Hyperliquid; also needs deployment.mode: live and HL_PRIVATE_KEY")
    cmd.add_argument("--json", action="store_true", help="print one JSON object")
    cmd.add_argument("--config", help="config file")


@contextmanager
def execution_container(config: str | None, live: bool) -> Iterator[tuple[Container, str]]:
    """The container with `--live` applied; the safety rule is checked before anything else runs
    (no database, no exchange), so a refused live command has touched nothing."""
    with app_container(config) as container:
        container.live_requested.override(providers.Object(live))
        mode = str(container.exchange_mode())
        yield container, mode


def banner(mode: str, *, to_stderr: bool) -> None:
    """PAPER or LIVE, impossible to miss; on stderr when stdout carries JSON."""
    console = Console(stderr=to_stderr)
    if mode == "live":
        console.print("[bold white on red] LIVE [/bold white on red] [bold red]real orders on Hyperliquid, "
                      "real money[/bold red]")
    else:
        console.print("[bold black on yellow] PAPER [/bold black on yellow] simulated orders, no real money "
                      "(live needs --live, deployment.mode: live and HL_PRIVATE_KEY)")


def print_json(value: Any) -> None:
    print(json.dumps(value, allow_nan=False, default=str))


def usage_error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2
