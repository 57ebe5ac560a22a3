from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.errors import CorruptStream, IllegalTransition, InvalidStrategy
from domain.events import (
    BacktestCompleted,
    OrderPlaced,
    StrategyDeployed,
    StrategyDeselected,
    StrategyGenerated,
    StrategyRetired,
    StrategySelected,
    StrategyTested,
)
from domain.lifecycle import TRANSITIONS, Strategy, StrategyStatus

T0 = datetime(2024, 1, 1, tzinfo=UTC)
S = StrategyStatus


def new_strategy(strategy_id: str = "s-1") -> Strategy:
    return Strategy.generate(
        strategy_id, "Momentum 1h", "MOM", "1h", "class X: ...", "offline", prompt="p", at=T0
    )


def backtest(strategy: Strategy, backtest_id: str = "bt-1") -> None:
    strategy.record_backtest(
        backtest_id=backtest_id,
        symbol="BTC",
        timeframe="1h",
        period_start=T0 - timedelta(days=30),
        period_end=T0,
        total_trades=42,
        win_rate=0.55,
        sharpe=1.3,
        total_return=0.12,
        max_drawdown=0.08,
        expectancy=0.004,
        metrics={"profit_factor": 1.4},
        at=T0,
    )


def strategy_in(status: StrategyStatus) -> Strategy:
    strategy = new_strategy()
    backtest(strategy)
    path = {
        S.PENDING: [],
        S.TESTED: ["tested"],
        S.SELECTED: ["tested", "selected"],
        S.LIVE: ["tested", "selected", "live"],
        S.RETIRED: ["retired"],
    }[status]
    for step in path:
        {
            "tested": lambda: strategy.mark_tested("bt-1", at=T0),
            "selected": lambda: strategy.select(0.9, 1, at=T0),
            "live": lambda: strategy.deploy(3, "paper", at=T0),
            "retired": lambda: strategy.retire("obsolete", at=T0),
        }[step]()
    assert strategy.status is status
    return strategy


ACTIONS: dict[str, Callable[[Strategy], None]] = {
    "mark_tested": lambda s: s.mark_tested("bt-1"),
    "select": lambda s: s.select(0.8, 2),
    "deselect": lambda s: s.deselect("dropped in re-ranking"),
    "deploy": lambda s: s.deploy(1, "live"),
    "retire": lambda s: s.retire("degraded"),
    "record_backtest": lambda s: backtest(s, "bt-extra"),
}
EXPECTED = {
    ("mark_tested", S.PENDING): S.TESTED,
    ("select", S.TESTED): S.SELECTED,
    ("select", S.SELECTED): S.SELECTED,  # a re-ranking moves a selected strategy's rank
    ("deselect", S.SELECTED): S.TESTED,
    ("deploy", S.SELECTED): S.LIVE,
    **{("retire", s): S.RETIRED for s in (S.PENDING, S.TESTED, S.SELECTED, S.LIVE)},
    **{("record_backtest", s): s for s in (S.PENDING, S.TESTED, S.SELECTED, S.LIVE)},
}
ALL_PAIRS = [(action, status) for action in ACTIONS for status in StrategyStatus]


def test_generate_starts_pending_with_one_event() -> None:
    strategy = new_strategy()
    events = strategy.pull_events()
    assert strategy.status is S.PENDING
    assert [type(e) for e in events] == [StrategyGenerated]
    assert events[0].aggregate_id == "s-1" and events[0].occurred_at == T0
    assert strategy.pull_events() == []
    assert strategy.version == 1 and strategy.stored_version == 1


def test_transition_table_matches_expected_outcomes() -> None:
    allowed = {(a, s) for a, (froms, _) in TRANSITIONS.items() for s in froms}
    assert allowed == set(EXPECTED)


@pytest.mark.parametrize(("action", "status"), [p for p in ALL_PAIRS if p in EXPECTED])
def test_legal_transition_changes_status_and_emits_one_event(action: str, status: StrategyStatus) -> None:
    strategy = strategy_in(status)
    strategy.pull_events()
    ACTIONS[action](strategy)
    assert strategy.status is EXPECTED[(action, status)]
    assert len(strategy.pull_events()) == 1


@pytest.mark.parametrize(("action", "status"), [p for p in ALL_PAIRS if p not in EXPECTED])
def test_illegal_transition_raises_and_changes_nothing(action: str, status: StrategyStatus) -> None:
    strategy = strategy_in(status)
    strategy.pull_events()
    version = strategy.version
    with pytest.raises(IllegalTransition) as info:
        ACTIONS[action](strategy)
    assert info.value.from_status == status.value
    assert info.value.action == action
    assert strategy.status is status
    assert strategy.version == version
    assert strategy.pull_events() == []


def test_full_life_and_its_events() -> None:
    strategy = new_strategy()
    backtest(strategy)
    strategy.mark_tested("bt-1")
    strategy.select(0.9, 1)
    strategy.deselect("re-ranked below the cut")
    assert (strategy.score, strategy.rank, strategy.deselected_reason) == (
        None,
        None,
        "re-ranked below the cut",
    )
    strategy.select(0.95, 2)
    strategy.deploy(4, "live")
    assert (strategy.subaccount, strategy.mode, strategy.score, strategy.rank) == (4, "live", 0.95, 2)
    strategy.retire("degraded live")
    assert strategy.status is S.RETIRED and strategy.retired_reason == "degraded live"
    assert strategy.subaccount is None
    assert [type(e) for e in strategy.pull_events()] == [
        StrategyGenerated,
        BacktestCompleted,
        StrategyTested,
        StrategySelected,
        StrategyDeselected,
        StrategySelected,
        StrategyDeployed,
        StrategyRetired,
    ]
    assert strategy.version == 8 and strategy.stored_version == 8


def test_replay_equals_live_state() -> None:
    live = strategy_in(S.LIVE)
    backtest(live, "bt-2")
    events = live.pull_events()
    replayed = Strategy.replay(events)
    assert replayed == live
    assert replayed.pull_events() == []
    assert replayed.backtests == live.backtests and len(replayed.backtests) == 2
    assert replayed.tested_backtest_id == "bt-1"


def test_replay_after_retire_equals_live_state() -> None:
    strategy = strategy_in(S.SELECTED)
    strategy.retire("manual")
    assert Strategy.replay(strategy.pull_events()) == strategy


def test_replay_refuses_a_stream_not_starting_with_generation() -> None:
    strategy = strategy_in(S.TESTED)
    events = strategy.pull_events()
    with pytest.raises(CorruptStream):
        Strategy.replay(events[1:])
    with pytest.raises(CorruptStream):
        Strategy.replay([])


def test_replay_refuses_foreign_and_out_of_place_events() -> None:
    events = strategy_in(S.TESTED).pull_events()
    other = new_strategy("s-2").pull_events()
    with pytest.raises(CorruptStream):
        Strategy.replay([*events, *other])
    order = OrderPlaced(
        aggregate_id="s-1", order_id="o", strategy_id="s-1", symbol="BTC", side="buy", size=1.0
    )
    with pytest.raises(CorruptStream):
        Strategy.replay([*events, order])
    with pytest.raises(CorruptStream):
        Strategy.replay([*events, events[0]])


def test_replay_enforces_the_state_machine() -> None:
    events = strategy_in(S.TESTED).pull_events()
    deployed = StrategyDeployed(aggregate_id="s-1", subaccount=1, mode="live")
    with pytest.raises(IllegalTransition):
        Strategy.replay([*events, deployed])


def test_stored_version_excludes_pending_events() -> None:
    strategy = Strategy.replay(strategy_in(S.TESTED).pull_events())
    strategy.select(0.5, 3)
    assert (strategy.version, strategy.stored_version) == (4, 3)


def test_mark_tested_needs_a_recorded_backtest() -> None:
    strategy = new_strategy()
    with pytest.raises(InvalidStrategy):
        strategy.mark_tested("never-ran")
    assert strategy.status is S.PENDING


def test_same_backtest_cannot_be_recorded_twice() -> None:
    strategy = new_strategy()
    backtest(strategy)
    with pytest.raises(InvalidStrategy):
        backtest(strategy)
    assert len(strategy.backtests) == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"win_rate": 1.5},
        {"total_trades": -1},
        {"sharpe": float("nan")},
        {"max_drawdown": -0.2},
        {"period_end": T0 - timedelta(days=31)},
        {"expectancy": float("inf")},
    ],
)
def test_record_backtest_refuses_malformed_results(bad: dict[str, object]) -> None:
    strategy = new_strategy()
    strategy.pull_events()
    args: dict[str, object] = {
        "backtest_id": "bt",
        "symbol": "BTC",
        "timeframe": "1h",
        "period_start": T0 - timedelta(days=30),
        "period_end": T0,
        "total_trades": 3,
        "win_rate": 0.5,
        "sharpe": 1.0,
        "total_return": 0.1,
        "max_drawdown": 0.1,
        "expectancy": 0.01,
    }
    with pytest.raises(InvalidStrategy):
        strategy.record_backtest(**{**args, **bad})  # type: ignore[arg-type]
    assert strategy.backtests == () and strategy.pull_events() == []


@pytest.mark.parametrize("reason", ["", "   "])
def test_retire_requires_a_reason(reason: str) -> None:
    strategy = strategy_in(S.LIVE)
    with pytest.raises(InvalidStrategy):
        strategy.retire(reason)
    assert strategy.status is S.LIVE


def test_select_and_deploy_validate_arguments() -> None:
    strategy = strategy_in(S.TESTED)
    with pytest.raises(InvalidStrategy):
        strategy.select(float("nan"), 1)
    with pytest.raises(InvalidStrategy):
        strategy.select(0.5, 0)
    strategy.select(0.5, 1)
    with pytest.raises(InvalidStrategy):
        strategy.deploy(-1, "live")
    with pytest.raises(InvalidStrategy):
        strategy.deploy(1, "")
    assert strategy.status is S.SELECTED


@pytest.mark.parametrize("field", ["strategy_id", "name", "strategy_type", "code", "generator", "timeframe"])
def test_generate_refuses_blank_or_unknown_values(field: str) -> None:
    args: dict[str, Any] = {
        "strategy_id": "s",
        "name": "n",
        "strategy_type": "MOM",
        "timeframe": "1h",
        "code": "c",
        "generator": "g",
    }
    args[field] = "7m" if field == "timeframe" else " "
    with pytest.raises(InvalidStrategy):
        Strategy.generate(**args)
