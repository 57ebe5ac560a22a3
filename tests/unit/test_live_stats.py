"""The monitoring counts folded from the log: what each event adds, and only new events read again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.memory.event_store import InMemoryEventStore
from application.event_codec import encode
from application.projections.live_stats import LiveStats
from domain import events as ev
from domain import execution_events as xe
from domain import research_events as rev
from domain.events import DomainEvent

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class CountingStore(InMemoryEventStore):
    def __init__(self) -> None:
        super().__init__()
        self.read: list[int] = []

    def read_all(self, after_position: int = 0, limit: int = 1000) -> list[Any]:
        batch = super().read_all(after_position, limit)
        self.read.extend(e.global_position for e in batch)
        return batch


def append(store: InMemoryEventStore, *events: DomainEvent) -> None:
    for event in events:
        store.append(f"{event.stream_prefix}-{event.aggregate_id}", [encode(event)], None)


def snapshot(subaccount: str, equity: float, at: datetime) -> ev.PortfolioSnapshotTaken:
    return ev.PortfolioSnapshotTaken(aggregate_id=subaccount, occurred_at=at, strategy_id="s1", equity=equity,
                                     cash=equity, realized_pnl=equity - 100, unrealized_pnl=1.5, peak_equity=110,
                                     drawdown=(110 - equity) / 110, daily_pnl=-2.0, open_positions=1)


def test_orders_refusals_failures_and_the_latest_snapshot_are_counted_per_strategy_and_subaccount() -> None:
    store = CountingStore()
    append(store,
           ev.OrderPlaced(aggregate_id="1", order_id="o1", strategy_id="s1", symbol="BTC", side="buy", size=0.1),
           ev.OrderPlaced(aggregate_id="1", order_id="o2", strategy_id="s1", symbol="BTC", side="sell", size=0.1),
           xe.ProtectiveOrderPlaced(aggregate_id="1", order_id="o3", strategy_id="s1", symbol="BTC",
                                    kind="stop_loss", side="sell", size=0.1, trigger_price=50000.0),
           xe.OrderRejected(aggregate_id="2", order_id="o4", strategy_id="s2", symbol="ETH", reason="margin"),
           xe.SignalRefused(aggregate_id="2", strategy_id="s2", symbol="ETH", direction="long", bar_time="t",
                            reason="limit is 1"),
           xe.DecisionFailed(aggregate_id="2", strategy_id="s2", bar_time="t", error="ZeroDivisionError"),
           snapshot("1", 105.0, T0), snapshot("1", 99.0, T0 + timedelta(minutes=15)))
    stats = LiveStats(store, batch_size=2)
    view = stats.catch_up()
    assert view.orders_sent == {("s1", 1, "market"): 2, ("s1", 1, "stop_loss"): 1}
    assert view.orders_refused == {("s2", 2, "venue"): 1, ("s2", 2, "risk"): 1}
    assert view.decision_errors == {("s2", 2): 1}
    assert view.snapshots[1].equity == 99.0 and view.snapshots[1].taken_at == T0 + timedelta(minutes=15)
    assert view.position == store.head_position() == 8

    store.read.clear()
    append(store, ev.OrderPlaced(aggregate_id="1", order_id="o5", strategy_id="s1", symbol="BTC", side="buy",
                                 size=0.1))
    again = stats.catch_up()
    assert store.read == [9], "only the new event is read"
    assert again.orders_sent[("s1", 1, "market")] == 3
    assert view.orders_sent[("s1", 1, "market")] == 2, "an earlier view is a copy"


def test_pipeline_evaluations_and_the_latest_run_throughput() -> None:
    store = InMemoryEventStore()
    append(store, rev.PipelineRunStarted(aggregate_id="r1", occurred_at=T0),
           *[rev.CandidateEvaluated(aggregate_id="r1", occurred_at=T0 + timedelta(minutes=i + 1),
                                    strategy_id=f"s{i}", result={"passed_gates": i == 0}) for i in range(4)],
           rev.PipelineRunCompleted(aggregate_id="r1", occurred_at=T0 + timedelta(minutes=8)))
    view = LiveStats(store).catch_up()
    assert view.evaluated == {"passed": 1, "failed": 3}
    assert view.runs == {"started": 1, "completed": 1}
    assert view.latest_run is not None and view.latest_run.run_id == "r1"
    assert view.latest_run.per_minute() == 0.5  # 4 candidates from start to completion in 8 minutes

    append(store, rev.PipelineRunStarted(aggregate_id="r2", occurred_at=T0 + timedelta(hours=1)))
    later = LiveStats(store).catch_up()
    assert later.latest_run is not None and later.latest_run.run_id == "r2"
    assert later.latest_run.per_minute() is None, "nothing evaluated yet"
