"""`sixbtc subaccounts` (who trades where, from the read models) and `sixbtc reconcile` (the venue's truth).

`subaccounts` reads only the database: it never opens the exchange. `reconcile` compares each
subaccount's recorded positions and orders with the venue and records every difference (the
venue wins); differences are reported, not failures, so it exits 0 once it has reconciled.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from entrypoints.cli.context import app_container
from entrypoints.cli.execution_context import add_common, banner, execution_container, print_json
from entrypoints.execution import projected
from entrypoints.execution_views import reconciliation_json, subaccount_overview


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listing = sub.add_parser("subaccounts", help="each subaccount: free or active, strategy, capital, positions")
    add_common(listing, live=False)
    listing.set_defaults(handler=_subaccounts)

    reconcile = sub.add_parser("reconcile", help="compare recorded positions and orders with the venue; adopt it")
    reconcile.add_argument("--subaccount", type=int, metavar="N", help="only this one (default: every configured)")
    add_common(reconcile)
    reconcile.set_defaults(handler=_reconcile)


def _subaccounts(args: argparse.Namespace) -> int:
    with app_container(args.config) as container:
        container.projection_runner().catch_up()
        rows = subaccount_overview(container.read_models(), container.settings().trading.subaccounts.count)
    if args.json:
        print_json({"subaccounts": rows})
        return 0
    table = Table(title="subaccounts")
    for column in ("#", "status", "mode", "strategy", "capital", "account value", "positions", "last note"):
        table.add_column(column)
    for r in rows:
        positions = ", ".join(f"{p['symbol']} {p['direction']} {p['size']:g}" for p in r["positions"]) or "-"
        note = r["unassigned_reason"] if r["status"] == "free" else None
        table.add_row(str(r["subaccount"]) + ("" if r["configured"] else " (not configured)"),
                      "[green]active[/green]" if r["status"] == "active" else "free", (r["mode"] or "-").upper()
                      if r["status"] == "active" else "-", escape(r["strategy_id"] or "-"), _money(r["capital"]),
                      _money(r["account_value"]), escape(positions), escape(note or ""))
    Console().print(table)
    return 0


def _reconcile(args: argparse.Namespace) -> int:
    with execution_container(args.config, args.live) as (container, mode):
        banner(mode, to_stderr=args.json)
        reconciler = container.reconciler()
        wanted = args.subaccount
        reports = projected(container.projection_runner().catch_up, lambda: (
            [reconciler.reconcile(wanted)] if wanted is not None else reconciler.reconcile_all()))
    found = [reconciliation_json(r) for r in reports]
    if args.json:
        print_json({"mode": mode, "reconciliations": found})
        return 0
    table = Table(title=f"reconciliation ({mode.upper()})")
    for column in ("#", "result", "differences", "fills imported", "account value"):
        table.add_column(column)
    for r in found:
        result = "[green]clean[/green]" if r["clean"] else "[yellow]adopted the venue[/yellow]"
        table.add_row(str(r["subaccount"]), result, escape(_differences(r["differences"])), str(r["fills_imported"]),
                      _money(r["account_value"]))
    Console().print(table)
    return 0


def _differences(differences: list[dict[str, Any]]) -> str:
    return "; ".join(f"{d['kind']} {d['key']}: {d['difference']}" for d in differences) or "-"


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"
