"""`sixbtc demo`: the main job end to end, offline. It grows with each issue.

Today: start (or find) PostgreSQL, migrate, register the example strategies through the
RegisterStrategy use case (events appended), run each through the validation gate (sandbox,
both lookahead checks, shuffle test) and backtest it on the synthetic market, then one whole
research run (offline generation -> every gate -> score -> a diversified top 10 with reasons),
deploy the selection to paper subaccounts 1..3 (test mode), bring the projections up to date and
print them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from adapters.postgres.engine import describe
from adapters.synthetic.candle_source import SyntheticCandleSource
from application.backtest import BacktestRequest
from application.deploy_strategies import DeploymentRequest
from application.research_pipeline import PipelineRequest
from application.validate_strategy import ValidationRequest
from entrypoints.cli.context import app_container
from entrypoints.cli.deploy_commands import render_deployment
from entrypoints.cli.pipeline_commands import render as render_run
from entrypoints.container import Container

SYNTHETIC_DAYS = 200
RESEARCH_COUNT = 40
BACKTEST_DAYS = 120
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "strategies"


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="run the main job end to end, offline, on the paper adapter")
    demo.add_argument("--config", help="config file")
    demo.add_argument("--examples", default=str(EXAMPLES), help="folder of strategy modules to register")
    demo.add_argument("--count", type=int, default=RESEARCH_COUNT, help="candidates the research run generates")
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
        strategy_ids, codes = [], []
        for path in files:
            outcome = register.execute(path.read_text(encoding="utf-8"), generator="example", origin=path.name)
            verb = "registered" if outcome.created else "already stored"
            console.print(f"  {verb}: {outcome.name} from {path.name}")
            strategy_ids.append(outcome.strategy_id)
            codes.append((path.name, path.read_text(encoding="utf-8")))
        candles = _market(container)
        _validate(console, container, codes, candles)
        _backtest(console, container, strategy_ids, candles)
        selected = _research(console, container, candles, args.count)
        if selected:
            _deploy(console, container)
        else:
            console.print("[bold]deployment[/bold]: nothing selected, so nothing goes to the paper subaccounts "
                          "(`sixbtc deploy --test-mode` deploys a selection; `sixbtc run --replay` rehearses it)")
        caught_up = container.projection_runner().catch_up()
        console.print(f"[bold]projections[/bold] applied {caught_up.events_seen} new events, "
                      f"now at position {caught_up.position}")
        _print_strategies(console, container.read_models().rows("strategies"))
    return 0


def _market(container: Container) -> SyntheticCandleSource:
    end = container.clock().now().replace(hour=0, minute=0, second=0, microsecond=0)
    return SyntheticCandleSource(end=end, days=SYNTHETIC_DAYS, seed=7, symbols=("BTC", "ETH"))


def _validate(console: Console, container: Container, codes: list[tuple[str, str]],
              candles: SyntheticCandleSource) -> None:
    """The validation gate on every example, in the sandbox; outcomes become validation events."""
    table = Table(title="validation gate (sandbox worker, lookahead checks, shuffle test) on the SYNTHETIC market")
    for column in ("file", "sandbox", "lookahead free", "shuffle p", "deflated SR", "verdict"):
        table.add_column(column)
    validate = container.validate_strategy()
    for name, code in codes:
        report = validate.execute(ValidationRequest(code=code, origin=name, days=BACKTEST_DAYS), candles)
        table.add_row(name, _yes(report.sandbox_ok), _yes(report.lookahead_free),
                      _num(report.shuffle.p_value if report.shuffle else None),
                      _num(report.deflated.dsr if report.deflated else None),
                      "passed" if report.passed else "rejected: " + ", ".join(r.split(":")[0] for r in report.reasons))
    console.print(table)


def _research(console: Console, container: Container, candles: SyntheticCandleSource, count: int) -> bool:
    """The whole research loop, offline: generate, every gate, score, select; the top 10 with reasons."""
    console.print(f"[bold]research run[/bold]: {count} offline candidates on the SYNTHETIC market "
                  f"(generate -> sandbox -> lookahead -> backtest -> walk-forward -> shuffle -> DSR -> select)")
    pipeline = container.research_pipeline(choice="offline", candles=candles)
    report = pipeline.run(PipelineRequest(count=count, seed=1, days=BACKTEST_DAYS), candles)
    render_run(report, limit=10)
    if not report["selected"]:
        console.print("No strategy survived every gate on this market: the selection refuses to promote noise. "
                      "`sixbtc classify` shows the ranking again; `sixbtc pipeline --count N` runs more.")
    return bool(report["selected"])


def _deploy(console: Console, container: Container) -> None:
    """Step 4 on paper: the selection goes to subaccounts 1..3 with the test capital each."""
    console.print("[bold]deployment[/bold]: the selected strategies go to PAPER subaccounts (test mode)")
    render_deployment(container.subaccount_manager().deploy(DeploymentRequest(plan="test")))


def _yes(value: bool) -> str:
    return "yes" if value else "NO"


def _backtest(console: Console, container: Container, strategy_ids: list[str],
              candles: SyntheticCandleSource) -> None:
    """Backtest every example on the offline synthetic market; results become BacktestCompleted."""
    table = Table(title=f"backtests on the SYNTHETIC market (seeded, offline), last {BACKTEST_DAYS} days: "
                        "not real prices")
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
    for column in ("name", "type", "tf", "status", "validation", "generator", "created"):
        table.add_column(column)
    for row in sorted(rows, key=lambda r: r["created_at"]):
        table.add_row(row["name"], row["strategy_type"], row["timeframe"], row["status"],
                      row.get("validation_status") or "-", row["generator"],
                      row["created_at"].strftime("%Y-%m-%d %H:%M:%S UTC"))
    console.print(table)
