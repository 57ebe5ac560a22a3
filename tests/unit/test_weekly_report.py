"""The weekly report on in-memory stores: a week of two live strategies on the paper desk with a real
rotation and a real stop, the week's edges, emergency stops, and an empty week."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from dependency_injector import providers

from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.read_models import InMemoryReadModels
from adapters.memory.report_store import InMemoryReportStore
from application.deploy_strategies import DeploymentRequest
from application.emergency_stops import EmergencyStops
from application.event_codec import encode
from application.log_position import position_before
from application.ports.event_store import RecordedEvent
from application.projections.read_models import ALL_PROJECTIONS
from application.projections.runner import ProjectionRunner
from application.rotate_strategies import StrategyRotation
from application.stop_strategy import StrategyStopper
from application.strategy_repository import StrategyRepository
from application.weekly_report import WeeklyReports, iso_week
from application.weekly_report_markdown import render_markdown
from domain import events as ev
from domain.lifecycle import Strategy
from domain.risk import RiskPolicy
from domain.trading import Fill
from entrypoints.container import build_container
from entrypoints.scheduled_jobs import WEEKLY_REPORT_EVERY, cycle_jobs
from entrypoints.settings import Settings
from tests.execution_support import T0, PaperDesk

START = T0 + timedelta(days=1)
END = START + timedelta(days=7)
E1 = [1000.0, 1010.0, 1005.0, 1020.0, 1030.0, 1025.0, 1040.0, 1050.0]
"""strat-1's equity at noon of the day before the week (the base), then of each day of the week."""
E2 = [1000.0, 990.0, 1000.0, 985.0, 995.0]
E3 = [100.0, 104.0, 102.0]


def reports(desk: PaperDesk, store: InMemoryReportStore | None = None) -> WeeklyReports:
    return WeeklyReports(desk.store, desk.read_models, desk.clock, store or InMemoryReportStore(),
                         desk.projections.catch_up)


def noon(day: int) -> datetime:
    return START + timedelta(days=day, hours=12)


def observe(desk: PaperDesk, subaccount: int, equity: float, at: datetime) -> None:
    book = desk.ledger.load(subaccount)
    book.observe(equity, 0, at)
    desk.ledger.save(book)


def trades(desk: PaperDesk, subaccount: int, strategy_id: str, count: int, exit_price: float, at: datetime) -> None:
    """Closed round trips of 10 units from 100, one a minute from `at`."""
    book = desk.ledger.load(subaccount)
    for i in range(count):
        tag, when = f"{strategy_id}-{at.isoformat()}-{i}", at + timedelta(minutes=i)
        book.record_fill(Fill(order_id=f"in-{tag}", symbol="XRP", side="buy", size=10.0, price=100.0, fee=0.0,
                              time=when), strategy_id, f"f-in-{tag}")
        book.record_fill(Fill(order_id=f"out-{tag}", symbol="XRP", side="sell", size=10.0, price=exit_price, fee=0.0,
                              time=when + timedelta(seconds=30)), strategy_id, f"f-out-{tag}")
    desk.ledger.save(book)


def to(desk: PaperDesk, at: datetime) -> None:
    desk.clock.advance(at - desk.clock.now())


@pytest.fixture
def week() -> tuple[PaperDesk, list[str]]:
    """strat-1 and strat-2 live from before the week; strat-2 degrades and is rotated out for strat-3 on
    day 4; strat-1 is stopped by hand on day 6."""
    desk = PaperDesk()
    ids = desk.selected(3)
    desk.manager.deploy(DeploymentRequest(plan="test", strategy_ids=(ids[0], ids[1])))
    trades(desk, 1, ids[0], 1, 101.0, T0 + timedelta(hours=2))  # before the week: counts since deployment only
    for day in range(-1, 7):
        if day == 4:
            to(desk, START + timedelta(days=4, hours=1))
            StrategyRotation(desk.manager, desk.read_models, RiskPolicy(), desk.projections.catch_up).run()
        observe(desk, 1, E1[day + 1], noon(day))
        if day < 4:
            observe(desk, 2, E2[day + 1], noon(day))
        else:
            observe(desk, 2, E3[day - 4], noon(day))
        if day == 1:
            trades(desk, 1, ids[0], 3, 101.0, noon(day) + timedelta(hours=1))
        if day == 2:
            trades(desk, 2, ids[1], 20, 99.0, noon(day) + timedelta(hours=1))
    to(desk, START + timedelta(days=6, hours=18))
    desk.manager.stop(ids[0], "manual: weekly review")
    to(desk, END)
    return desk, ids


def test_a_week_of_live_strategies_against_their_backtests(week: tuple[PaperDesk, list[str]]) -> None:
    desk, (s1, s2, s3) = week
    report = reports(desk).build()
    assert (report.week, report.period_start, report.period_end) == ("2024-W10", START, END)
    assert [s.strategy_id for s in report.strategies] == [s1, s2, s3]
    one, two, three = report.strategies
    assert (one.subaccount, one.status, one.deployed_at, one.live_from) == (1, "RETIRED", T0, START)
    assert one.retired_at == one.live_until == START + timedelta(days=6, hours=18)
    assert (one.trades_in_week, one.realized_pnl_in_week, one.performance.live_trades) == (3, 30.0, 4)
    assert one.performance.live_expectancy == pytest.approx(0.01)
    assert one.performance.backtest_expectancy == 0.01
    assert (one.equity_start, one.equity_end) == (1000.0, 1050.0)
    assert one.return_in_week == pytest.approx(0.05)
    assert one.max_drawdown_in_week == pytest.approx(5 / 1010)
    assert one.daily_returns == pytest.approx([E1[k + 1] / E1[k] - 1 for k in range(7)])

    rotated_at = START + timedelta(days=4, hours=1)
    assert (two.trades_in_week, two.realized_pnl_in_week, two.retired_at, two.status) == (20, -200.0, rotated_at,
                                                                                          "RETIRED")
    assert two.performance.live_expectancy == pytest.approx(-0.01)
    assert two.daily_returns[4:] == (None, None, None)
    assert (three.subaccount, three.status, three.deployed_at, three.live_from) == (2, "LIVE", rotated_at, rotated_at)
    assert (three.equity_start, three.equity_end, three.trades_in_week) == (100.0, 102.0, 0)
    assert three.daily_returns[:5] == (None,) * 5, "no close before it went live"

    kinds = [(c.kind, c.strategy_id, c.subaccount, c.replacement, c.retired) for c in report.changes]
    assert kinds == [("rotated", s2, 2, s3, True), ("stopped", s1, 1, None, True)]
    assert "degraded" in report.changes[0].reason and report.changes[1].reason == "manual: weekly review"
    assert report.totals() | {"realized_pnl_in_week": 0} == {
        "live_strategies": 3, "trades_in_week": 23, "realized_pnl_in_week": 0, "rotations": 1, "stops": 1,
        "emergency_stops": 0}


def test_correlation_needs_enough_common_days_and_is_null_otherwise(week: tuple[PaperDesk, list[str]]) -> None:
    report = reports(week[0]).build()
    c = report.correlation
    r1 = [E1[k + 1] / E1[k] - 1 for k in range(4)]
    r2 = [E2[k + 1] / E2[k] - 1 for k in range(4)]
    assert c.min_common_days == 4
    assert c.matrix[0][1] == c.matrix[1][0] == pytest.approx(np.corrcoef(r1, r2)[0, 1])
    assert c.matrix[0][0] == pytest.approx(1.0)
    assert [row[2] for row in c.matrix] == [None, None, None], "strat-3 has two daily returns: too few"
    assert [list(row) for row in c.common_days] == [[7, 4, 2], [4, 4, 0], [2, 0, 2]]
    plain = report.to_dict()
    assert plain["correlation"]["matrix"][0][2] is None and json.loads(json.dumps(plain, allow_nan=False)) == plain


def test_publish_stores_the_json_and_the_markdown_under_the_week(week: tuple[PaperDesk, list[str]]) -> None:
    desk, (_, s2, s3) = week
    store = InMemoryReportStore()
    report = reports(desk, store).publish()
    assert store.weeks() == ["2024-W10"]
    stored = store.load("2024-W10")
    assert stored == report.to_dict() and stored["days"][0] == START.isoformat()
    assert stored["strategies"][0]["live"]["backtest_expectancy"] == 0.01
    markdown = store.markdown("2024-W10")
    assert markdown == render_markdown(report) and markdown.startswith("# SixBTC weekly report 2024-W10")
    assert f"rotated | `{s2}`".replace("`", "") in markdown.replace("`", "") and s3 in markdown
    assert "manual: weekly review" in markdown


def test_the_week_is_from_seven_days_ago_included_to_now_excluded() -> None:
    store, read_models = InMemoryEventStore(), InMemoryReadModels()
    repository = StrategyRepository(store)
    for name, deployed, retired in (("a", START - timedelta(days=3), None), ("b", START - timedelta(days=3),
                                    START - timedelta(seconds=1)), ("c", END, None), ("d", T0, START)):
        strategy = Strategy.generate(name, name.upper(), "MOM", "1h", "code", "test", at=T0 - timedelta(days=9))
        strategy.record_backtest(backtest_id=f"bt-{name}", symbol="BTC", timeframe="1h", period_start=T0 - timedelta(
            days=40), period_end=T0 - timedelta(days=10), total_trades=40, win_rate=0.5, sharpe=1.0, total_return=0.1,
            max_drawdown=0.1, expectancy=0.005, at=T0 - timedelta(days=9))
        strategy.mark_tested(f"bt-{name}", at=T0 - timedelta(days=9))
        strategy.select(1.0, 1, at=T0 - timedelta(days=9))
        strategy.deploy(ord(name) - ord("a") + 1, "paper", at=deployed)
        if retired is not None:
            strategy.retire("manual", at=retired)
        repository.save(strategy)
    for n, at in enumerate((START - timedelta(seconds=1), START, END - timedelta(seconds=1), END)):
        append(store, ev.TradeClosed(aggregate_id="1", occurred_at=at, trade_id=f"t{n}", strategy_id="a",
                                     symbol="BTC", direction="long", size=1.0, entry_price=100.0, exit_price=101.0,
                                     entry_time=at - timedelta(hours=1), exit_time=at, pnl=float(10 ** n), fees=0.0,
                                     exit_reason="signal"))
    for equity, at in ((500.0, START - timedelta(hours=1)), (550.0, START), (9.0, END)):
        append(store, snapshot("a", 1, equity, at))
    ProjectionRunner(store, read_models, ALL_PROJECTIONS).catch_up()
    report = WeeklyReports(store, read_models, ManualClock(END), InMemoryReportStore()).build()
    assert [s.strategy_id for s in report.strategies] == ["a", "d"]
    a, d = report.strategies
    assert (a.trades_in_week, a.realized_pnl_in_week) == (2, 10.0 + 100.0)
    assert (a.equity_start, a.equity_end) == (500.0, 550.0) and a.return_in_week == pytest.approx(0.1)
    assert a.daily_returns[0] == pytest.approx(0.1) and a.daily_returns[1:] == (None,) * 6
    assert a.performance.live_trades == 4 and a.status == "LIVE"
    assert (d.live_from, d.live_until, d.status) == (START, START, "RETIRED")
    assert [(c.kind, c.strategy_id, c.at) for c in report.changes] == [("stopped", "d", START)]


def test_emergency_stops_with_and_without_a_strategy_to_retire() -> None:
    desk = PaperDesk()
    [only] = desk.selected(1)
    desk.manager.deploy(DeploymentRequest(plan="test"))
    stopper = StrategyStopper(desk.strategies, desk.ledger, desk.exchange, desk.clock, 0.01)
    stops = EmergencyStops(desk.ledger, desk.exchange, stopper, desk.clock, RiskPolicy(), 0.01)
    to(desk, T0 + timedelta(hours=3))
    stops.stop(1, "emergency stop: drawdown 35% over the 30% limit")
    to(desk, T0 + timedelta(hours=4))
    stops.stop(3, "manual kill switch")
    to(desk, T0 + timedelta(days=2))
    report = reports(desk).build()
    assert [(c.kind, c.strategy_id, c.subaccount, c.retired, c.reason) for c in report.changes] == [
        ("emergency_stop", only, 1, True, "emergency stop: drawdown 35% over the 30% limit"),
        ("emergency_stop", None, 3, False, "manual kill switch")]
    assert report.totals()["emergency_stops"] == 2 and report.totals()["stops"] == 0
    assert "nothing retired" in render_markdown(report)


def test_an_empty_week_is_a_valid_empty_report() -> None:
    store = InMemoryReportStore()
    report = WeeklyReports(InMemoryEventStore(), InMemoryReadModels(), ManualClock(END), store).publish()
    plain = store.load(report.week)
    assert (plain["strategies"], plain["changes"], plain["correlation"]["matrix"]) == ([], [], [])
    assert plain["totals"]["live_strategies"] == 0 and len(plain["days"]) == 7
    assert json.loads(json.dumps(plain, allow_nan=False)) == plain
    assert "No strategy was live this week." in store.markdown(report.week)


def test_not_a_number_becomes_null(week: tuple[PaperDesk, list[str]]) -> None:
    report = reports(week[0]).build()
    first = report.strategies[0]
    broken = replace(report, strategies=(replace(first, return_in_week=math.nan, performance=replace(
        first.performance, live_expectancy=math.inf)), *report.strategies[1:]))
    plain = broken.to_dict()["strategies"][0]
    assert plain["return_in_week"] is None and plain["live"]["live_expectancy"] is None
    assert "+nan" not in render_markdown(broken)


@pytest.mark.parametrize(("end", "week"), [
    (datetime(2026, 11, 30, tzinfo=UTC), "2026-W48"),               # Monday 00:00: the week just ended
    (datetime(2026, 12, 2, 5, 51, tzinfo=UTC), "2026-W48"),         # Wednesday: most of it was last week
    (datetime(2026, 12, 3, 12, 0, 1, tzinfo=UTC), "2026-W49"),      # past Thursday noon: mostly this week
    (datetime(2021, 1, 3, 23, tzinfo=UTC), "2020-W53"),             # across a year with 53 ISO weeks
])
def test_a_report_is_named_after_the_iso_week_holding_most_of_it(end: datetime, week: str) -> None:
    assert iso_week(end) == week


def test_the_runner_writes_a_report_every_seven_days(week: tuple[PaperDesk, list[str]]) -> None:
    desk, _ = week
    container = build_container(Settings.model_validate({}))
    store = InMemoryReportStore()
    for name, value in (("event_store", desk.store), ("read_models", desk.read_models), ("clock", desk.clock),
                        ("report_store", store), ("projection_runner", desk.projections)):
        getattr(container, name).override(providers.Object(value))
    job = {j.job_id: j for j in cycle_jobs(container)}["weekly-report"]
    assert job.every == WEEKLY_REPORT_EVERY == timedelta(days=7) and job.first_run_at == END + timedelta(days=7)
    job.action()
    assert store.weeks() == ["2024-W10"] and len(store.load("2024-W10")["strategies"]) == 3


class StampedLog:
    """Just enough of an event store to place events at chosen positions (with gaps) and stored-at times."""

    def __init__(self, stamps: dict[int, datetime]) -> None:
        self.events = [RecordedEvent(p, "s", i + 1, str(p), "X", {}, {}, at)
                       for i, (p, at) in enumerate(sorted(stamps.items()))]
        self.reads = 0

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        self.reads += 1
        return [e for e in self.events if e.global_position > after_position][:limit]

    def head_position(self) -> int:
        return self.events[-1].global_position if self.events else 0


def test_the_log_is_read_from_just_before_a_time_in_a_few_reads() -> None:
    positions = [p for p in range(1, 3000) if p % 7]  # gaps, as a sequence leaves them
    log = StampedLog({p: T0 + timedelta(minutes=p) for p in positions})
    assert position_before(log, T0 + timedelta(minutes=1400)) == 1399  # type: ignore[arg-type]
    assert log.reads <= 14, "bisection, not a scan"
    assert position_before(log, T0 + timedelta(minutes=1401)) == 1399  # type: ignore[arg-type]  # 1400 is a gap
    assert position_before(log, T0) == 0  # type: ignore[arg-type]
    assert position_before(log, T0 + timedelta(days=9)) == positions[-1]  # type: ignore[arg-type]
    assert position_before(StampedLog({}), T0) == 0  # type: ignore[arg-type]


def append(store: InMemoryEventStore, event: ev.DomainEvent) -> None:
    store.append(event.stream_id, [encode(event)], None)


def snapshot(strategy_id: str, subaccount: int, equity: float, at: datetime) -> ev.PortfolioSnapshotTaken:
    return ev.PortfolioSnapshotTaken(aggregate_id=str(subaccount), occurred_at=at, strategy_id=strategy_id,
                                     equity=equity, cash=equity, realized_pnl=0.0, unrealized_pnl=0.0,
                                     peak_equity=equity, drawdown=0.0, daily_pnl=0.0, open_positions=0)
