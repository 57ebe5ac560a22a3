"""`sixbtc emergency-stop --all | --subaccount N`: the kill switch, by hand.

Each subaccount is flattened (orders cancelled, positions closed) and its strategy stopped and
RETIRED with the reason; a subaccount no strategy holds is flattened too. Paper unless `--live`
(and the config and environment agree, see entrypoints/execution.py). With `--all`, a subaccount
the venue refuses does not keep the others open: every one is tried, and the ones done and the
ones not are both printed. Exit codes: 0 done, 1 an exchange (or database) error left some
subaccount not flattened (run it again: nothing is closed twice), 2 usage errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from application.emergency_stops import EmergencyOutcome, EmergencyStopIncomplete, EmergencyStops
from entrypoints.cli.errors import FAILED
from entrypoints.cli.execution_context import (
    add_common,
    banner,
    execution_container,
    print_json,
    usage_error,
)
from entrypoints.execution import projected
from entrypoints.execution_views import emergency_json
from entrypoints.logging_setup import scrub

DEFAULT_REASON = "manual emergency stop"


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser("emergency-stop", help="close every position and stop every strategy (paper unless --live)",
                         description="Cancel orders, close positions and retire the strategy of every subaccount "
                         "(--all) or of one (--subaccount N). Safe to run again.")
    which = cmd.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every subaccount, assigned or not (the kill switch)")
    which.add_argument("--subaccount", type=int, metavar="N", help="only this subaccount")
    cmd.add_argument("--reason", default=DEFAULT_REASON, metavar="TEXT",
                     help=f"recorded with each retirement (default: {DEFAULT_REASON!r})")
    add_common(cmd)
    cmd.set_defaults(handler=_emergency_stop)


def _emergency_stop(args: argparse.Namespace) -> int:
    reason = args.reason.strip()
    if not reason:
        return usage_error("--reason must say why")
    with execution_container(args.config, args.live) as (container, mode):
        banner(mode, to_stderr=args.json)
        stops: EmergencyStops = container.emergency_stops()
        number: int | None = None if args.all else args.subaccount
        try:
            outcomes = projected(container.projection_runner().catch_up, lambda: (
                stops.stop_all(reason) if number is None else [stops.stop(number, reason)]))
        except EmergencyStopIncomplete as exc:
            _report(mode, reason, exc.done, exc.failures, as_json=args.json)
            return FAILED
    _report(mode, reason, outcomes, (), as_json=args.json)
    return 0


def _report(mode: str, reason: str, done: Sequence[EmergencyOutcome], failures: Sequence[tuple[int, Exception]],
            *, as_json: bool) -> None:
    if as_json:
        print_json(emergency_json(mode, reason, done, failures))
    else:
        _render(mode, reason, done)
    for number, exc in failures:
        print(f"subaccount {number} NOT flattened ({type(exc).__name__}): {scrub(str(exc))}", file=sys.stderr)
    if failures:
        finished = ", ".join(str(o.subaccount) for o in done) or "none"
        print(f"emergency stop incomplete: done {finished}; run it again to finish the rest", file=sys.stderr)


def _render(mode: str, reason: str, done: Sequence[EmergencyOutcome]) -> None:
    table = Table(title=f"emergency stop ({mode.upper()}): {escape(reason)}")
    for column in ("subaccount", "strategy retired", "closed"):
        table.add_column(column)
    for o in done:
        table.add_row(str(o.subaccount), escape(o.strategy_id or "-"), escape(", ".join(o.closed_symbols) or "flat"))
    Console().print(table)
