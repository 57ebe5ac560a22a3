"""`sixbtc run`: the live loop (paper unless --live); `--replay` rehearses it on history; `sixbtc status`."""

from __future__ import annotations

import argparse
import signal
import threading
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from application.live_session import LiveSession, next_close
from application.rotate_strategies import StrategyRotation
from application.scheduler_runs import JobRunLog
from application.strategy_repository import StrategyNotFound
from entrypoints.cli.execution_context import add_common, banner, execution_container, print_json, usage_error
from entrypoints.container import Container
from entrypoints.health_server import HealthPortUnavailable, runner_health
from entrypoints.live_runner import LiveRunner, live_strategies, shutdown_policy
from entrypoints.monitor_view import latest_snapshots, runner_jobs
from entrypoints.scheduled_jobs import cycle_jobs


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = sub.add_parser("run", help="run the live loop (paper unless --live); --replay rehearses it on history")
    run.add_argument("--replay", action="store_true", help="drive the loop from historical candles, at full speed")
    run.add_argument("--from", dest="start", metavar="DATE", help="replay start (UTC, e.g. 2026-01-01)")
    run.add_argument("--to", dest="end", metavar="DATE", help="replay end (UTC, exclusive)")
    run.add_argument("--data", metavar="PATH", help="candles for the replay (default system.data_dir)")
    run.add_argument("--strategy", action="append", default=[], metavar="ID", help="replay these (default: LIVE)")
    add_common(run)
    run.set_defaults(handler=_run)
    status = sub.add_parser("status", help="subaccounts, live strategies, last snapshots, next candle closes")
    status.add_argument("--subaccount", type=int, metavar="N", help="only this subaccount")
    status.add_argument("--runner-url", metavar="URL",
                        help="the runner's health port (default http://127.0.0.1:<monitoring.health_check.port>)")
    add_common(status, live=False)
    status.set_defaults(handler=_status)


def _run(args: argparse.Namespace) -> int:
    if args.replay:
        return _replay(args)
    if args.start or args.end or args.data or args.strategy:
        return usage_error("--from, --to, --data and --strategy go with --replay")
    with execution_container(args.config, args.live) as (container, mode):
        banner(mode, to_stderr=args.json)
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        try:
            with runner_health(container) as health:
                runner = build_runner(container)
                health.attach(runner)
                runner.run(stop)
        except HealthPortUnavailable as exc:
            return usage_error(str(exc))
    return 0


def build_runner(container: Container) -> LiveRunner:
    """The live loop as `sixbtc run` wires it (tests build the same one on their own container)."""
    settings = container.settings()
    catch_up = container.projection_runner().catch_up
    shutdown = settings.deployment.shutdown
    rotation = StrategyRotation(container.subaccount_manager(), container.read_models(), container.risk_policy(),
                                catch_up)
    session = LiveSession(container.live_trader(), container.emergency_stops(), container.reconciler(),
                          container.subaccount_ledger(), container.exchange(), container.clock(),
                          live_strategies(container.read_models(), catch_up),
                          shutdown_policy(shutdown.cancel_orders, shutdown.close_positions), rotation)
    notifications = container.event_notifications()
    return LiveRunner(session, settings.trading.timeframes, grace_seconds=settings.deployment.candle_grace_seconds,
                      check_minutes=settings.monitoring.check_interval_minutes, catch_up=catch_up,
                      rotation_hours=settings.deployment.rotation_frequency_hours,
                      notify=notifications.run_once if notifications.targets else None,
                      notify_seconds=settings.monitoring.notifications.interval_seconds,
                      jobs=cycle_jobs(container), record_run=JobRunLog(container.event_store()).record,
                      now=container.clock().now)


def _replay(args: argparse.Namespace) -> int:
    from entrypoints.replay_run import as_json, replay

    if args.live:
        return usage_error("a replay always runs on paper: drop --live")
    try:
        start, end = _date(args.start, "--from"), _date(args.end, "--to")
    except ValueError as exc:
        return usage_error(str(exc))
    if end <= start:
        return usage_error(f"--to ({end:%Y-%m-%d}) must be after --from ({start:%Y-%m-%d})")
    with execution_container(args.config, False) as (container, _):
        settings = container.settings()
        banner("paper", to_stderr=args.json)
        repository = container.strategy_repository()
        try:
            strategies = [repository.get(i) for i in args.strategy] or _live(container)
        except StrategyNotFound as exc:
            return usage_error(str(exc))
        if not strategies:
            return usage_error("no LIVE strategy to replay: name some with --strategy ID")
        results = replay(settings, strategies, args.data or settings.system.data_dir, start, end,
                         container.risk_policy(), container.strategy_sandbox())
    if args.json:
        print_json({"from": start, "to": end, "strategies": as_json(results)})
        return 0
    table = Table(title=f"replay {start:%Y-%m-%d} -> {end:%Y-%m-%d} (PAPER, simulated clock)")
    for column in ("strategy", "subaccount", "timeframe", "trades", "pnl", "final equity", "emergency stop"):
        table.add_column(column)
    for r in results:
        table.add_row(r.strategy_id, str(r.subaccount), r.timeframe, str(r.trades), f"{r.pnl:.2f}",
                      f"{r.final_equity:.2f}", r.emergency or "")
    Console().print(table)
    return 0


def _live(container: Container) -> list[Any]:
    container.projection_runner().catch_up()
    rows = container.read_models().rows("strategies", {"status": "LIVE"})
    repository = container.strategy_repository()
    return [repository.get(r["strategy_id"]) for r in rows]


def _date(text: str | None, flag: str) -> datetime:
    if not text:
        raise ValueError(f"{flag} DATE is required with --replay")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{flag} {text!r} is not a date (YYYY-MM-DD)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _status(args: argparse.Namespace) -> int:
    with execution_container(args.config, False) as (container, _):
        settings = container.settings()
        container.projection_runner().catch_up()
        models = container.read_models()
        rows = {r["subaccount"]: r for r in models.rows("subaccounts")}
        snapshots = latest_snapshots(models)
        numbers = [args.subaccount] if args.subaccount else list(range(1, settings.trading.subaccounts.count + 1))
        now = container.clock().now()
        view = {
            "mode": settings.deployment.mode,
            "live_strategies": len(models.rows("strategies", {"status": "LIVE"})),
            "subaccounts": [_subaccount_view(n, rows.get(n), snapshots.get(n)) for n in numbers],
            "next_candle_closes": {tf: next_close(now, tf).isoformat() for tf in settings.trading.timeframes},
            "runner": runner_jobs(args.runner_url or f"http://127.0.0.1:{settings.monitoring.health_check.port}"),
        }
    if args.json:
        print_json(view)
        return 0
    console = Console()
    console.print(f"mode {view['mode'].upper()} - {view['live_strategies']} LIVE strategies")
    table = Table(title="subaccounts")
    for column in ("#", "status", "strategy", "equity", "drawdown", "open positions", "snapshot at"):
        table.add_column(column)
    for s in view["subaccounts"]:
        table.add_row(str(s["subaccount"]), s["status"], s["strategy_id"] or "", _num(s["equity"]),
                      _num(s["drawdown"]), str(s["open_positions"] or 0), str(s["snapshot_at"] or ""))
    console.print(table)
    for tf, at in view["next_candle_closes"].items():
        console.print(f"next {tf} close: {at}")
    runner = view["runner"]
    if not runner["reachable"]:
        console.print(f"scheduled jobs: unknown, the runner does not answer ({runner['detail']})", markup=False)
        return 0
    jobs = Table(title=f"scheduled jobs of the runner (scheduler {runner['scheduler']})")
    for column in ("job", "next run", "runs", "errors", "misfires"):
        jobs.add_column(column)
    for job in runner["jobs"]:
        jobs.add_row(job["job_id"], str(job["next_run_at"] or "paused"), str(job["runs"]), str(job["errors"]),
                     str(job["misfires"]))
    console.print(jobs)
    return 0


def _subaccount_view(number: int, row: dict[str, Any] | None, snap: dict[str, Any] | None) -> dict[str, Any]:
    return {"subaccount": number, "status": (row or {}).get("status", "free"),
            "strategy_id": (row or {}).get("strategy_id"), "equity": (snap or {}).get("equity"),
            "drawdown": (snap or {}).get("drawdown"), "open_positions": (snap or {}).get("open_positions"),
            "snapshot_at": (snap or {}).get("taken_at")}


def _num(value: Any) -> str:
    return "" if value is None else f"{value:.4g}"
