"""The weekly report: each strategy live in the 7 days ending now against its backtest, how they moved
together, and every rotation and stop with its reason; built, then kept by the report store.

Sources. The week's facts come from the event log, read from just before the week began (found by
bisection, application/log_position.py), so the cost follows the week, not the history:
deployments and retirements (strategy streams), replacements (StrategyAssigned.replaces) and
emergency stops (EmergencyStopTriggered) from the subaccount streams, closed trades and
performance snapshots. Who is LIVE now and each one's results against its backtest come from the
read models (application/live_performance.py, the numbers rotation judges by), caught up first.

Correlation is of daily returns of each strategy's subaccount equity, from its snapshots (taken
every few minutes, marked to market), not of closed trades: a trade's PnL lands on the day it
closes, so a position held three days would read as two flat days and one jump, and days with no
close would count as a return of 0 instead of as unknown. A day without a snapshot has no close, and
a pair with fewer than `min_common_days` returns in common has no correlation (null, not 0).

The week is [now - 7 days, now), named by the ISO week holding most of it (that of its midpoint):
the scheduler's run every 7 days names each report after the week it mostly covers, and a report
built again in the same week replaces that week's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from application.event_codec import decode
from application.live_performance import live_performance
from application.log_position import position_before
from application.ports.clock import Clock
from application.ports.event_store import EventStore
from application.ports.read_models import ReadModelStore
from application.ports.report_store import ReportStore
from application.weekly_report_markdown import render_markdown
from application.weekly_report_model import Correlation, LifecycleChange, StrategyWeek, WeeklyReport
from domain import equity_window as eq
from domain import events as ev
from domain import execution_events as xe
from domain.lifecycle import StrategyStatus

WEEK = timedelta(days=7)
DAYS = 7
LOG_MARGIN = timedelta(days=1)
"""How much earlier than the week the log is read: the stored-at stamps' jitter, and the last
snapshot before the week (the equity it started from)."""
DEFAULT_MIN_COMMON_DAYS = 4
_READ = frozenset({"StrategyDeployed", "StrategyRetired", "StrategyAssigned", "EmergencyStopTriggered",
                   "TradeClosed", "PortfolioSnapshotTaken"})


def iso_week(period_end: datetime) -> str:
    """The ISO week holding most of the 7 days that end at `period_end`: the week of their midpoint."""
    year, week, _ = (period_end - WEEK / 2).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class _Log:
    """What the report needs from the log read since just before the week, by strategy."""

    deployed: dict[str, ev.StrategyDeployed] = field(default_factory=dict)
    retired: dict[str, ev.StrategyRetired] = field(default_factory=dict)
    replaced_by: dict[str, xe.StrategyAssigned] = field(default_factory=dict)
    emergencies: list[xe.EmergencyStopTriggered] = field(default_factory=list)
    trades: dict[str, list[ev.TradeClosed]] = field(default_factory=lambda: defaultdict(list))
    snapshots: dict[str, list[ev.PortfolioSnapshotTaken]] = field(default_factory=lambda: defaultdict(list))

    def add(self, event: ev.DomainEvent) -> None:
        match event:
            case ev.StrategyDeployed():
                self.deployed[event.aggregate_id] = event
            case ev.StrategyRetired():
                self.retired[event.aggregate_id] = event
            case xe.StrategyAssigned(replaces=str() as old):
                self.replaced_by[old] = event
            case xe.EmergencyStopTriggered():
                self.emergencies.append(event)
            case ev.TradeClosed():
                self.trades[event.strategy_id].append(event)
            case ev.PortfolioSnapshotTaken(strategy_id=str() as strategy_id):
                self.snapshots[strategy_id].append(event)


class WeeklyReports:
    def __init__(self, events: EventStore, read_models: ReadModelStore, clock: Clock, store: ReportStore,
                 catch_up: Callable[[], object] | None = None, min_common_days: int = DEFAULT_MIN_COMMON_DAYS,
                 batch_size: int = 5000) -> None:
        if min_common_days < 2:
            raise ValueError("a correlation needs at least 2 common days")
        self._events = events
        self._read_models = read_models
        self._clock = clock
        self._store = store
        self._catch_up = catch_up
        self._min_common_days = min_common_days
        self._batch_size = batch_size

    def publish(self) -> WeeklyReport:
        """Build the report for the week ending now and store it (JSON and Markdown) under its week."""
        report = self.build()
        self._store.save(report.week, report.to_dict(), render_markdown(report))
        return report

    def build(self) -> WeeklyReport:
        end = self._clock.now()
        start = end - WEEK
        if self._catch_up is not None:
            self._catch_up()
        log = self._read_log(start)
        strategies = tuple(self._strategies(log, start, end))
        return WeeklyReport(
            week=iso_week(end), period_start=start, period_end=end, generated_at=end,
            days=tuple(start + timedelta(days=k) for k in range(DAYS)), strategies=strategies,
            correlation=self._correlation(strategies), changes=tuple(_changes(log, strategies, start, end)))

    def _read_log(self, start: datetime) -> _Log:
        log = _Log()
        after = position_before(self._events, start - LOG_MARGIN)
        while batch := self._events.read_all(after_position=after, limit=self._batch_size):
            for recorded in batch:
                if recorded.event_type in _READ:
                    log.add(decode(recorded))
            after = batch[-1].global_position
        return log

    def _strategies(self, log: _Log, start: datetime, end: datetime) -> list[StrategyWeek]:
        rows = self._read_models.rows("strategies", {"status": StrategyStatus.LIVE.value})
        live = {r["strategy_id"]: r for r in rows}
        weeks = []
        for strategy_id in sorted(set(live) | set(log.deployed) | set(log.retired)):
            deployed, retired = log.deployed.get(strategy_id), log.retired.get(strategy_id)
            if (deployed is not None and deployed.occurred_at >= end) or (
                    retired is not None and retired.occurred_at < start):
                continue
            row = live.get(strategy_id) or self._row(strategy_id)
            if deployed is None and strategy_id not in live and row.get("subaccount") is None:
                continue  # retired without ever going live: not a live strategy
            weeks.append(self._week(strategy_id, row, log, deployed, retired, start, end))
        return weeks

    def _row(self, strategy_id: str) -> dict[str, Any]:
        rows = self._read_models.rows("strategies", {"strategy_id": strategy_id})
        return rows[0] if rows else {"strategy_id": strategy_id}

    def _week(self, strategy_id: str, row: dict[str, Any], log: _Log, deployed: ev.StrategyDeployed | None,
              retired: ev.StrategyRetired | None, start: datetime, end: datetime) -> StrategyWeek:
        trades = [t for t in log.trades.get(strategy_id, []) if start <= t.occurred_at < end]
        snapshots = sorted(log.snapshots.get(strategy_id, []), key=lambda s: s.occurred_at)
        before = [s.equity for s in snapshots if s.occurred_at < start]
        inside = [s for s in snapshots if start <= s.occurred_at < end]
        base = before[-1] if before else None
        path = [s.equity for s in inside]
        closes = eq.daily_closes([(s.occurred_at, s.equity) for s in inside], start, DAYS)
        subaccount = deployed.subaccount if deployed is not None else row.get("subaccount")
        return StrategyWeek(
            strategy_id=strategy_id, name=row.get("name"), subaccount=None if subaccount is None else int(subaccount),
            timeframe=row.get("timeframe"),
            status=StrategyStatus.RETIRED.value if retired is not None else str(row.get("status") or "LIVE"),
            deployed_at=None if deployed is None else deployed.occurred_at,
            retired_at=None if retired is None else retired.occurred_at,
            live_from=max(start, deployed.occurred_at) if deployed is not None else start,
            live_until=min(end, retired.occurred_at) if retired is not None else end,
            trades_in_week=len(trades), realized_pnl_in_week=sum(t.pnl for t in trades),
            equity_start=base if base is not None else (path[0] if path else None),
            equity_end=path[-1] if path else None,
            return_in_week=eq.window_return(base, path), max_drawdown_in_week=eq.max_drawdown(base, path),
            daily_returns=tuple(eq.daily_returns(base, closes)),
            performance=live_performance(self._read_models, row))

    def _correlation(self, strategies: tuple[StrategyWeek, ...]) -> Correlation:
        pairs = [[eq.correlation(a.daily_returns, b.daily_returns, self._min_common_days) for b in strategies]
                 for a in strategies]
        return Correlation(strategy_ids=tuple(s.strategy_id for s in strategies),
                           matrix=tuple(tuple(c for c, _ in row) for row in pairs),
                           common_days=tuple(tuple(n for _, n in row) for row in pairs),
                           min_common_days=self._min_common_days)


def _changes(log: _Log, strategies: tuple[StrategyWeek, ...], start: datetime, end: datetime
             ) -> list[LifecycleChange]:
    """Each retirement of a live strategy in the week, as a rotation (another strategy took its
    subaccount in its place), an emergency stop (one with its reason came first), or a stop; and each
    emergency stop that retired nothing."""
    live = {s.strategy_id: s for s in strategies}
    emergencies = [e for e in log.emergencies if start <= e.occurred_at < end]
    changes = []
    for strategy_id, retired in log.retired.items():
        if strategy_id not in live or not start <= retired.occurred_at < end:
            continue
        replaced = log.replaced_by.get(strategy_id)
        emergency = next((e for e in emergencies if e.strategy_id == strategy_id and e.reason == retired.reason
                          and e.occurred_at <= retired.occurred_at), None)
        kind = "rotated" if replaced is not None else "emergency_stop" if emergency is not None else "stopped"
        if emergency is not None:
            emergencies.remove(emergency)
        changes.append(LifecycleChange(retired.occurred_at, kind, strategy_id, live[strategy_id].subaccount,
                                       retired.reason, None if replaced is None else replaced.strategy_id))
    changes.extend(LifecycleChange(e.occurred_at, "emergency_stop", e.strategy_id, int(e.aggregate_id), e.reason,
                                   retired=False) for e in emergencies)
    return sorted(changes, key=lambda c: (c.at, c.strategy_id or ""))
