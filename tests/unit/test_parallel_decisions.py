"""Subaccounts decided at the same time give the decisions of one after another, and never more
positions than the risk policy allows, however the threads interleave."""

from __future__ import annotations

import time
from collections import Counter
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

    def market_order(self, request: Any) -> Any:
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
    parallel, desk = _decide(parallel=5, max_open=10)
    assert [(d.strategy_id, d.action) for d in parallel] == [(d.strategy_id, d.action) for d in sequential]
    assert [d.action for d in parallel] == ["entered"] * len(SUBACCOUNTS)
    for number in SUBACCOUNTS:
        assert [p.symbol for p in desk.exchange.subaccount(number).positions()] == ["BTC"]


def test_the_open_positions_limit_holds_when_subaccounts_race_for_the_last_slots() -> None:
    decisions, desk = _decide(parallel=5, max_open=2, slow=True)
    assert Counter(d.action for d in decisions) == {"entered": 2, "refused": 3}
    assert all("the limit is 2" in d.detail for d in decisions if d.action == "refused")
    held = sum(len(desk.exchange.subaccount(n).positions()) for n in SUBACCOUNTS)
    assert held == 2


def test_parallel_must_be_at_least_one() -> None:
    desk = PaperDesk()
    with pytest.raises(ValueError, match="parallel must be at least 1"):
        LiveTrader(InProcessSandbox(), desk.prices, desk.ledger, desk.exchange, desk.clock, RiskPolicy(), ["BTC"],
                   max_slippage=0.01, parallel=0)
