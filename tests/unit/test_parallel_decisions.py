"""Subaccounts decided at the same time give the decisions of one after another; when entries
compete for the last open-position slots, they act in turn, so the slots go by order, not by speed.
When even the most entries a bar could bring fit, each subaccount's orders go out as soon as its
own signals are in; when they might not, every signal comes first."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
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


def _funded_desk() -> PaperDesk:
    """Subaccounts 1-5 funded and assigned to strat-1 .. strat-5."""
    desk = PaperDesk()
    for number in SUBACCOUNTS:
        book = desk.ledger.load(number)
        book.fund(1000.0, desk.clock.now())
        book.assign(f"strat-{number}", "paper", 1000.0, desk.clock.now())
        desk.ledger.save(book)
    return desk


def _decide(parallel: int, max_open: int, slow: bool = False, venue: Any = None, sandbox: Any = None,
            symbols: tuple[str, ...] = ("BTC",)) -> tuple[list[Decision], PaperDesk]:
    desk = _funded_desk()
    desk.prices.append("ETH", "1h", T0, 3000.0, 3000.0, 3000.0, 3000.0)  # no bar closes on ETH at the decision
    closed = _bars(desk, 3)
    venue = venue(desk.exchange) if venue is not None else SlowVenue(desk.exchange) if slow else desk.exchange
    trader = LiveTrader(sandbox or InProcessSandbox(), desk.prices, desk.ledger, venue, desk.clock,
                        RiskPolicy(max_position_size=0.2, max_open_positions=max_open), list(symbols),
                        max_slippage=0.01, lookback=50, parallel=parallel)
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


class Journal:
    """What happened, in order, across threads: ("signals", strategy) and ("order", subaccount)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: list[tuple[str, Any]] = []
        self.entry_of_1 = threading.Event()
        """Set when subaccount 1's entry is acked."""

    def note(self, kind: str, who: Any) -> None:
        with self.lock:
            self.entries.append((kind, who))


class JournalSandbox:
    """Signals as usual, noted; strat-2's wait (at most `wait_s`) for strat-1's entry to be acked."""

    def __init__(self, journal: Journal, wait_s: float = 0.0) -> None:
        self._inner = InProcessSandbox()
        self._journal = journal
        self._wait_s = wait_s
        self.waited_out = False

    def signals(self, code: str, origin: str, params: Mapping[str, Any] | None,
                frames: Mapping[str, pd.DataFrame], last_rows: int | None = None) -> dict[str, pd.DataFrame]:
        if origin == "strat-2" and self._wait_s:
            self.waited_out = not self._journal.entry_of_1.wait(self._wait_s)
        out = self._inner.signals(code, origin, params, frames, last_rows)
        self._journal.note("signals", origin)
        return out


class JournalOrders:
    def __init__(self, inner: Any, journal: Journal) -> None:
        self._inner = inner
        self._journal = journal

    def market_order(self, request: Any) -> Any:
        time.sleep(0.05)  # as SlowOrders: the other threads get going meanwhile
        ack = self._inner.market_order(request)
        self._journal.note("order", (self._inner.subaccount, threading.current_thread().name))
        if self._inner.subaccount == 1:
            self._journal.entry_of_1.set()
        return ack

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _journal_venue(journal: Journal) -> Any:
    class Venue:
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def subaccount(self, number: int) -> Any:
            return JournalOrders(self._inner.subaccount(number), journal)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

    return Venue


def test_when_every_possible_entry_fits_a_subaccount_orders_without_waiting_for_the_others_signals() -> None:
    journal = Journal()
    sandbox = JournalSandbox(journal, wait_s=10.0)
    decisions, _ = _decide(parallel=5, max_open=5, venue=_journal_venue(journal), sandbox=sandbox)
    assert not sandbox.waited_out, "strat-2's signals waited for strat-1's entry, which went out first"
    assert [d.action for d in decisions] == ["entered"] * len(SUBACCOUNTS)
    assert [d.strategy_id for d in decisions] == [f"strat-{n}" for n in SUBACCOUNTS]
    first_order = next(i for i, (kind, who) in enumerate(journal.entries) if kind == "order" and who[0] == 1)
    assert journal.entries.index(("signals", "strat-2")) > first_order


def test_when_the_possible_entries_might_not_fit_every_signal_comes_before_the_first_order() -> None:
    journal = Journal()
    # 5 subaccounts x 2 symbols could be 10 entries, over the limit of 5; the signals ask for 5 (BTC only)
    decisions, desk = _decide(parallel=5, max_open=5, venue=_journal_venue(journal), sandbox=JournalSandbox(journal),
                              symbols=("BTC", "ETH"))
    assert [d.action for d in decisions] == ["entered"] * len(SUBACCOUNTS)
    kinds = [kind for kind, _ in journal.entries]
    assert kinds == ["signals"] * len(SUBACCOUNTS) + ["order"] * len(SUBACCOUNTS)
    assert len({who[1] for kind, who in journal.entries if kind == "order"}) > 1, "the orders went out at once"
    assert sum(len(desk.exchange.subaccount(n).positions()) for n in SUBACCOUNTS) == 5


def test_parallel_must_be_at_least_one() -> None:
    desk = PaperDesk()
    with pytest.raises(ValueError, match="parallel must be at least 1"):
        LiveTrader(InProcessSandbox(), desk.prices, desk.ledger, desk.exchange, desk.clock, RiskPolicy(), ["BTC"],
                   max_slippage=0.01, parallel=0)


def _deciding_threads() -> set[int]:
    return {t.ident for t in threading.enumerate() if t.name.startswith("decide") and t.ident is not None}


def test_the_deciding_threads_are_kept_from_bar_to_bar_and_stopped_by_close() -> None:
    desk = _funded_desk()
    before = _deciding_threads()
    trader = LiveTrader(InProcessSandbox(), desk.prices, desk.ledger, SlowVenue(desk.exchange), desk.clock,
                        RiskPolicy(max_position_size=0.2, max_open_positions=10), ["BTC"], max_slippage=0.01,
                        lookback=50, parallel=5)
    live = [LiveStrategy(f"strat-{n}", ALWAYS_LONG, "1h", n) for n in SUBACCOUNTS]
    assert [d.action for d in trader.on_bar_close(live, _bars(desk, 3))] == ["entered"] * len(SUBACCOUNTS)
    started = _deciding_threads() - before
    assert 1 < len(started) <= 5
    for hours in (4, 5):
        assert [d.action for d in trader.on_bar_close(live, _bars(desk, hours))] == ["held"] * len(SUBACCOUNTS)
        assert _deciding_threads() - before == started, "the same threads decide every bar"
    trader.close()
    assert _deciding_threads() - before == set()
    trader.close()  # twice is harmless
