"""Counts and latest values for monitoring, folded in memory from the log as it grows.

Scrapes come every few seconds, and the facts they count (orders, refusals, failed decisions,
pipeline evaluations) and the latest portfolio snapshot per subaccount only ever grow in the
log; keeping a position and reading only what came after it makes each scrape one short read,
where counting read-model tables or replaying streams would grow with history. The totals are
counted from the first event, so they survive restarts, as Prometheus counters should.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from application.event_codec import decode
from application.ports.event_store import EventStore
from domain import events as ev
from domain import execution_events as xe
from domain import research_events as rev

SubaccountKey = tuple[str, int]
"""(strategy_id, subaccount)."""


@dataclass(frozen=True)
class Snapshot:
    subaccount: int
    strategy_id: str | None
    taken_at: datetime
    equity: float
    realized_pnl: float
    unrealized_pnl: float
    daily_pnl: float
    drawdown: float
    open_positions: int


@dataclass(frozen=True)
class RunProgress:
    run_id: str
    started_at: datetime
    evaluated: int = 0
    last_evaluated_at: datetime | None = None
    completed_at: datetime | None = None

    def per_minute(self) -> float | None:
        """Candidates evaluated per minute from the start to the last evaluation (or the end)."""
        until = self.completed_at or self.last_evaluated_at
        if until is None or self.evaluated == 0:
            return None
        minutes = (until - self.started_at).total_seconds() / 60
        return self.evaluated / minutes if minutes > 0 else None


@dataclass(frozen=True)
class LiveStatsView:
    position: int
    orders_sent: dict[tuple[str, int, str], int] = field(default_factory=dict)
    """(strategy_id, subaccount, kind) -> orders: market, stop_loss or take_profit."""
    orders_refused: dict[tuple[str, int, str], int] = field(default_factory=dict)
    """(strategy_id, subaccount, source) -> refusals: by the venue, or by the risk policy."""
    decision_errors: dict[SubaccountKey, int] = field(default_factory=dict)
    snapshots: dict[int, Snapshot] = field(default_factory=dict)
    evaluated: dict[str, int] = field(default_factory=dict)
    """passed or failed -> candidates evaluated by pipeline runs."""
    runs: dict[str, int] = field(default_factory=dict)
    """started or completed -> pipeline runs."""
    latest_run: RunProgress | None = None


class LiveStats:
    """Thread-safe: the API serves scrapes from a thread pool."""

    def __init__(self, store: EventStore, batch_size: int = 5000) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._store = store
        self._batch_size = batch_size
        self._lock = threading.Lock()
        self._position = 0
        self._sent: Counter[tuple[str, int, str]] = Counter()
        self._refused: Counter[tuple[str, int, str]] = Counter()
        self._errors: Counter[SubaccountKey] = Counter()
        self._snapshots: dict[int, Snapshot] = {}
        self._evaluated: Counter[str] = Counter()
        self._runs: Counter[str] = Counter()
        self._progress: dict[str, RunProgress] = {}
        self._latest_run: str | None = None

    def catch_up(self) -> LiveStatsView:
        """Fold what the log gained since the last call; returns copies the caller may keep."""
        with self._lock:
            while True:
                batch = self._store.read_all(after_position=self._position, limit=self._batch_size)
                if not batch:
                    break
                for recorded in batch:
                    if recorded.event_type in _FOLDED:
                        self._fold(decode(recorded))
                self._position = batch[-1].global_position
            latest = self._progress.get(self._latest_run) if self._latest_run else None
            return LiveStatsView(self._position, dict(self._sent), dict(self._refused), dict(self._errors),
                                 dict(self._snapshots), dict(self._evaluated), dict(self._runs), latest)

    def _fold(self, event: Any) -> None:
        match event:
            case ev.OrderPlaced():
                self._sent[(event.strategy_id, int(event.aggregate_id), "market")] += 1
            case xe.ProtectiveOrderPlaced():
                self._sent[(event.strategy_id, int(event.aggregate_id), event.kind)] += 1
            case xe.OrderRejected():
                self._refused[(event.strategy_id, int(event.aggregate_id), "venue")] += 1
            case xe.SignalRefused():
                self._refused[(event.strategy_id, int(event.aggregate_id), "risk")] += 1
            case xe.DecisionFailed():
                self._errors[(event.strategy_id, int(event.aggregate_id))] += 1
            case ev.PortfolioSnapshotTaken():
                number = int(event.aggregate_id)
                self._snapshots[number] = Snapshot(
                    number, event.strategy_id, event.occurred_at, event.equity, event.realized_pnl,
                    event.unrealized_pnl, event.daily_pnl, event.drawdown, event.open_positions)
            case rev.PipelineEvent():
                self._fold_pipeline(event)

    def _fold_pipeline(self, event: rev.PipelineEvent) -> None:
        run_id = event.aggregate_id
        self._latest_run = run_id
        if isinstance(event, rev.PipelineRunStarted):
            self._runs["started"] += 1
            self._progress[run_id] = RunProgress(run_id, event.occurred_at)
            return
        progress = self._progress.get(run_id) or RunProgress(run_id, event.occurred_at)
        if isinstance(event, rev.CandidateEvaluated):
            self._evaluated["passed" if event.result.get("passed_gates") else "failed"] += 1
            progress = replace(progress, evaluated=progress.evaluated + 1, last_evaluated_at=event.occurred_at)
        elif isinstance(event, rev.PipelineRunCompleted):
            self._runs["completed"] += 1
            progress = replace(progress, completed_at=event.occurred_at)
        self._progress[run_id] = progress


_FOLDED = frozenset({
    "OrderPlaced", "ProtectiveOrderPlaced", "OrderRejected", "SignalRefused", "DecisionFailed",
    "PortfolioSnapshotTaken", "PipelineRunStarted", "CandidateEvaluated", "PipelineRunCompleted",
})
