"""`sixbtc backtest TARGET`: backtest a strategy file or a stored strategy, record the result.

TARGET is a .py file (registered first, so its result has a strategy to belong to) or a stored
strategy's name or id. `--json` prints exactly one JSON object on stdout (logs go to stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from application.backtest import BacktestReport, BacktestRequest
from application.ports.market_data import MarketDataError
from domain.metrics import METRIC_NAMES
from domain.strategy import TIMEFRAMES
from entrypoints.cli.context import app_container
from entrypoints.cli.errors import USAGE_ERROR


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = sub.add_parser("backtest", help="backtest a strategy file or a stored strategy on Parquet candles")
    cmd.add_argument("target", help="a strategy file (.py), or a stored strategy's name or id")
    cmd.add_argument("--data", metavar="PATH", help="Parquet candle file or folder (default: system.data_dir)")
    cmd.add_argument("--symbols", nargs="+", metavar="SYMBOL",
                     help="BTC, BTCUSDT or EXCHANGE_SYMBOL (default: the file's symbol, else trading.symbols)")
    cmd.add_argument("--timeframe", choices=TIMEFRAMES, help="default: the strategy's timeframe")
    cmd.add_argument("--days", type=int, metavar="N",
                     help="the last N days of data (default: backtesting.lookback_days)")
    cmd.add_argument("--funding", metavar="PATH",
                     help="funding-rate Parquet file or folder: positions pay or receive it")
    cmd.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="override a strategy parameter (VALUE read as JSON, else as text); repeatable")
    cmd.add_argument("--json", action="store_true", help="print one JSON object: metrics and every trade")
    cmd.add_argument("--config", help="config file")
    cmd.set_defaults(handler=_backtest)


def _backtest(args: argparse.Namespace) -> int:
    target = Path(args.target)
    is_file = target.suffix == ".py" or target.is_file()
    if is_file and not target.is_file():
        print(f"error: no strategy file at {target}", file=sys.stderr)
        return USAGE_ERROR
    params = parse_params(args.param)
    if params is None:
        return USAGE_ERROR
    with app_container(args.config) as container:
        settings = container.settings()
        container.projection_runner().catch_up()  # stored names are looked up in the strategies read model
        request = BacktestRequest(
            code=target.read_text(encoding="utf-8") if is_file else None, origin=target.name,
            strategy=None if is_file else args.target, params=params, symbols=tuple(args.symbols or ()),
            timeframe=args.timeframe, days=args.days or settings.backtesting.lookback_days,
        )
        try:
            candles = container.candle_files(args.data or settings.system.data_dir, settings.trading.symbols)
            funding = container.funding_files(args.funding) if args.funding else None
            report = container.run_backtest().execute(request, candles, funding)
        except (MarketDataError, FileNotFoundError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return USAGE_ERROR
        container.projection_runner().catch_up()
    if args.json:
        print(json.dumps(report.to_json_dict(), allow_nan=False))
    else:
        _render(report)
    return 0


def parse_params(pairs: list[str]) -> dict[str, Any] | None:
    params: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            print(f"error: --param needs NAME=VALUE, got {pair!r}", file=sys.stderr)
            return None
        try:
            params[name] = json.loads(raw)
        except json.JSONDecodeError:
            params[name] = raw
    return params


def _render(report: BacktestReport) -> None:
    console = Console()
    path = " [yellow](slow path: the strategy only overrides generate_signal)[/yellow]" if report.slow_path else ""
    console.print(f"[bold]{report.strategy_name}[/bold] {report.timeframe} {', '.join(report.symbols)} "
                  f"{report.period_start:%Y-%m-%d} -> {report.period_end:%Y-%m-%d}{path}")
    table = Table(title=f"backtest {report.backtest_id}")
    table.add_column("metric")
    for column in ("all", *report.symbols):
        table.add_column(column, justify="right")
    for name in METRIC_NAMES:
        values = [report.metrics[name], *(report.symbol_metrics[s][name] for s in report.symbols)]
        table.add_row(name, *(_number(v) for v in values))
    console.print(table)
    console.print(f"{len(report.run.trades)} trades; recorded as event BacktestCompleted "
                  f"(backtest_results read model). --json prints every trade.")


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4f}"
