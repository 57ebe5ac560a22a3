"""`sixbtc deploy`, `sixbtc stop` and `sixbtc rotate`: strategies on and off subaccounts.

Paper unless `--live` (and the config and environment agree, see entrypoints/execution.py).
Exit codes: 0 something deployed / planned / stopped, 1 nothing could be (each reason printed),
2 usage errors (bad flags, unknown strategy, live refused).
"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from application.deploy_strategies import DeploymentReport, DeploymentRequest, DeploymentStep
from application.stop_strategy import StopReport
from application.strategy_repository import StrategyNotFound
from entrypoints.cli.errors import FAILED
from entrypoints.cli.execution_context import (
    add_common,
    banner,
    execution_container,
    print_json,
    usage_error,
)
from entrypoints.execution import projected
from entrypoints.execution_views import deployment_json, step_json, stop_json

WORKED = {"deployed", "planned"}


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    deploy = sub.add_parser("deploy", help="put SELECTED strategies on free subaccounts (paper unless --live)",
                            description="Each strategy gets its own subaccount. Test mode: the first 3 "
                            "subaccounts with trading.subaccounts.test_mode_capital each; full: every one.")
    plan = deploy.add_mutually_exclusive_group()
    plan.add_argument("--test-mode", action="store_true", help="first 3 subaccounts, small fixed capital (default)")
    plan.add_argument("--full", action="store_true", help="every configured subaccount with what it holds")
    deploy.add_argument("--dry-run", action="store_true", help="show what would be deployed; change nothing")
    deploy.add_argument("--strategy", action="append", default=[], metavar="ID",
                        help="deploy this strategy (repeatable); default: every SELECTED one, best rank first")
    add_common(deploy)
    deploy.set_defaults(handler=_deploy)

    stop = sub.add_parser("stop", help="stop a LIVE strategy: cancel, close, free its subaccount, retire it")
    stop.add_argument("strategy_id", metavar="STRATEGY_ID")
    stop.add_argument("--reason", required=True, help="why (recorded with the retirement)")
    add_common(stop)
    stop.set_defaults(handler=_stop)

    rotate = sub.add_parser("rotate", help="replace a LIVE strategy by a SELECTED one on the same subaccount")
    rotate.add_argument("old_strategy_id", metavar="OLD")
    rotate.add_argument("new_strategy_id", metavar="NEW")
    rotate.add_argument("--reason", required=True, help="why (recorded with the old one's retirement)")
    add_common(rotate)
    rotate.set_defaults(handler=_rotate)


def _deploy(args: argparse.Namespace) -> int:
    if any(not s.strip() for s in args.strategy):
        return usage_error("--strategy needs a strategy id")
    request = DeploymentRequest(plan="full" if args.full else "test", dry_run=args.dry_run,
                                strategy_ids=tuple(dict.fromkeys(args.strategy)))
    with execution_container(args.config, args.live) as (container, mode):
        banner(mode, to_stderr=args.json)
        manager, catch_up = container.subaccount_manager(), container.projection_runner().catch_up
        try:
            report = projected(catch_up, lambda: manager.deploy(request))
        except StrategyNotFound as exc:
            return usage_error(str(exc))
    if args.json:
        print_json(deployment_json(report))
    else:
        render_deployment(report)
    return 0 if any(s.status in WORKED for s in report.steps) else FAILED


def _stop(args: argparse.Namespace) -> int:
    if not args.reason.strip():
        return usage_error("--reason must say why")
    with execution_container(args.config, args.live) as (container, mode):
        banner(mode, to_stderr=args.json)
        manager, catch_up = container.subaccount_manager(), container.projection_runner().catch_up
        try:
            report = projected(catch_up, lambda: manager.stop(args.strategy_id, args.reason))
        except StrategyNotFound as exc:
            return usage_error(str(exc))
    if args.json:
        print_json(stop_json(report))
    else:
        _render_stop(report)
    return 0


def _rotate(args: argparse.Namespace) -> int:
    if args.old_strategy_id == args.new_strategy_id:
        return usage_error("OLD and NEW are the same strategy")
    if not args.reason.strip():
        return usage_error("--reason must say why")
    with execution_container(args.config, args.live) as (container, mode):
        banner(mode, to_stderr=args.json)
        manager, catch_up = container.subaccount_manager(), container.projection_runner().catch_up
        try:
            stopped, step = projected(catch_up, lambda: manager.rotate(args.old_strategy_id, args.new_strategy_id,
                                                                       args.reason))
        except StrategyNotFound as exc:
            return usage_error(str(exc))
    if args.json:
        print_json({"stopped": stop_json(stopped), "deployed": step_json(step)})
    else:
        _render_stop(stopped)
        _render_steps([step], title=f"rotated in on subaccount {step.subaccount}")
    return 0


def render_deployment(report: DeploymentReport) -> None:
    what = "dry run, nothing changed" if report.dry_run else "deployment"
    _render_steps(list(report.steps), title=f"{what} {report.deployment_id} ({report.mode.upper()}, "
                                            f"{report.plan} plan)")
    if not report.steps:
        Console().print("no SELECTED strategy to deploy: run `sixbtc pipeline` first, or name one with --strategy")


def _render_steps(steps: list[DeploymentStep], title: str) -> None:
    table = Table(title=title)
    for column in ("strategy", "subaccount", "capital", "status", "reason"):
        table.add_column(column)
    colours = {"deployed": "green", "planned": "cyan", "skipped": "yellow"}
    for s in steps:
        colour = colours.get(s.status, "white")
        table.add_row(escape(s.strategy_id), "-" if s.subaccount is None else str(s.subaccount), f"{s.capital:.2f}",
                      f"[{colour}]{s.status}[/{colour}]", escape(s.reason or ""))
    Console().print(table)


def _render_stop(report: StopReport) -> None:
    console = Console()
    console.print(f"[bold]stopped[/bold] {escape(report.strategy_id)} on subaccount {report.subaccount}: "
                  f"{escape(report.reason)}", highlight=False)
    console.print(f"  cancelled orders: {len(report.cancelled_orders)}; closed: "
                  f"{', '.join(report.closed_symbols) or 'nothing open'}; realised PnL {report.realized_pnl:+.2f} USDC",
                  markup=False, highlight=False)
