"""Seeding a database the way the system fills it, for the web dashboard's end-to-end test.

Strategies are selected and deployed by the use cases; trades, positions and snapshots are
recorded by the subaccount books (fills and equity observations), pipeline runs by their events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.deploy_strategies import DeploymentRequest
from application.event_codec import encode
from application.ports.event_store import EventStore
from domain.events import DomainEvent
from domain.research_events import (
    CandidateEvaluated,
    PipelineCandidatesChosen,
    PipelineRunCompleted,
    PipelineRunStarted,
)
from domain.subaccount_book import SubaccountBook
from domain.trading import Fill, Order
from entrypoints.container import Container
from tests.e2e.execution_support import T0, seed_selected

HOURS = 48
"""Hourly snapshots per traded subaccount: what each equity and drawdown curve holds."""


@dataclass(frozen=True)
class Seeded:
    strategy_ids: list[str]
    trades: int
    snapshots: dict[int, int]
    running_run: str
    completed_run: str


def seed_dashboard(container: Container) -> Seeded:
    ids = seed_selected(container.event_store(), 4)
    report = container.subaccount_manager().deploy(DeploymentRequest(plan="test"))
    assert [s.status for s in report.steps] == ["deployed"] * 3 + ["skipped"]
    trades = sum(_trade(container, n, ids[n - 1], phase) for n, phase in ((1, 0.0), (2, 2.0)))
    _open(container, 1, ids[0], "ETH", 0.05, 3100.0, T0 + timedelta(hours=HOURS))
    running, completed = _pipeline_runs(container.event_store(), ids)
    container.projection_runner().catch_up()
    return Seeded(ids, trades, {1: HOURS, 2: HOURS}, running, completed)


def _trade(container: Container, subaccount: int, strategy_id: str, phase: float) -> int:
    """A BTC round trip every 4 hours and an equity observation every hour; returns the trades closed."""
    ledger = container.subaccount_ledger()
    book = ledger.load(subaccount)
    closed = 0
    for hour in range(HOURS):
        at = T0 + timedelta(hours=hour, minutes=30)
        price = 60_000 + 1_500 * math.sin(hour / 5 + phase)
        if hour % 4 == 0:
            _fill(book, f"o-{subaccount}-{hour}-open", "buy", price, at)
        elif hour % 4 == 3:
            _fill(book, f"o-{subaccount}-{hour}-close", "sell", price, at)
            closed += 1
        cash = book.portfolio.cash if book.portfolio else 0.0
        book.observe(cash + 8 * math.sin(hour / 3 + phase), len(book.positions), at + timedelta(minutes=20))
    ledger.save(book)
    return closed


def _fill(book: SubaccountBook, order_id: str, side: str, price: float, at: datetime) -> None:
    assert book.strategy_id is not None
    order = Order(id=order_id, symbol="BTC", side="buy" if side == "buy" else "sell", size=0.001)
    book.place_order(order, book.strategy_id, at)
    book.record_fill(Fill(order_id=order_id, symbol="BTC", side=order.side, size=0.001, price=price,
                          fee=price * 0.001 * 0.00035, time=at), book.strategy_id, fill_id=f"f-{order_id}")


def _open(container: Container, subaccount: int, strategy_id: str, symbol: str, size: float, price: float,
          at: datetime) -> None:
    ledger = container.subaccount_ledger()
    book = ledger.load(subaccount)
    order = Order(id=f"o-{subaccount}-{symbol}", symbol=symbol, side="buy", size=size)
    book.place_order(order, strategy_id, at)
    book.record_fill(Fill(order_id=order.id, symbol=symbol, side="buy", size=size, price=price, fee=0.05, time=at),
                     strategy_id, fill_id=f"f-{order.id}")
    ledger.save(book)


def _pipeline_runs(store: EventStore, ids: list[str]) -> tuple[str, str]:
    """A run that finished and one that stopped after evaluating one of its four candidates."""
    def append(event: DomainEvent) -> None:
        store.append(event.stream_id, [encode(event, correlation_id=event.aggregate_id)], None)

    for run_id, evaluated, at in (("run-completed", 4, T0 - timedelta(days=1)), ("run-running", 1, T0)):
        append(PipelineRunStarted(aggregate_id=run_id, occurred_at=at, request={"count": 4, "seed": 0}))
        append(PipelineCandidatesChosen(aggregate_id=run_id, occurred_at=at, strategy_ids=tuple(ids)))
        for sid in ids[:evaluated]:
            append(CandidateEvaluated(aggregate_id=run_id, occurred_at=at, strategy_id=sid, result={"name": sid}))
        if evaluated == len(ids):
            append(PipelineRunCompleted(aggregate_id=run_id, occurred_at=at + timedelta(minutes=5),
                                        selected=tuple(ids[:2]), report={"candidates": 4, "passed": 2}))
    return "run-running", "run-completed"
