"""Subaccounts decided at the same time give the decisions of one after another; when entries
compete for the last open-position slots, they act in turn, so the slots go by order, not by speed."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from adapters.inprocess.sandbox import InProcessSandbox
from application.live_trader import Decision, LiveStrategy, LiveTrader
from domain.risk import RiskPolicy
from tests.execution_support import ALWAYS_LONG, T0, PaperDesk

SUBACCOUNTS = (1, 2, 3, 4, 5)


def _bars(desk: PaperDesk, hours: int) -> datetime:
    for hour in range(1, hours + 1):
        desk.prices.append("BTC", "1h", T0 + timedelta(hours=hour), 60000.0, 60100.0, 59900.0, 60000.0 + hour)
    desk.clock.advance(T0 + timedelta(hours=hours + 1, seconds=5) - desk.clock.now())
    desk.prices.append("BTC", "1m", desk.clock.now().replace(second=0), 60010.0, 60010.0, 60010.0, 60010.0)
    return T0 + timedelta(hours=hours)


class SlowOrders:
    """The venue, with every market order taking 50 ms: long enough for the other threads to reach
    the limit check while the first entries are still in flight."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    threads: set[str] = set()

    def market_order(self, request: Any) -> Any:
        SlowOrders.threads.add(threading.current_thread().name)
        time.sleep(0.05)
        return self._inner.market_order(request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class SlowVenue:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def subaccount(self, number: int) -> Any:
        return SlowOrders(self._inner.subaccount(number))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _decide(parallel: int, max_open: int, slow: bool = False) -> tuple[list[Decision], PaperDesk]:
    desk = PaperDesk()
    for number in SUBACCOUNTS:
        book = desk.ledger.load(number)
        book.fund(1000.0, desk.clock.now())
        book.assign(f"strat-{number}", "paper", 1000.0, desk.clock.now())
        desk.ledger.save(book)
    closed = _bars(desk, 3)
    venue: Any = SlowVenue(desk.exchange) if slow else desk.exchange
    trader = LiveTrader(InProcessSandbox(), desk.prices, desk.ledger, venue, desk.clock,
                        RiskPolicy(max_position_size=0.2, max_open_positions=max_open), ["BTC"], max_slippage=0.01,
                        lookback=50, parallel=parallel)
    live = [LiveStrategy(f"strat-{n}", ALWAYS_LONG, "1h", n) for n in SUBACCOUNTS]
    return trader.on_bar_close(live, closed), desk


def test_parallel_decisions_are_the_sequential_ones_in_the_same_order() -> None:
    sequential, _ = _decide(parallel=1, max_open=10)
    SlowOrders.threads.clear()
    parallel, desk = _decide(parallel=5, max_open=10, slow=True)
    assert len({t for t in SlowOrders.threads if t.startswith("decide")}) > 1, "the orders went out at once"
    assert [(d.strategy_id, d.action) for d in parallel] == [(d.strategy_id, d.action) for d in sequential]
    assert [d.action for d in parallel] == ["entered"] * len(SUBACCOUNTS)
    for number in SUBACCOUNTS:
        assert [p.symbol for p in desk.exchange.subaccount(number).positions()] == ["BTC"]


def test_entries_competing_for_the_last_slots_act_in_turn_and_the_first_ones_get_them() -> None:
    SlowOrders.threads.clear()
    decisions, desk = _decide(parallel=5, max_open=2, slow=True)
    assert [(d.strategy_id, d.action) for d in decisions] == [
        ("strat-1", "entered"), ("strat-2", "entered"), ("strat-3", "refused"), ("strat-4", "refused"),
        ("strat-5", "refused")]
    assert SlowOrders.threads == {threading.main_thread().name}, "in turn, on the caller's thread"
    assert all("the limit is 2" in d.detail for d in decisions if d.action == "refused")
    held = sum(len(desk.exchange.subaccount(n).positions()) for n in SUBACCOUNTS)
    assert held == 2


def test_parallel_must_be_at_least_one() -> None:
    desk = PaperDesk()
    with pytest.raises(ValueError, match="parallel must be at least 1"):
        LiveTrader(InProcessSandbox(), desk.prices, desk.ledger, desk.exchange, desk.clock, RiskPolicy(), ["BTC"],
                   max_slippage=0.01, parallel=0)
