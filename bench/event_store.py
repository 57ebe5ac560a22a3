"""Event-store throughput: batched appends per second and the time to rebuild 100k events.

Run: `make bench` or `.venv/bin/python bench/event_store.py [--events 100000] [--batch 500]`.
Uses SIXBTC_TEST_DATABASE_URL, else 127.0.0.1:5432, else an embedded server, in a throwaway
database. Baselines are measured in the same run: single-event appends and the in-memory store.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.read_models import InMemoryReadModels
from adapters.postgres.engine import create_engine
from adapters.postgres.event_store import PostgresEventStore
from adapters.postgres.migrate import upgrade_to_head
from adapters.postgres.read_models import PostgresReadModels
from application.event_codec import encode
from application.ports.event_store import EventStore, NewEvent
from application.ports.read_models import ReadModelStore
from application.projections.read_models import ALL_PROJECTIONS
from application.projections.runner import ProjectionRunner
from domain import events as ev
from tests.postgres_server import fresh_database, server_url

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def workload(count: int) -> list[tuple[str, NewEvent]]:
    """A mix like production: snapshots and trades on 10 subaccounts, strategy lifecycles."""
    out: list[tuple[str, NewEvent]] = []
    for i in range(count):
        at = T0 + timedelta(seconds=i)
        kind = i % 4
        if kind == 0:
            e: ev.DomainEvent = ev.StrategyGenerated(
                aggregate_id=f"s{i}", occurred_at=at, name=f"MOM_{i}", strategy_type="MOM", timeframe="1h",
                code="x = 1\n" * 40, generator="bench")
        elif kind == 1:
            e = ev.TradeClosed(aggregate_id=str(i % 10), occurred_at=at, trade_id=f"t{i}", strategy_id=f"s{i}",
                               symbol="BTC", direction="long", size=0.1, entry_price=1.0, exit_price=1.1,
                               entry_time=at, exit_time=at, pnl=0.01, fees=0.001, exit_reason="tp")
        else:
            e = ev.PortfolioSnapshotTaken(aggregate_id=str(i % 10), occurred_at=at, strategy_id=None, equity=100.0,
                                          cash=100.0, realized_pnl=0.0, unrealized_pnl=0.0, peak_equity=100.0,
                                          drawdown=0.0, daily_pnl=0.0, open_positions=0)
        out.append((e.stream_id, encode(e)))
    return out


def append_rate(store: EventStore, items: list[tuple[str, NewEvent]], batch: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(items), batch):
        chunk = items[start:start + batch]
        store.append(f"bench-{start // batch}", [e for _, e in chunk], None)
    return len(items) / (time.perf_counter() - started)


def rebuild_seconds(store: EventStore, read_models: ReadModelStore) -> float:
    runner = ProjectionRunner(store, read_models, ALL_PROJECTIONS, batch_size=5000)
    started = time.perf_counter()
    result = runner.rebuild()
    elapsed = time.perf_counter() - started
    assert result.events_seen == store.head_position(), "rebuild did not see every event"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--single", type=int, default=2_000, help="events for the one-per-append baseline")
    args = parser.parse_args()
    items = workload(args.events)

    memory = InMemoryEventStore()
    mem_rate = append_rate(memory, items, args.batch)
    mem_rebuild = rebuild_seconds(memory, InMemoryReadModels())

    with tempfile.TemporaryDirectory() as tmp, server_url(Path(tmp)) as server, fresh_database(server) as url:
        engine = create_engine(url, pool_size=4, max_overflow=0)
        upgrade_to_head(engine)
        pg = PostgresEventStore(engine)
        single_rate = append_rate(pg, workload(args.single), 1)
        pg_fresh = PostgresEventStore(engine)
        batched_rate = append_rate(pg_fresh, items, args.batch)
        pg_rebuild = rebuild_seconds(pg, PostgresReadModels(engine))
        engine.dispose()

    table = Table(title=f"event store: {args.events:,} events, batches of {args.batch}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("ratio", justify="right")
    table.add_row("postgres append, 1 event per call (baseline)", f"{single_rate:,.0f} ev/s", "1.00x")
    table.add_row(f"postgres append, {args.batch} per call", f"{batched_rate:,.0f} ev/s",
                  f"{batched_rate / single_rate:.2f}x")
    table.add_row(f"in-memory append, {args.batch} per call", f"{mem_rate:,.0f} ev/s",
                  f"{mem_rate / single_rate:.2f}x")
    table.add_row(f"postgres rebuild of {store_events(args):,} events", f"{pg_rebuild:.2f} s",
                  f"{store_events(args) / pg_rebuild:,.0f} ev/s")
    table.add_row(f"in-memory rebuild of {args.events:,} events (baseline)", f"{mem_rebuild:.2f} s",
                  f"{pg_rebuild / mem_rebuild:.2f}x slower on postgres")
    table.add_row("target: batched append >= 10,000 ev/s", "met" if batched_rate >= 10_000 else "NOT MET", "")
    Console().print(table)


def store_events(args: argparse.Namespace) -> int:
    return args.events + args.single


if __name__ == "__main__":
    main()
