"""What the dashboard's JSON holds, from events projected into in-memory read models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.read_models import InMemoryReadModels
from application.event_codec import encode
from application.ports.jobs import Job
from application.projections.read_models import ALL_PROJECTIONS
from application.projections.runner import ProjectionRunner
from domain.events import DomainEvent, PortfolioSnapshotTaken, TradeClosed
from domain.research_events import CandidateEvaluated, PipelineCandidatesChosen, PipelineRunStarted
from entrypoints.dashboard_views import equity_curves, pipeline_runs, recent_trades, thin

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def project(*events: DomainEvent) -> tuple[InMemoryEventStore, InMemoryReadModels]:
    store, read_models = InMemoryEventStore(), InMemoryReadModels()
    for event in events:
        store.append(event.stream_id, [encode(event)], None)
    ProjectionRunner(store, read_models, ALL_PROJECTIONS).catch_up()
    return store, read_models


def snapshot(subaccount: int, hour: int, equity: float, peak: float) -> PortfolioSnapshotTaken:
    return PortfolioSnapshotTaken(aggregate_id=str(subaccount), occurred_at=T0 + timedelta(hours=hour),
                                  strategy_id=f"s{subaccount}", equity=equity, cash=equity, realized_pnl=0.0,
                                  unrealized_pnl=0.0, peak_equity=peak, drawdown=(peak - equity) / peak,
                                  daily_pnl=0.0, open_positions=0)


def test_equity_curves_are_per_subaccount_in_time_order_and_thinned_keeping_the_deepest_drawdown() -> None:
    equities = [100.0 + (h % 7) for h in range(500)]
    equities[333] = 50.0
    events = [snapshot(2, h, e, 106.0) for h, e in reversed(list(enumerate(equities)))]
    _, read_models = project(*events, snapshot(1, 0, 100.0, 100.0))
    curves = equity_curves(read_models, max_points=40)
    assert [c["subaccount"] for c in curves] == [1, 2]
    two = curves[1]
    times = [p["taken_at"] for p in two["points"]]
    assert times == sorted(times) and len(times) <= 40 and two["snapshots"] == 500
    assert times[0] == T0 and times[-1] == T0 + timedelta(hours=499)
    assert T0 + timedelta(hours=333) in times and two["max_drawdown"] == (106.0 - 50.0) / 106.0
    assert (two["equity"], two["strategy_id"]) == (equities[-1], "s2")


def test_thin_leaves_short_series_alone() -> None:
    rows = [{"drawdown": 0.0, "n": i} for i in range(5)]
    assert thin(rows, 10) == rows


def test_recent_trades_are_newest_first_and_limited() -> None:
    trades = [TradeClosed(aggregate_id="1", occurred_at=T0 + timedelta(hours=h), trade_id=f"t{h}", strategy_id="s",
                          symbol="BTC", direction="long", size=0.1, entry_price=100.0, exit_price=101.0,
                          entry_time=T0, exit_time=T0 + timedelta(hours=h), pnl=0.1, fees=0.01, exit_reason="signal")
              for h in range(5)]
    _, read_models = project(*trades)
    assert [t["trade_id"] for t in recent_trades(read_models, 3)] == ["t4", "t3", "t2"]


def test_a_run_reports_its_jobs_progress_here_and_its_recorded_progress_otherwise() -> None:
    events: list[DomainEvent] = []
    for run_id, day in (("here", 1), ("elsewhere", 0)):
        at = T0 + timedelta(days=day)
        events += [PipelineRunStarted(aggregate_id=run_id, occurred_at=at),
                   PipelineCandidatesChosen(aggregate_id=run_id, occurred_at=at, strategy_ids=("a", "b", "c", "d")),
                   CandidateEvaluated(aggregate_id=run_id, occurred_at=at, strategy_id="a"),
                   CandidateEvaluated(aggregate_id=run_id, occurred_at=at, strategy_id="b")]
    events.append(PipelineRunStarted(aggregate_id="fresh", occurred_at=T0 - timedelta(days=1)))
    store, read_models = project(*events)
    job = Job("here", "pipeline", "running", 0.9, "evaluated c", T0, T0)
    runs = pipeline_runs(read_models, store, lambda run_id: job if run_id == "here" else None, limit=10)
    assert [(r["run_id"], r["status"], r["progress"], r["evaluated"]) for r in runs] == [
        ("here", "running", 0.9, 2), ("elsewhere", "running", 0.75, 2), ("fresh", "running", 0.0, 0)]
    assert runs[0]["stage"] == "evaluated c" and runs[2]["stage"].startswith("generating candidates")
    assert [r["run_id"] for r in pipeline_runs(read_models, store, lambda _: None, limit=1)] == ["here"]
