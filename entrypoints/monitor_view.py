"""What `sixbtc monitor` shows, as one plain dict per refresh, from the read models and the runner.

The scheduler and the candle feed live in the `sixbtc run` process, so their state (ready or
not, how old the newest candle is) comes from its health port; a runner that does not answer is
shown as such, never guessed. Everything else comes from the read models, like the API's views.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from application.live_performance import live_performance
from application.ports.read_models import ReadModelStore
from entrypoints.dashboard_views import recent_trades, strategy_counts
from entrypoints.execution_views import subaccount_overview
from entrypoints.logging_setup import scrub

RUNNER_TIMEOUT_S = 1.0
CANDLE_AGE_SERIES = "sixbtc_last_candle_age_seconds"


def monitor_view(read_models: ReadModelStore, *, mode: str, subaccounts: int, runner_url: str,
                 now: datetime, trades: int = 10) -> dict[str, Any]:
    live = read_models.rows("strategies", {"status": "LIVE"})
    overview = subaccount_overview(read_models, subaccounts)
    snapshots = latest_snapshots(read_models)
    return {
        "now": now.isoformat(),
        "mode": mode,
        "strategy_counts": strategy_counts(read_models),
        "runner": runner_state(runner_url),
        "strategies": [_strategy(read_models, row, overview) for row in sorted(live, key=lambda r: r["strategy_id"])],
        "subaccounts": [_subaccount(s, snapshots) for s in overview],
        "positions": [{"subaccount": s["subaccount"], **p} for s in overview for p in s["positions"]],
        "recent_trades": recent_trades(read_models, trades),
    }


def runner_state(base_url: str) -> dict[str, Any]:
    """The runner's /ready checks and its candle ages, or why they could not be read."""
    try:
        with httpx.Client(base_url=base_url, timeout=RUNNER_TIMEOUT_S) as client:
            ready = client.get("/ready")
            metrics = client.get("/metrics")
    except httpx.HTTPError as exc:
        return {"reachable": False, "ready": False, "detail": scrub(f"no runner at {base_url}: {exc}"),
                "checks": [], "candle_ages": []}
    body = ready.json() if ready.headers.get("content-type", "").startswith(("application/json",
                                                                              "application/problem+json")) else {}
    return {"reachable": True, "ready": ready.status_code == 200, "detail": body.get("detail", ""),
            "checks": body.get("checks", []), "candle_ages": _candle_ages(metrics.text)}


def runner_jobs(base_url: str) -> dict[str, Any]:
    """The runner's scheduled jobs (next run, runs, errors) from its health port, or why not."""
    try:
        with httpx.Client(base_url=base_url, timeout=RUNNER_TIMEOUT_S) as client:
            answer = client.get("/jobs")
            answer.raise_for_status()
            body = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        return {"reachable": False, "scheduler": None, "jobs": [],
                "detail": scrub(f"no runner at {base_url}: {exc}")}
    return {"reachable": True, "scheduler": body.get("scheduler"), "jobs": body.get("jobs", []), "detail": ""}


def _candle_ages(exposition: str) -> list[dict[str, Any]]:
    ages = []
    for family in text_string_to_metric_families(exposition):
        if family.name == CANDLE_AGE_SERIES:
            ages += [{**sample.labels, "age_seconds": sample.value} for sample in family.samples]
    return sorted(ages, key=lambda a: (a.get("symbol", ""), a.get("timeframe", "")))


def _strategy(read_models: ReadModelStore, row: dict[str, Any], overview: list[dict[str, Any]]) -> dict[str, Any]:
    on = [s["subaccount"] for s in overview if s["strategy_id"] == row["strategy_id"]]
    return {"name": row.get("name"), "type": row.get("strategy_type"), "timeframe": row.get("timeframe"),
            "subaccount": on[0] if on else None, **asdict(live_performance(read_models, row))}


def latest_snapshots(read_models: ReadModelStore) -> dict[int, dict[str, Any]]:
    """The newest performance snapshot of each subaccount."""
    latest: dict[int, dict[str, Any]] = {}
    for snap in read_models.rows("performance_snapshots"):
        number = int(snap["subaccount"])
        if number not in latest or snap["taken_at"] > latest[number]["taken_at"]:
            latest[number] = snap
    return latest


def _subaccount(row: dict[str, Any], snapshots: dict[int, dict[str, Any]]) -> dict[str, Any]:
    snap = snapshots.get(row["subaccount"], {})
    return {"subaccount": row["subaccount"], "status": row["status"], "strategy_id": row["strategy_id"],
            "equity": snap.get("equity"), "drawdown": snap.get("drawdown"), "daily_pnl": snap.get("daily_pnl"),
            "open_positions": len(row["positions"]), "snapshot_at": snap.get("taken_at")}
