"""The `sixbtc` command: parse, call one use case, render, exit with a meaningful code."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from entrypoints.cli import (
    api_command,
    backtest_command,
    config_commands,
    data_commands,
    db_commands,
    demo_command,
    deploy_commands,
    emergency_commands,
    generate_command,
    monitor_command,
    pipeline_commands,
    report_command,
    run_commands,
    subaccount_commands,
    validate_command,
)
from entrypoints.cli.errors import run_guarded
from entrypoints.version import VERSION


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sixbtc",
        description="SixBTC: AI strategy factory for crypto perpetual futures (paper trading by default).",
    )
    parser.add_argument("--version", action="version", version=f"sixbtc {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    config_commands.add(sub)
    db_commands.add(sub)
    data_commands.add(sub)
    monitor_command.add(sub)
    backtest_command.add(sub)
    validate_command.add(sub)
    generate_command.add(sub)
    pipeline_commands.add(sub)
    run_commands.add(sub)
    deploy_commands.add(sub)
    emergency_commands.add(sub)
    subaccount_commands.add(sub)
    report_command.add(sub)
    api_command.add(sub)
    demo_command.add(sub)
    return parser


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    """SIGTERM (docker stop, systemd, supervisor) unwinds like Ctrl-C: resources are released."""
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    args = build_parser().parse_args(argv)
    return run_guarded(lambda: int(args.handler(args)))


if __name__ == "__main__":
    sys.exit(main())
