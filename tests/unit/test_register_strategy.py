from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from application.ports.event_store import WrongExpectedVersion
from application.register_strategy import RegisterStrategy
from application.strategy_repository import StrategyNotFound, StrategyRepository
from application.strategy_source import read_header
from domain.errors import InvalidStrategy
from domain.lifecycle import StrategyStatus

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "strategies"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore()


def test_registering_appends_one_generated_event_with_causality(store: InMemoryEventStore) -> None:
    code = (EXAMPLES / "mom_ema_cross.py").read_text()
    outcome = RegisterStrategy(StrategyRepository(store), ManualClock(NOW)).execute(code, generator="example")
    assert outcome.created
    (event,) = store.read_all()
    assert event.event_type == "StrategyGenerated"
    assert event.stream_id == f"strategy-{outcome.strategy_id}"
    assert event.payload["strategy_type"] == "MOM" and event.payload["timeframe"] == "1h"
    assert event.metadata["correlation_id"] == outcome.strategy_id
    assert event.metadata["occurred_at"] == NOW.isoformat()


def test_registering_the_same_code_twice_stores_nothing_new(store: InMemoryEventStore) -> None:
    use_case = RegisterStrategy(StrategyRepository(store), ManualClock(NOW))
    code = (EXAMPLES / "rev_rsi_bands.py").read_text()
    first, second = use_case.execute(code, generator="x"), use_case.execute(code, generator="x")
    assert first.strategy_id == second.strategy_id and not second.created
    assert store.head_position() == 1


def test_repository_round_trips_the_aggregate_through_the_store(store: InMemoryEventStore) -> None:
    repo = StrategyRepository(store)
    outcome = RegisterStrategy(repo, ManualClock(NOW)).execute(
        (EXAMPLES / "mom_ema_cross.py").read_text(), generator="example")
    strategy = repo.get(outcome.strategy_id)
    strategy.record_backtest(backtest_id="b1", symbol="BTC", timeframe="1h",
                             period_start=NOW - timedelta(days=30), period_end=NOW,
                             total_trades=40, win_rate=0.5, sharpe=1.2, total_return=0.1, max_drawdown=0.05,
                             expectancy=0.002, at=NOW)
    strategy.mark_tested("b1", at=NOW)
    assert repo.save(strategy) == 3
    loaded = repo.get(outcome.strategy_id)
    assert loaded.status is StrategyStatus.TESTED
    assert loaded == strategy
    causes = [e.metadata["causation_id"] for e in store.read_stream(f"strategy-{outcome.strategy_id}")]
    assert causes[2] == store.read_stream(f"strategy-{outcome.strategy_id}")[1].event_id


def test_two_writers_of_one_strategy_conflict_instead_of_overwriting(store: InMemoryEventStore) -> None:
    repo = StrategyRepository(store)
    sid = RegisterStrategy(repo, ManualClock(NOW)).execute(
        (EXAMPLES / "mom_ema_cross.py").read_text(), generator="e").strategy_id
    a, b = repo.get(sid), repo.get(sid)
    a.retire("manual", at=NOW)
    b.retire("rotation", at=NOW)
    repo.save(a)
    with pytest.raises(WrongExpectedVersion):
        repo.save(b)
    assert repo.get(sid).retired_reason == "manual"


def test_unknown_strategy_is_a_typed_error(store: InMemoryEventStore) -> None:
    with pytest.raises(StrategyNotFound):
        StrategyRepository(store).get("nope")


@pytest.mark.parametrize(("code", "message"), [
    ("def broken(:\n", "syntax error at line 1"),
    ("class A:\n    type = 'MOM'\n", "no class deriving from StrategyCore"),
    ("class A(StrategyCore):\n    type = 'MOM'\n    timeframe = '2h'\n", "timeframe must be one of"),
    ("class A(StrategyCore):\n    timeframe = '1h'\n", "type must be a string literal"),
])
def test_bad_source_is_refused_with_a_clear_reason(code: str, message: str) -> None:
    with pytest.raises(InvalidStrategy, match=message):
        read_header(code, "gen.py")


def test_header_is_read_without_running_the_code() -> None:
    code = ("import os\nos.remove('/definitely-not-run')\n"
            "class S(StrategyCore):\n    type = 'VOL'\n    timeframe = '4h'\n")
    header = read_header(code)
    assert (header.class_name, header.strategy_type, header.timeframe) == ("S", "VOL", "4h")
