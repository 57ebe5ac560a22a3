"""Execution results as plain JSON-able dicts, shared by `sixbtc ... --json` and the API.

Nothing here carries an address or a key: the subaccounts are named by number only, and the
read models they come from never hold an address.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from application.deploy_strategies import DeploymentReport, DeploymentStep
from application.emergency_stops import EmergencyOutcome
from application.ports.read_models import ReadModelStore
from application.reconcile_subaccount import ReconciliationReport
from application.stop_strategy import StopReport
from entrypoints.logging_setup import scrub

SUBACCOUNT_FIELDS = ("strategy_id", "mode", "capital", "account_value", "assigned_at", "previous_strategy_id",
                     "unassigned_reason", "last_reconciled_at", "last_differences")
ASSIGNMENT_FIELDS = ("strategy_id", "mode", "capital", "assigned_at")
"""Facts of the current assignment: blank on a free subaccount (the row keeps the last one's)."""
POSITION_FIELDS = ("symbol", "direction", "size", "entry_price", "strategy_id", "updated_at")


def deployment_json(report: DeploymentReport) -> dict[str, Any]:
    return {**asdict(report), "steps": [step_json(s) for s in report.steps]}


def step_json(step: DeploymentStep) -> dict[str, Any]:
    return asdict(step)


def stop_json(report: StopReport) -> dict[str, Any]:
    return {**asdict(report), "cancelled_orders": list(report.cancelled_orders),
            "closed_symbols": list(report.closed_symbols)}


def emergency_json(mode: str, reason: str, done: Sequence[EmergencyOutcome],
                   failures: Sequence[tuple[int, Exception]] = ()) -> dict[str, Any]:
    """What an emergency stop did: each subaccount flattened, and each one that could not be (with why)."""
    return {"mode": mode, "reason": reason, "complete": not failures,
            "stopped": [{**asdict(o), "closed_symbols": list(o.closed_symbols)} for o in done],
            "failed": [{"subaccount": n, "error": type(e).__name__, "detail": scrub(str(e))} for n, e in failures]}


def reconciliation_json(report: ReconciliationReport) -> dict[str, Any]:
    return {"subaccount": report.subaccount, "clean": report.clean, "fills_imported": report.fills_imported,
            "account_value": report.account_value, "differences": [asdict(d) for d in report.differences]}


def subaccount_overview(read_models: ReadModelStore, count: int) -> list[dict[str, Any]]:
    """Every configured subaccount (1..count) and any other one a strategy was ever assigned to.

    A subaccount never used has no row in the read model: it is listed as free. Positions are
    the open ones (size > 0) from subaccount_positions.
    """
    rows = {int(r["subaccount"]): r for r in read_models.rows("subaccounts")}
    positions: dict[int, list[dict[str, Any]]] = {}
    for p in read_models.rows("subaccount_positions"):
        if (p.get("size") or 0) > 0:
            positions.setdefault(int(p["subaccount"]), []).append({k: p.get(k) for k in POSITION_FIELDS})
    overview = []
    for number in sorted(set(range(1, count + 1)) | set(rows)):
        row = rows.get(number, {})
        active = row.get("status") == "active"
        fields = {k: None if k in ASSIGNMENT_FIELDS and not active else row.get(k) for k in SUBACCOUNT_FIELDS}
        overview.append({"subaccount": number, "status": "active" if active else "free",
                         "configured": number <= count, **fields,
                         "positions": sorted(positions.get(number, []), key=lambda p: p["symbol"])})
    return overview
