"""`sixbtc report weekly [--json]`: build the weekly report of the 7 days ending now, write it, show it.

The report is written as JSON and Markdown under <system.var_dir>/reports/weekly/ (named by ISO
week, a rebuild in the same week replaces that week's) and served by GET /reports/weekly; stdout
gets the Markdown, or the JSON with --json, and stderr where the files went.
"""

from __future__ import annotations

import argparse
import sys

from application.ports.report_store import ReportStoreError
from application.weekly_report_markdown import render_markdown
from entrypoints.cli.context import app_container
from entrypoints.cli.errors import FAILED
from entrypoints.cli.execution_context import print_json
from entrypoints.container import weekly_report_folder
from entrypoints.logging_setup import scrub


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser("report", help="reports: `report weekly` builds and writes the weekly report now")
    kinds = report.add_subparsers(dest="report", required=True, metavar="REPORT")
    weekly = kinds.add_parser("weekly", help="each live strategy against its backtest, their correlation, every "
                                             "rotation and stop with its reason; written under "
                                             "<system.var_dir>/reports/weekly/")
    weekly.add_argument("--json", action="store_true", help="print the report as one JSON object")
    weekly.add_argument("--config", help="config file")
    weekly.set_defaults(handler=_weekly)


def _weekly(args: argparse.Namespace) -> int:
    with app_container(args.config) as container:
        folder = weekly_report_folder(container.settings())
        try:
            report = container.weekly_reports().publish()
        except ReportStoreError as exc:
            print(f"error: {scrub(str(exc))}", file=sys.stderr)
            return FAILED
    if args.json:
        print_json(report.to_dict())
    else:
        print(render_markdown(report), end="")
    print(f"written: {folder}/{report.week}.json and {report.week}.md", file=sys.stderr)
    return 0
