"""`sixbtc validate FILE`: the validation gate on one strategy file; exit 0 passed, 1 rejected, 2 usage.

The file's code runs only in the sandbox (config `validation.sandbox`). `--json` prints exactly
one JSON object on stdout; logs go to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.console import Console

from application.ports.market_data import MarketDataError
from application.validate_strategy import ValidationRequest
from application.validation_report import ValidationReport
from domain.backtest import InsufficientData, InvalidMarketData
from domain.strategy import TIMEFRAMES
from entrypoints.cli.backtest_command import parse_params
from entrypoints.cli.context import app_container
from entrypoints.cli.errors import FAILED, USAGE_ERROR


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser("validate", help="sandbox, lookahead checks and shuffle test for a strategy file")
    cmd.add_argument("file", help="a strategy file (.py)")
    cmd.add_argument("--data", metavar="PATH", help="Parquet candle file or folder (default: system.data_dir)")
    cmd.add_argument("--symbols", nargs="+", metavar="SYMBOL", help="default: the data's, else trading.symbols")
    cmd.add_argument("--timeframe", choices=TIMEFRAMES, help="default: the strategy's timeframe")
    cmd.add_argument("--days", type=int, metavar="N", help="the last N days (default: backtesting.lookback_days)")
    cmd.add_argument("--walk-forward", action="store_true", help="also run the walk-forward optimiser")
    cmd.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="override a parameter")
    cmd.add_argument("--trials", type=int, default=1, metavar="N",
                     help="strategies tried in this one's batch, for the deflated Sharpe ratio (default 1)")
    cmd.add_argument("--sharpe-variance", type=float, default=0.0, metavar="V",
                     help="variance of the batch's per-bar Sharpe ratios (default 0)")
    cmd.add_argument("--json", action="store_true", help="print one JSON object")
    cmd.add_argument("--config", help="config file")
    cmd.set_defaults(handler=_validate)


def _validate(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"error: no strategy file at {path}", file=sys.stderr)
        return USAGE_ERROR
    try:
        code = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {path}: {exc}", file=sys.stderr)
        return USAGE_ERROR
    params = parse_params(args.param)
    if params is None or args.trials < 1 or (args.days is not None and args.days <= 0):
        if params is not None:
            print("error: --trials must be >= 1 and --days positive", file=sys.stderr)
        return USAGE_ERROR
    with app_container(args.config) as container:
        settings = container.settings()
        request = ValidationRequest(
            code=code, origin=path.name, params=params or None, symbols=tuple(args.symbols or ()),
            timeframe=args.timeframe, days=args.days or settings.backtesting.lookback_days,
            walk_forward=args.walk_forward, trials=args.trials, sharpe_variance=args.sharpe_variance,
        )
        try:
            candles = container.candle_files(args.data or settings.system.data_dir, settings.trading.symbols)
            report = container.validate_strategy().execute(request, candles)
        except (MarketDataError, FileNotFoundError, InsufficientData, InvalidMarketData) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return USAGE_ERROR
        container.projection_runner().catch_up()
    if args.json:
        print(json.dumps(report.to_json_dict(), allow_nan=False, default=str))
    else:
        _render(report)
    return 0 if report.passed else FAILED


def _render(report: ValidationReport) -> None:
    console = Console()
    verdict = "[bold green]PASSED[/bold green]" if report.passed else "[bold red]REJECTED[/bold red]"
    console.print(f"{verdict} {report.origin} ({report.strategy_name or 'no strategy'}) "
                  f"validation {report.validation_id}")
    checks = (("sandbox", report.sandbox_ok), ("static lookahead (AST)", report.ast_ok),
              ("dynamic lookahead (prefix invariance)", report.prefix_ok))
    for name, ok in checks:
        mark = "-" if ok is None else ("ok" if ok else "FAILED")
        console.print(f"  {name}: {mark}")
    if report.shuffle is not None:
        console.print(f"  shuffle test: p = {report.shuffle.p_value:.4f} (z-score p = {report.shuffle.z_p_value:.4g}, "
                      f"{report.shuffle.iterations} shuffles)")
    if report.deflated is not None:
        console.print(f"  deflated Sharpe ratio: {report.deflated.dsr:.4f} ({report.deflated.trials} trials)")
    if report.walk_forward is not None:
        console.print(f"  walk-forward: {'passed' if report.walk_forward.get('passed') else 'failed'}")
    for violation in report.violations:
        console.print(f"  - {violation}", markup=False)
    for reason in report.reasons:
        console.print(f"  reason: {reason}", markup=False)
