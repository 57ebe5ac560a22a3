"""`sixbtc monitor`: a live terminal dashboard of the running system, refreshed from the read models.

It only reads: the runner (`sixbtc run`) does the trading and records the events; this follows
the projections and the runner's health port every `monitoring.dashboard.refresh_seconds`.
"""

from __future__ import annotations

import argparse
import threading
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from entrypoints.cli.context import app_container
from entrypoints.cli.execution_context import print_json
from entrypoints.container import Container
from entrypoints.monitor_view import monitor_view


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser("monitor", help="live terminal dashboard: runner, strategies against backtest, positions")
    cmd.add_argument("--once", action="store_true", help="draw one frame and exit (scripts, cron, tests)")
    cmd.add_argument("--json", action="store_true", help="print one frame as JSON and exit")
    cmd.add_argument("--refresh", type=float, metavar="SECONDS", help="override monitoring.dashboard.refresh_seconds")
    cmd.add_argument("--runner-url", metavar="URL",
                     help="the runner's health port (default http://127.0.0.1:<monitoring.health_check.port>)")
    cmd.add_argument("--config", help="config file")
    cmd.set_defaults(handler=_monitor)


def _monitor(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    if args.refresh is not None and args.refresh <= 0:
        print("error: --refresh must be more than 0 seconds")
        return 2
    with app_container(args.config) as container:
        settings = container.settings()
        refresh = args.refresh or settings.monitoring.dashboard.refresh_seconds
        runner_url = args.runner_url or f"http://127.0.0.1:{settings.monitoring.health_check.port}"
        if args.json:
            print_json(_frame(container, runner_url))
            return 0
        console = Console()
        if args.once:
            console.print(render(_frame(container, runner_url)))
            return 0
        stop = stop or threading.Event()
        with Live(render(_frame(container, runner_url)), console=console, screen=False, auto_refresh=False) as live:
            try:
                while not stop.wait(refresh):
                    live.update(render(_frame(container, runner_url)), refresh=True)
            except KeyboardInterrupt:
                pass  # Ctrl-C is how a person leaves the dashboard
    return 0


def _frame(container: Container, runner_url: str) -> dict[str, Any]:
    settings = container.settings()
    container.projection_runner().catch_up()
    return monitor_view(container.read_models(), mode=settings.deployment.mode,
                        subaccounts=settings.trading.subaccounts.count, runner_url=runner_url,
                        now=container.clock().now())


def render(view: dict[str, Any]) -> Group:
    return Group(_system(view), _strategies(view["strategies"]), _subaccounts(view["subaccounts"]),
                 _positions(view["positions"]), _trades(view["recent_trades"]))


def _system(view: dict[str, Any]) -> Panel:
    runner = view["runner"]
    mode = "[bold white on red] LIVE [/]" if view["mode"] == "live" else "[bold black on yellow] PAPER [/]"
    state = ("[green]ready[/]" if runner["ready"] else f"[red]not ready[/] {runner['detail']}") \
        if runner["reachable"] else f"[red]runner not reachable[/] ({runner['detail']})"
    counts = ", ".join(f"{n} {status}" for status, n in sorted(view["strategy_counts"].items())) or "no strategies"
    lines = [f"{mode}  runner: {state}", f"strategies: {counts}"]
    for check in runner["checks"]:
        lines.append(f"  {'[green]ok[/]' if check['ok'] else '[red]FAIL[/]'} {check['name']}: {check['detail']}")
    ages = [f"{a.get('symbol', '?')} {a.get('timeframe', '?')} {_age(a['age_seconds'])}" for a in runner["candle_ages"]]
    lines.append("last candle: " + (", ".join(ages) if ages else "unknown (no runner data)"))
    return Panel("\n".join(lines), title=f"SixBTC monitor - {view['now'][:19]} UTC")


def _strategies(rows: list[dict[str, Any]]) -> Table:
    table = _table("LIVE strategies: live against backtest", "strategy", "type", "tf", "sub", "trades", "live exp.",
                   "backtest exp.", "live win", "backtest win", "live PnL")
    for s in rows:
        behind = s["live_expectancy"] is not None and s["backtest_expectancy"] is not None \
            and s["live_expectancy"] < s["backtest_expectancy"]
        live_exp = _pct(s["live_expectancy"])
        table.add_row(s["name"] or s["strategy_id"], s["type"] or "", s["timeframe"] or "", _text(s["subaccount"]),
                      str(s["live_trades"]), f"[red]{live_exp}[/]" if behind else live_exp,
                      _pct(s["backtest_expectancy"]), _pct(s["live_win_rate"]), _pct(s["backtest_win_rate"]),
                      _money(s["live_pnl"]))
    if not rows:
        table.add_row("no LIVE strategy (sixbtc deploy)", *[""] * 9)
    return table


def _subaccounts(rows: list[dict[str, Any]]) -> Table:
    table = _table("subaccounts", "#", "status", "strategy", "equity", "drawdown", "day PnL", "positions",
                   "snapshot at")
    for s in rows:
        table.add_row(str(s["subaccount"]), s["status"], s["strategy_id"] or "", _money(s["equity"]),
                      _pct(s["drawdown"]), _money(s["daily_pnl"]), str(s["open_positions"]), _text(s["snapshot_at"]))
    return table


def _positions(rows: list[dict[str, Any]]) -> Table:
    table = _table("open positions", "sub", "symbol", "direction", "size", "entry", "strategy")
    for p in rows:
        table.add_row(str(p["subaccount"]), p["symbol"], p["direction"] or "", _text(p["size"]),
                      _money(p["entry_price"]), p["strategy_id"] or "")
    if not rows:
        table.add_row("none", *[""] * 5)
    return table


def _trades(rows: list[dict[str, Any]]) -> Table:
    table = _table("recent trades", "closed", "sub", "symbol", "direction", "entry", "exit", "PnL", "why")
    for t in rows:
        pnl = float(t["pnl"])
        table.add_row(_text(t["exit_time"])[:19], str(t["subaccount"]), t["symbol"], t["direction"],
                      _money(t["entry_price"]), _money(t["exit_price"]),
                      f"[green]{_money(pnl)}[/]" if pnl >= 0 else f"[red]{_money(pnl)}[/]", t["exit_reason"])
    if not rows:
        table.add_row("none yet", *[""] * 7)
    return table


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, expand=True)
    for column in columns:
        table.add_column(column)
    return table


def _pct(value: Any) -> str:
    return "-" if value is None else f"{float(value):.2%}"


def _money(value: Any) -> str:
    return "-" if value is None else f"{float(value):,.2f}"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    return f"{seconds / 60:.0f}m" if seconds < 7200 else f"{seconds / 3600:.1f}h"
