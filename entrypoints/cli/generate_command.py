"""`sixbtc generate --count N`: new strategies through the gate, stored with their provenance.

`--provider offline` needs no key and no network; `auto` (the default) uses the enabled AI
providers that have keys, else the offline generator when `generation.offline_fallback` allows.
The gate's candles come from `--data` or system.data_dir, and from the seeded synthetic market for
what is not cached. `--json` prints exactly one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console
from rich.table import Table

from adapters.console.progress import RichProgress
from application.generate_strategies import GenerationReport, GenerationRequest
from domain.strategy import TIMEFRAMES
from entrypoints.cli.context import app_container
from entrypoints.cli.errors import FAILED, USAGE_ERROR
from entrypoints.generation import CHOICES, NoUsableProvider

GATE_DAYS = 730


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser("generate", help="generate strategies (AI providers or offline) through the validation gate")
    cmd.add_argument("--count", type=int, default=None, metavar="N", help="default: generation.batch_size")
    cmd.add_argument("--type", dest="strategy_type", metavar="TYPE",
                     help="MOM, REV, TRN, BRE, VOL or PAT (default: rotate over generation.strategy_types)")
    cmd.add_argument("--timeframe", choices=TIMEFRAMES, help="default: rotate over trading.timeframes")
    cmd.add_argument("--provider", choices=CHOICES, default="auto", help="who writes the code (default auto)")
    cmd.add_argument("--seed", type=int, default=0, help="offline composer seed: the same seed repeats the run")
    cmd.add_argument("--data", metavar="PATH", help="candles for the gate (default: system.data_dir, else synthetic)")
    cmd.add_argument("--json", action="store_true", help="print one JSON object")
    cmd.add_argument("--config", help="config file")
    cmd.set_defaults(handler=_generate)


def _generate(args: argparse.Namespace) -> int:
    if args.count is not None and args.count < 1:
        print("error: --count must be at least 1", file=sys.stderr)
        return USAGE_ERROR
    with app_container(args.config) as container:
        settings = container.settings()
        request = GenerationRequest(count=args.count or settings.generation.batch_size,
                                    strategy_type=args.strategy_type.upper() if args.strategy_type else None,
                                    timeframe=args.timeframe, seed=args.seed)
        candles = container.gate_candles(args.data or settings.system.data_dir, GATE_DAYS)
        try:
            use_case = container.generate_strategies(choice=args.provider, candles=candles,
                                                     strategy_type=request.strategy_type)
        except NoUsableProvider as exc:
            print(f"error: {exc}", file=sys.stderr)
            return USAGE_ERROR
        bar = RichProgress("Generating strategies", console=Console(stderr=True))
        bar.start(request.count)
        try:
            report = use_case.execute(request, candles, lambda done, _total, _label: bar.advance(1))
        finally:
            bar.finish()
        container.projection_runner().catch_up()
    if args.json:
        print(json.dumps(report.to_json_dict(), allow_nan=False, default=str))
    else:
        _render(report)
    return 0 if report.count("stored") + report.count("duplicate") > 0 else FAILED


def _render(report: GenerationReport) -> None:
    console = Console()
    table = Table(title=f"generation {report.run_id} ({report.provider})")
    for column in ("#", "status", "name", "type", "tf", "by", "attempts", "cost"):
        table.add_column(column)
    for r in report.results:
        table.add_row(str(r.index), r.status, r.name or "-", r.strategy_type, r.timeframe, r.provider,
                      str(r.attempts), f"${r.cost_usd:.4f}")
    console.print(table)
    console.print(f"stored {report.count('stored')}, duplicates {report.count('duplicate')}, rejected "
                  f"{report.count('rejected')} of {report.requested}; spent ${report.spent_usd:.4f}"
                  + (f"; stopped: {report.stopped}" if report.stopped else ""))
    for r in report.results:
        if r.status == "rejected":
            console.print(f"  #{r.index} rejected: {r.reasons[-1] if r.reasons else 'no reason'}", markup=False)
