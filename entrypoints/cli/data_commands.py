"""`sixbtc data download | status | check`: the Binance history cache and its quality."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from adapters.console.progress import RichProgress
from adapters.parquet.loader import load_candles, load_folder
from application.download_history import DownloadFailed, DownloadHistory, InvalidDownloadRequest
from domain.candle_quality import quality_report
from entrypoints.cli.context import app_container


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    data = sub.add_parser("data", help="download, inspect and check market data")
    actions = data.add_subparsers(dest="data_action", required=True, metavar="ACTION")
    download = actions.add_parser("download", help="download Binance USDT-M history into the Parquet cache")
    download.add_argument("--symbols", help="comma-separated coins (default trading.symbols), e.g. BTC,ETH")
    download.add_argument("--timeframes", help="comma-separated, e.g. 15m,1h (default trading.timeframes)")
    download.add_argument("--days", type=float, help="how far back (default backtesting.lookback_days)")
    download.add_argument("--config", help="config file")
    download.set_defaults(handler=_download)
    status = actions.add_parser("status", help="what is cached: symbol, timeframe, first, last, rows, gaps")
    status.add_argument("--config", help="config file")
    status.set_defaults(handler=_status)
    universe = actions.add_parser("universe", help="perps on both Binance and Hyperliquid above the volume floor")
    universe.add_argument("--config", help="config file")
    universe.set_defaults(handler=_universe)
    check = actions.add_parser("check", help="quality report of a Parquet file or folder of candle files")
    check.add_argument("path", help="a Parquet file, or a folder of {EXCHANGE}_{SYMBOL}_{TIMEFRAME}.parquet")
    check.add_argument("--timeframe", help="timeframe of a single file (folders: from the file names)")
    check.set_defaults(handler=_check)


def _download(args: argparse.Namespace) -> int:
    console = Console()
    with app_container(args.config) as container:
        settings = container.settings()
        symbols = _split(args.symbols) or list(settings.trading.symbols)
        timeframes = _split(args.timeframes) or list(settings.trading.timeframes)
        days = args.days if args.days is not None else float(settings.backtesting.lookback_days)
        use_case = DownloadHistory(container.binance_history(), container.candle_cache(), container.clock(),
                                   RichProgress(console=console))
        try:
            results = use_case.execute(symbols, timeframes, days)
        except InvalidDownloadRequest as exc:
            console.print(f"[red]{exc}[/red]")
            return 2
        except DownloadFailed as exc:
            _results_table(console, exc.completed)
            raise
    _results_table(console, results)
    return 0


def _results_table(console: Console, results: list) -> None:  # type: ignore[type-arg]
    if not results:
        return
    table = Table(title="download")
    for column in ("symbol", "tf", "added", "gaps filled", "gaps left", "first", "last", "rows"):
        table.add_column(column)
    for r in results:
        table.add_row(r.symbol, r.timeframe, str(r.rows_added), str(r.gaps_filled), str(r.gaps_left),
                      _when(r.first), _when(r.last), str(r.rows))
    console.print(table)


def _status(args: argparse.Namespace) -> int:
    with app_container(args.config) as container:
        store = container.candle_cache()
    entries = store.entries()
    console = Console()
    if not entries:
        console.print(f"nothing cached under {store.root} yet: run `sixbtc data download`")
        return 0
    table = Table(title=f"candle cache {store.root}")
    for column in ("symbol", "tf", "first", "last", "rows", "gaps"):
        table.add_column(column)
    for e in entries:
        table.add_row(e.symbol, e.timeframe, _when(e.first), _when(e.last), str(e.rows), str(e.gaps))
    console.print(table)
    return 0


def _universe(args: argparse.Namespace) -> int:
    with app_container(args.config) as container:
        floor = container.settings().trading.data.min_volume_24h
        markets = container.symbol_universe().symbols()
    table = Table(title=f"symbol universe: 24h volume >= {floor:,.0f} USDT on Binance, listed on Hyperliquid")
    for column in ("coin", "binance", "24h volume"):
        table.add_column(column)
    for market in markets:
        table.add_row(market.coin, market.binance_symbol, f"{market.volume_24h:,.0f}")
    Console().print(table)
    return 0


def _check(args: argparse.Namespace) -> int:
    path = Path(args.path)
    console = Console()
    if path.is_dir():
        reports = [(f"{k.exchange}_{k.symbol}_{k.timeframe}", quality_report(frame, k.timeframe))
                   for k, frame in sorted(load_folder(path).items())]
    else:
        if not args.timeframe:
            console.print("[red]--timeframe is required for a single file[/red]")
            return 2
        reports = [(path.name, quality_report(load_candles(path), args.timeframe))]
    table = Table(title=f"quality of {path}")
    for column in ("series", "rows", "first", "last", "ok", "problems"):
        table.add_column(column)
    for name, report in reports:
        table.add_row(name, str(report.rows), _when(report.first), _when(report.last),
                      "yes" if report.ok else "[red]no[/red]", "; ".join(report.problems()) or "-")
    console.print(table)
    return 0 if all(report.ok for _, report in reports) else 1


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _when(moment: object) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if hasattr(moment, "strftime") else "-"
