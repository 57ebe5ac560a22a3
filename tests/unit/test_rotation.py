"""Rotation replaces a strategy whose live expectancy fell below its backtest's band."""

from __future__ import annotations

from datetime import timedelta

from application.deploy_strategies import DeploymentRequest
from application.rotate_strategies import StrategyRotation
from domain.lifecycle import StrategyStatus
from domain.risk import RiskPolicy
from domain.trading import Fill
from tests.execution_support import T0, PaperDesk


def _round_trips(desk: PaperDesk, strategy_id: str, count: int, exit_price: float, start: int = 0) -> None:
    """Closed trades booked for the strategy (as fills the venue reported), entry 100 each."""
    book = desk.ledger.load(1)
    for i in range(start, start + count):
        at = T0 + timedelta(minutes=2 * i)
        book.record_fill(Fill(order_id=f"in-{i}", symbol="XRP", side="buy", size=10.0, price=100.0, fee=0.0, time=at),
                         strategy_id, f"f-in-{i}")
        book.record_fill(Fill(order_id=f"out-{i}", symbol="XRP", side="sell", size=10.0, price=exit_price, fee=0.0,
                              time=at + timedelta(minutes=1)), strategy_id, f"f-out-{i}")
    desk.ledger.save(book)


def test_a_degraded_strategy_is_rotated_for_the_next_best_and_a_healthy_one_kept() -> None:
    desk = PaperDesk()
    first, second, third = desk.selected(3)
    desk.manager.deploy(DeploymentRequest(plan="test", strategy_ids=(first,)))
    rotation = StrategyRotation(desk.manager, desk.read_models, RiskPolicy(), desk.projections.catch_up)
    _round_trips(desk, first, 10, 99.0)
    [early] = rotation.run()
    assert early.action == "kept" and early.live_trades == 10, "too few trades prove nothing"
    assert desk.ledger.load(1).strategy_id == first
    _round_trips(desk, first, 10, 99.0, start=10)
    [outcome] = rotation.run()
    assert (outcome.action, outcome.replacement, outcome.live_trades) == ("rotated", second, 20)
    assert outcome.live_expectancy is not None and outcome.live_expectancy < 0
    assert desk.strategies.get(first).status == StrategyStatus.RETIRED
    assert "degraded" in (desk.strategies.get(first).retired_reason or "")
    assert desk.strategies.get(second).subaccount == 1
    assert desk.strategies.get(third).status == StrategyStatus.SELECTED
    [again] = rotation.run()
    assert again.strategy_id == second and again.action == "kept"


def test_a_degraded_strategy_with_no_replacement_is_stopped() -> None:
    desk = PaperDesk()
    [only] = desk.selected(1)
    desk.manager.deploy(DeploymentRequest(plan="test"))
    _round_trips(desk, only, 20, 98.0)
    [outcome] = StrategyRotation(desk.manager, desk.read_models, RiskPolicy(), desk.projections.catch_up).run()
    assert outcome.action == "stopped" and outcome.replacement is None
    assert desk.strategies.get(only).status == StrategyStatus.RETIRED
    assert desk.ledger.load(1).is_free
