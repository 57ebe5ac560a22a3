"""`sixbtc demo`: the main job end to end, offline. It grows with each issue.

Today: start (or find) PostgreSQL, migrate, register the example strategies through the
RegisterStrategy use case (events appended), bring the projections up to date and print them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from adapters.postgres.engine import describe
from adapters.synthetic.candle_source import SyntheticCandleSource
from application.backtest import BacktestRequest
from entrypoints.cli.context import app_container
from entrypoints.container import Container

SYNTHETIC_DAYS = 200
BACKTEST_DAYS = 120
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "strategies"


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="run the main job end to end, offline, on the paper adapter")
    demo.add_argument("--config", help="config file")
    demo.add_argument("--examples", default=str(EXAMPLES), help="folder of strategy modules to register")
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    console = Console()
    files = sorted(Path(args.examples).glob("*.py"))
    if not files:
        console.print(f"[red]no strategy modules in {args.examples}[/red]")
        return 2
    with app_container(args.config) as container:
        engine = container.database()
        console.print(f"[bold]database[/bold] {describe(engine.url)} (migrated)")
        register = container.register_strategy()
        strategy_ids = []
        for path in files:
            outcome = register.execute(path.read_text(encoding="utf-8"), generator="example", origin=path.name)
            verb = "registered" if outcome.created else "already stored"
            console.print(f"  {verb}: {outcome.name} from {path.name}")
            strategy_ids.append(outcome.strategy_id)
        _backtest(console, container, strategy_ids)  # ids: the read model may not have caught up yet
        caught_up = container.projection_runner().catch_up()
        console.print(f"[bold]projections[/bold] applied {caught_up.events_seen} new events, "
                      f"now at position {caught_up.position}")
        _print_strategies(console, container.read_models().rows("strategies"))
    return 0


def _backtest(console: Console, container: Container, strategy_ids: list[str]) -> None:
    """Backtest every example on the offline synthetic market; results become BacktestCompleted."""
    end = container.clock().now().replace(hour=0, minute=0, second=0, microsecond=0)
    candles = SyntheticCandleSource(end=end, days=SYNTHETIC_DAYS, seed=7, symbols=("BTC", "ETH"))
    table = Table(title=f"backtests on the SYNTHETIC market (seeded, offline), last {BACKTEST_DAYS} days to "
                        f"{end:%Y-%m-%d}: not real prices")
    for column in ("strategy", "tf", "trades", "return", "sharpe", "max dd", "win rate"):
        table.add_column(column)
    run = container.run_backtest()
    for strategy_id in strategy_ids:
        report = run.execute(BacktestRequest(strategy=strategy_id, days=BACKTEST_DAYS), candles=candles)
        m = report.metrics
        table.add_row(report.strategy_name, report.timeframe, str(m["total_trades"]), f"{m['total_return']:+.1%}",
                      _num(m["sharpe_ratio"]), f"{m['max_drawdown']:.1%}", f"{m['win_rate']:.0%}")
    console.print(table)


def _num(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) else "-"


def _print_strategies(console: Console, rows: list[dict]) -> None:
    table = Table(title="strategies (read model)")
    for column in ("name", "type", "tf", "status", "generator", "created"):
        table.add_column(column)
    for row in sorted(rows, key=lambda r: r["created_at"]):
        table.add_row(row["name"], row["strategy_type"], row["timeframe"], row["status"], row["generator"],
                      row["created_at"].strftime("%Y-%m-%d %H:%M:%S UTC"))
    console.print(table)
