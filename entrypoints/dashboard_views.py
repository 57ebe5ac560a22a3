"""What the web dashboard shows, as plain JSON-able dicts built from the read models.

Everything here reads; nothing records an event. Equity curves are thinned to a bounded number
of points so that a year of snapshots still draws quickly, keeping the deepest drawdown and the
latest point, which a person looking at the chart would miss most.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from application.ports.event_store import EventStore, RecordedEvent
from application.ports.jobs import Job
from application.ports.read_models import ReadModelStore

TRADE_FIELDS = ("trade_id", "subaccount", "strategy_id", "symbol", "direction", "size", "entry_price",
                "exit_price", "entry_time", "exit_time", "pnl", "fees", "exit_reason")
JobLookup = Callable[[str], Job | None]
"""The job this process runs under that id, or None: a run started elsewhere (the CLI) has no job here."""


def equity_curves(read_models: ReadModelStore, max_points: int) -> list[dict[str, Any]]:
    """One series per subaccount that has snapshots, in subaccount order."""
    by_subaccount: dict[int, list[dict[str, Any]]] = {}
    for row in read_models.rows("performance_snapshots"):
        by_subaccount.setdefault(int(row["subaccount"]), []).append(row)
    curves = []
    for number in sorted(by_subaccount):
        rows = sorted(by_subaccount[number], key=lambda r: (r["taken_at"], r["snapshot_id"]))
        kept = thin(rows, max_points)
        last = rows[-1]
        curves.append({
            "subaccount": number, "strategy_id": last.get("strategy_id"), "snapshots": len(rows),
            "equity": last["equity"], "peak_equity": last["peak_equity"], "drawdown": last["drawdown"],
            "max_drawdown": max(float(r["drawdown"] or 0.0) for r in rows),
            "points": [{k: r[k] for k in ("taken_at", "equity", "peak_equity", "drawdown")} for r in kept],
        })
    return curves


def thin(rows: list[dict[str, Any]], max_points: int) -> list[dict[str, Any]]:
    """At most `max_points` rows, evenly spaced, always with the first, the last and the deepest drawdown."""
    if len(rows) <= max_points:
        return rows
    step = (len(rows) - 1) / (max_points - 2)
    keep = {round(i * step) for i in range(max_points - 1)} | {len(rows) - 1}
    keep.add(max(range(len(rows)), key=lambda i: float(rows[i]["drawdown"] or 0.0)))
    return [rows[i] for i in sorted(keep)]


def recent_trades(read_models: ReadModelStore, limit: int) -> list[dict[str, Any]]:
    """The latest closed trades, newest first."""
    rows = sorted(read_models.rows("live_trades"), key=lambda r: (r["exit_time"], r["trade_id"]), reverse=True)
    return [{k: row.get(k) for k in TRADE_FIELDS} for row in rows[:limit]]


def strategy_counts(read_models: ReadModelStore) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in read_models.rows("strategies"):
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts


def pipeline_runs(read_models: ReadModelStore, events: EventStore, job_of: JobLookup,
                  limit: int) -> list[dict[str, Any]]:
    """The latest runs, newest first, with how far each has got.

    A run this server is executing reports its job's live progress. Any other unfinished run
    (started by `sixbtc pipeline`, or cut short) is measured from its recorded events, on the
    pipeline's own scale: generation is the first half, evaluating the candidates the second.
    """
    rows = sorted(read_models.rows("pipeline_runs"), key=lambda r: (r["started_at"], r["run_id"]), reverse=True)
    return [_run(row, events, job_of(row["run_id"])) for row in rows[:limit]]


def _run(row: dict[str, Any], events: EventStore, job: Job | None) -> dict[str, Any]:
    candidates = int(row.get("candidates") or 0)
    base = {"run_id": row["run_id"], "candidates": candidates, "passed": row.get("passed"),
            "selected": list(row.get("selected") or []), "started_at": row["started_at"],
            "updated_at": row["updated_at"], "completed_at": row.get("completed_at"), "error": None}
    if row["status"] == "completed":
        return {**base, "status": "completed", "progress": 1.0, "evaluated": int(row.get("evaluated") or 0),
                "stage": "completed"}
    evaluated = _evaluated(events.read_stream(f"pipeline-{row['run_id']}"))
    if job is not None:
        status = {"queued": "running", "running": "running", "done": "completed", "failed": "failed"}[job.status]
        return {**base, "status": status, "progress": job.progress, "evaluated": evaluated, "stage": job.stage,
                "error": job.error}
    progress = 0.0 if not candidates else 0.5 + 0.5 * min(evaluated, candidates) / candidates
    stage = "generating candidates" if not candidates else f"evaluated {evaluated} of {candidates}"
    return {**base, "status": "running", "progress": progress, "evaluated": evaluated,
            "stage": f"{stage}, as recorded (run elsewhere, or interrupted)"}


def _evaluated(recorded: Iterable[RecordedEvent]) -> int:
    return sum(1 for e in recorded if e.event_type == "CandidateEvaluated")
