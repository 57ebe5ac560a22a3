"""Projections give the same read models incrementally and rebuilt from zero, on every backend."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from application.event_codec import encode
from application.ports.event_store import EventStore
from application.ports.read_models import ReadModelStore
from application.projections.read_models import ALL_PROJECTIONS
from application.projections.runner import ProjectionRunner
from domain import events as ev
from domain import research_events as rev

T0 = datetime(2025, 3, 1, tzinfo=UTC)
TABLES = ("strategies", "backtest_results", "live_trades", "performance_snapshots", "validation_results")


def history(seed: int, strategies: int = 12) -> list[ev.DomainEvent]:
    """A plausible mixed history: lifecycles, backtests, trades and snapshots."""
    rng = random.Random(seed)
    out: list[ev.DomainEvent] = []
    at = T0
    for n in range(strategies):
        sid = f"strat-{n:03d}"
        at += timedelta(minutes=5)
        out.append(ev.StrategyGenerated(aggregate_id=sid, occurred_at=at, name=f"MOM_{n}", strategy_type="MOM",
                                        timeframe="1h", code="class S: ...", generator="offline", prompt="p ü"))
        bt = f"bt-{n}"
        out.append(ev.BacktestCompleted(
            aggregate_id=sid, occurred_at=at, backtest_id=bt, symbol="BTC", timeframe="1h",
            period_start=T0 - timedelta(days=180), period_end=T0, total_trades=rng.randint(30, 90),
            win_rate=rng.random(), sharpe=rng.uniform(-1, 3), total_return=rng.uniform(-0.2, 0.6),
            max_drawdown=rng.uniform(0, 0.3), expectancy=rng.uniform(-0.01, 0.02), metrics={"profit_factor": 1.3},
        ))
        out.append(ev.StrategyTested(aggregate_id=sid, occurred_at=at, backtest_id=bt))
        if n % 3 == 0:
            report = {"sandbox_ok": True, "ast_ok": True, "lookahead_free": n % 2 == 0, "shuffle_p_value": 0.01}
            if n % 2 == 0:
                out.append(rev.StrategyValidated(aggregate_id=f"val-{n}", occurred_at=at, strategy_id=sid,
                                                origin=f"{sid}.py", code_sha256="ab", report=report))
            else:
                out.append(rev.StrategyRejected(aggregate_id=f"val-{n}", occurred_at=at, strategy_id=sid,
                                               origin=f"{sid}.py", code_sha256="cd", report=report,
                                               reasons=("lookahead: the strategy reads future bars",)))
        if n % 2 == 0:
            out.append(ev.StrategySelected(aggregate_id=sid, occurred_at=at, score=rng.uniform(50, 90), rank=n))
        if n % 4 == 0:
            sub = str(n // 4 + 1)
            out.append(ev.StrategyDeployed(aggregate_id=sid, occurred_at=at, subaccount=int(sub), mode="paper"))
            for k in range(3):
                at += timedelta(hours=1)
                out.append(ev.TradeClosed(
                    aggregate_id=sub, occurred_at=at, trade_id=f"{sid}-t{k}", strategy_id=sid, symbol="BTC",
                    direction="long", size=0.01, entry_price=60000.0, exit_price=60000.0 + rng.uniform(-500, 500),
                    entry_time=at - timedelta(minutes=30), exit_time=at, pnl=rng.uniform(-5, 5), fees=0.05,
                    exit_reason="take_profit",
                ))
                out.append(ev.PortfolioSnapshotTaken(
                    aggregate_id=sub, occurred_at=at, strategy_id=sid, equity=100 + k, cash=100.0,
                    realized_pnl=float(k), unrealized_pnl=0.0, peak_equity=100 + k, drawdown=0.0,
                    daily_pnl=float(k), open_positions=0,
                ))
        if n == 5:
            out.append(rev.StrategyRejected(aggregate_id="val-unparsed", occurred_at=at, strategy_id=None,
                                           origin="broken.py", code_sha256="ef", reasons=("sandbox: syntax",)))
        if n % 6 == 0:
            out.append(ev.StrategyRetired(aggregate_id=sid, occurred_at=at, reason="daily loss over 10%"))
    return out


def snapshot(read_models: ReadModelStore) -> dict[str, list[dict]]:
    return {table: read_models.rows(table) for table in TABLES}


def test_rebuild_gives_the_same_rows_as_incremental(store: EventStore, read_models: ReadModelStore) -> None:
    runner = ProjectionRunner(store, read_models, ALL_PROJECTIONS, batch_size=7)
    events = history(seed=7)
    for i, event in enumerate(events):  # projections run between appends, as in production
        store.append(event.stream_id, [encode(event)], None)
        if i % 5 == 0:
            runner.catch_up()
    runner.catch_up()
    incremental = snapshot(read_models)
    assert len(incremental["strategies"]) == 12
    assert len(incremental["live_trades"]) == 9
    assert {r["strategy_id"]: r["status"] for r in incremental["strategies"]}["strat-000"] == "RETIRED"
    assert {r["strategy_id"]: r["status"] for r in incremental["strategies"]}["strat-004"] == "LIVE"
    assert {r["strategy_id"]: r["status"] for r in incremental["strategies"]}["strat-002"] == "SELECTED"
    assert {r["strategy_id"]: r["status"] for r in incremental["strategies"]}["strat-001"] == "TESTED"

    result = runner.rebuild()
    assert result.events_seen == len(events)
    assert snapshot(read_models) == incremental


def test_catch_up_is_incremental_and_idempotent(store: EventStore, read_models: ReadModelStore) -> None:
    runner = ProjectionRunner(store, read_models, ALL_PROJECTIONS)
    events = history(seed=1, strategies=4)
    half = len(events) // 2
    for event in events[:half]:
        store.append(event.stream_id, [encode(event)], None)
    assert runner.catch_up().events_seen == half
    assert runner.catch_up().events_seen == 0
    for event in events[half:]:
        store.append(event.stream_id, [encode(event)], None)
    assert runner.catch_up().events_seen == len(events) - half
    head = store.head_position()
    assert all(read_models.checkpoint(p.name) == head for p in ALL_PROJECTIONS)


def test_update_only_changes_touch_existing_rows_and_never_insert(read_models: ReadModelStore) -> None:
    from application.ports.read_models import Upsert

    created = Upsert("strategies", {"strategy_id": "x"}, {"status": "PENDING", "name": "n"})
    assert read_models.apply("strategies", 1, [created])
    validated = Upsert("strategies", {"strategy_id": "x"}, {"validation_status": "VALIDATED"}, insert=False)
    orphan = Upsert("strategies", {"strategy_id": "y"}, {"validation_status": "REJECTED"}, insert=False)
    assert read_models.apply("strategies", 2, [validated, orphan])
    (row,) = read_models.rows("strategies")
    assert (row["strategy_id"], row["status"], row["validation_status"]) == ("x", "PENDING", "VALIDATED")
    together = [Upsert("strategies", {"strategy_id": "z"}, {"status": "PENDING"}),
                Upsert("strategies", {"strategy_id": "z"}, {"validation_status": "REJECTED"}, insert=False)]
    assert read_models.apply("strategies", 3, together)
    assert read_models.rows("strategies", {"strategy_id": "z"})[0]["validation_status"] == "REJECTED"
    late = [Upsert("strategies", {"strategy_id": "w"}, {"validation_status": "REJECTED"}, insert=False),
            Upsert("strategies", {"strategy_id": "w"}, {"status": "PENDING"})]
    assert read_models.apply("strategies", 4, late)
    assert read_models.rows("strategies", {"strategy_id": "w"})[0]["validation_status"] is None


def test_a_batch_applied_twice_counts_once(read_models: ReadModelStore) -> None:
    from application.ports.read_models import Upsert

    change = Upsert("strategies", {"strategy_id": "x"}, {"status": "PENDING", "name": "n"})
    assert read_models.apply("strategies", 5, [change]) is True
    assert read_models.apply("strategies", 5, [Upsert("strategies", {"strategy_id": "x"}, {"status": "LIVE"})]) is False
    assert read_models.rows("strategies")[0]["status"] == "PENDING"
    assert read_models.checkpoint("strategies") == 5
    read_models.reset("strategies", ["strategies"])
    assert read_models.rows("strategies") == []
    assert read_models.checkpoint("strategies") == 0


def test_catch_up_subscription_follows_new_events_until_stopped(
        store: EventStore, read_models: ReadModelStore) -> None:
    import threading
    import time

    runner = ProjectionRunner(store, read_models, ALL_PROJECTIONS)
    stop = threading.Event()
    follower = threading.Thread(target=runner.run_until, args=(stop, 0.01))
    follower.start()
    try:
        for event in history(seed=3, strategies=2):
            store.append(event.stream_id, [encode(event)], None)
        deadline = time.monotonic() + 10
        while read_models.checkpoint("strategies") < store.head_position() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        follower.join(timeout=5)
    assert not follower.is_alive()
    assert len(read_models.rows("strategies")) == 2
