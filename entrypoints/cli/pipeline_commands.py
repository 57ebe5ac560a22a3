"""`sixbtc pipeline`: one research run (generate -> gates -> select), resumable; `sixbtc classify`: its ranking.

`--json` prints exactly one JSON object on stdout. A run that is killed is continued with
`sixbtc pipeline --resume RUN_ID` (finished candidates are not evaluated again).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from adapters.console.progress import RichProgress
from application.ports.batch_runner import RunnerUnavailable
from application.ports.market_data import MarketDataError
from application.research_pipeline import PipelineRequest, PipelineRunNotFound
from domain.strategy import TIMEFRAMES
from entrypoints.cli.context import app_container
from entrypoints.cli.errors import USAGE_ERROR
from entrypoints.generation import CHOICES, NoUsableProvider

GATE_DAYS = 730


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser("pipeline", help="generate -> validate -> backtest -> select in one resumable run")
    cmd.add_argument("--count", type=int, metavar="N", help="candidates to generate (default generation.batch_size)")
    cmd.add_argument("--data", metavar="PATH", help="candles (default system.data_dir, else the synthetic market)")
    cmd.add_argument("--seed", type=int, default=0, help="generation seed (offline: the same seed, the same run)")
    cmd.add_argument("--symbols", nargs="+", metavar="SYMBOL", help="default: the data's, else trading.symbols")
    cmd.add_argument("--days", type=int, metavar="N", help="lookback (default backtesting.lookback_days)")
    cmd.add_argument("--holdout-days", type=int, metavar="N", help="days held back for the out-of-sample report")
    cmd.add_argument("--type", dest="strategy_type", metavar="TYPE", help="only this strategy type")
    cmd.add_argument("--timeframe", choices=TIMEFRAMES, help="only this timeframe")
    cmd.add_argument("--provider", choices=CHOICES, default="auto", help="who writes the strategies")
    cmd.add_argument("--resume", metavar="RUN_ID", help="continue a run that was interrupted")
    cmd.add_argument("--json", action="store_true", help="print one JSON object")
    cmd.add_argument("--config", help="config file")
    cmd.set_defaults(handler=_pipeline)
    classify = sub.add_parser("classify", help="the latest research run's ranking, with the reason for each")
    classify.add_argument("--limit", type=int, default=10, metavar="N", help="rows to show (default 10)")
    classify.add_argument("--run", metavar="RUN_ID", help="a given run (default: the latest completed)")
    classify.add_argument("--json", action="store_true", help="print one JSON object")
    classify.add_argument("--config", help="config file")
    classify.set_defaults(handler=_classify)


def _pipeline(args: argparse.Namespace) -> int:
    if any(v is not None and v < (0 if n == "holdout_days" else 1)
           for n, v in (("count", args.count), ("days", args.days), ("holdout_days", args.holdout_days))):
        print("error: --count and --days must be positive, --holdout-days >= 0", file=sys.stderr)
        return USAGE_ERROR
    with app_container(args.config) as container:
        settings = container.settings()
        candles = container.gate_candles(args.data or settings.system.data_dir, GATE_DAYS)
        bar = RichProgress("Research run", console=Console(stderr=True))
        bar.start(1)
        try:
            use_case = container.research_pipeline(choice=args.provider, candles=candles,
                                                   strategy_type=args.strategy_type)
            progress = _progress(bar)
            if args.resume:
                report = use_case.resume(args.resume, candles, progress)
            else:
                request = PipelineRequest(
                    count=args.count or settings.generation.batch_size, seed=args.seed,
                    symbols=tuple(args.symbols or ()), days=args.days or settings.backtesting.lookback_days,
                    holdout_days=settings.pipeline.holdout_days if args.holdout_days is None else args.holdout_days,
                    strategy_type=args.strategy_type.upper() if args.strategy_type else None,
                    timeframe=args.timeframe)
                report = use_case.run(request, candles, progress)
        except (PipelineRunNotFound, NoUsableProvider, MarketDataError, RunnerUnavailable) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return USAGE_ERROR
        finally:
            bar.finish()
        container.projection_runner().catch_up()
    if args.json:
        print(json.dumps(report, allow_nan=False, default=str))
    else:
        render(report, limit=None)
    return 0


def _progress(bar: RichProgress) -> Any:
    def advance(done: int, total: int, _label: str) -> None:
        if bar.total != total:
            bar.start(total)
        bar.advance(done - bar.completed)

    return advance


def _classify(args: argparse.Namespace) -> int:
    with app_container(args.config) as container:
        container.projection_runner().catch_up()
        runs = container.read_models().rows("pipeline_runs", {"status": "completed"})
    if args.run:
        runs = [r for r in runs if r["run_id"] == args.run]
        if not runs:
            print(f"error: no completed pipeline run {args.run!r}", file=sys.stderr)
            return USAGE_ERROR
    if not runs:
        print("error: no completed pipeline run yet: run `sixbtc pipeline` first", file=sys.stderr)
        return USAGE_ERROR
    latest = max(runs, key=lambda r: r["completed_at"])
    report = latest["report"]
    ranked = report["decisions"][: args.limit]
    if args.json:
        print(json.dumps({"run_id": latest["run_id"], "completed_at": latest["completed_at"].isoformat(),
                          "ranking": ranked}, allow_nan=False, default=str))
    else:
        render(report, limit=args.limit)
    return 0


def render(report: dict[str, Any], limit: int | None) -> None:
    console = Console()
    console.print(f"[bold]research run {report['run_id']}[/bold]: {report['candidates']} candidates, "
                  f"{report['passed']} passed every gate, {len(report['selected'])} selected")
    table = Table(title="ranking (selected first)")
    for column in ("#", "strategy", "score", "selected", "why"):
        table.add_column(column)
    for n, d in enumerate(report["decisions"][:limit], 1):
        table.add_row(str(n), d["name"], f"{d['score']:.1f}", "yes" if d["selected"] else "no",
                      "; ".join(d["reasons"])[:300])
    console.print(table)
    if report.get("synthetic"):
        where = ", ".join(report["synthetic"])
        console.print(f"[yellow]evaluated on the SYNTHETIC market (not real prices) for {where}: no cached candles "
                      "there; `sixbtc data download` fetches real ones[/yellow]")
    oos = report.get("out_of_sample")
    if oos:
        console.print(f"out of sample ({oos['holdout_days']} days held back): portfolio Sharpe in sample "
                      f"{_num(oos['in_sample']['sharpe'])}, out of sample {_num(oos['out_of_sample']['sharpe'])}")


def _num(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) else "-"
