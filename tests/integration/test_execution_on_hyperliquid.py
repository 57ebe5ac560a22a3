"""The execution use cases on the real SDK adapter against the fake Hyperliquid, over HTTP.

What users of other bots report going wrong is checked here on the venue's own state: orders
for one subaccount landing elsewhere, an order doubled by a retry after a lost reply, and a
position nobody recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from adapters.clock.system import SystemClock
from adapters.memory.event_store import InMemoryEventStore
from application.event_codec import decode
from application.open_position import EntryRequest, PositionOpener, ProtectionFailed
from application.reconcile_subaccount import Reconciler
from application.stop_strategy import StrategyStopper
from application.strategy_repository import StrategyRepository
from application.subaccount_ledger import SubaccountLedger, subaccount_stream
from domain import execution_events as xe
from domain.events import TradeClosed
from domain.lifecycle import Strategy, StrategyStatus
from tests.contract.hyperliquid_harness import SUBACCOUNT_ADDRESSES, HyperliquidHarness

BAR = datetime(2024, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def venue() -> Iterator[HyperliquidHarness]:
    harness = HyperliquidHarness(timeout_s=1.0, retries=3)
    try:
        yield harness
    finally:
        harness.close()


def _entry(subaccount: int, strategy_id: str = "strat-a") -> EntryRequest:
    return EntryRequest(subaccount=subaccount, strategy_id=strategy_id, symbol="BTC", side="buy", size=0.004,
                        bar_time=BAR, max_slippage=0.01, stop_loss=58000.0, take_profit=64000.0)


def _fills(venue: HyperliquidHarness, subaccount: int) -> list[dict[str, object]]:
    return venue.fake.fills(SUBACCOUNT_ADDRESSES[subaccount])


def test_an_entry_for_subaccount_2_lands_in_vault_2_only_with_its_stops(venue: HyperliquidHarness) -> None:
    store = InMemoryEventStore()
    opener = PositionOpener(SubaccountLedger(store), venue.exchange(), SystemClock())
    result = opener.open(_entry(2))
    assert result.status == "filled" and len(result.protective_order_ids) == 2
    vault = SUBACCOUNT_ADDRESSES[2]
    assert venue.fake.position(vault, "BTC") == pytest.approx(0.004)
    assert sorted(o["orderType"] for o in venue.fake.open_orders(vault)) == ["Stop Market", "Take Profit Market"]
    for other in (1, 3):
        assert venue.fake.position(SUBACCOUNT_ADDRESSES[other], "BTC") == 0
        assert not venue.fake.open_orders(SUBACCOUNT_ADDRESSES[other])
    actions = venue.fake.recorded_actions()
    assert actions and {(a.signer, a.vault) for a in actions} == {(venue.master, vault)}


def test_a_lost_reply_then_a_retry_leaves_exactly_one_order(venue: HyperliquidHarness) -> None:
    store = InMemoryEventStore()
    opener = PositionOpener(SubaccountLedger(store), venue.exchange(), SystemClock())
    venue.fake.lose_reply(times=1)
    result = opener.open(EntryRequest(subaccount=1, strategy_id="strat-a", symbol="BTC", side="buy", size=0.004,
                                      bar_time=BAR, max_slippage=0.01))
    assert result.status == "filled"
    assert len(_fills(venue, 1)) == 1 and venue.fake.position(SUBACCOUNT_ADDRESSES[1], "BTC") == pytest.approx(0.004)
    restarted = PositionOpener(SubaccountLedger(store), venue.restart(), SystemClock())
    assert restarted.open(EntryRequest(subaccount=1, strategy_id="strat-a", symbol="BTC", side="buy", size=0.004,
                                       bar_time=BAR, max_slippage=0.01)).status == "duplicate"
    assert len(_fills(venue, 1)) == 1


def test_reconciliation_finds_a_position_opened_behind_our_back_and_a_stop_that_fired(
        venue: HyperliquidHarness) -> None:
    store = InMemoryEventStore()
    ledger = SubaccountLedger(store)
    reconciler = Reconciler(ledger, venue.exchange(), SystemClock())
    PositionOpener(ledger, venue.exchange(), SystemClock()).open(_entry(1))
    venue.trade_behind_back(3, "ETH", "sell", 0.1)
    venue.move_price("BTC", 57000.0)
    reports = {r.subaccount: r for r in reconciler.reconcile_all()}
    assert reports[1].fills_imported == 1
    assert [(d.kind, d.key, d.difference) for d in reports[3].differences] == [("position", "ETH", "unexpected")]
    assert reports[2].clean
    stream_3 = [decode(e) for e in store.read_stream(subaccount_stream(3))]
    [found] = [e for e in stream_3 if isinstance(e, xe.PositionReconciled)]
    assert found.exchange is not None and found.exchange["direction"] == "short"
    assert found.exchange["size"] == pytest.approx(0.1)
    stream_1 = [decode(e) for e in store.read_stream(subaccount_stream(1))]
    assert [t.exit_reason for t in stream_1 if isinstance(t, TradeClosed)] == ["stop_loss"]
    assert all(r.clean for r in reconciler.reconcile_all())


def test_stopping_a_live_strategy_flattens_its_vault(venue: HyperliquidHarness) -> None:
    store = InMemoryEventStore()
    ledger, strategies, clock = SubaccountLedger(store), StrategyRepository(store), SystemClock()
    strategy = Strategy.generate("strat-a", "A", "MOM", "1h", "code", "test")
    strategy.record_backtest(backtest_id="bt", symbol="BTC", timeframe="1h", period_start=BAR,
                             period_end=BAR.replace(day=20), total_trades=40, win_rate=0.5, sharpe=1.2,
                             total_return=0.1, max_drawdown=0.1, expectancy=0.01)
    strategy.mark_tested("bt")
    strategy.select(80.0, 1)
    strategy.deploy(2, "live")
    strategies.save(strategy)
    book = ledger.load(2)
    book.assign("strat-a", "live", 100.0, clock.now())
    ledger.save(book)
    PositionOpener(ledger, venue.exchange(), clock).open(_entry(2))
    report = StrategyStopper(strategies, ledger, venue.exchange(), clock, 0.01).stop("strat-a", "manual stop")
    vault = SUBACCOUNT_ADDRESSES[2]
    assert venue.fake.position(vault, "BTC") == 0 and not venue.fake.open_orders(vault)
    assert report.closed_symbols == ("BTC",) and len(report.cancelled_orders) == 2
    assert strategies.get("strat-a").status == StrategyStatus.RETIRED
    assert ledger.load(2).is_free


def _status_checks(venue: HyperliquidHarness) -> int:
    return int(venue.fake.inspect(lambda _: venue.fake.info_requests.get("orderStatus", 0)))


def test_a_first_entry_and_its_stops_go_out_without_asking_the_venue_first(venue: HyperliquidHarness) -> None:
    """The entry was recorded just now and never sent, so neither it nor its triggers can be on the
    venue already: two fewer round trips per entry than asking for each trigger."""
    opener = PositionOpener(SubaccountLedger(InMemoryEventStore()), venue.exchange(), SystemClock())
    before = _status_checks(venue)
    result = opener.open(_entry(1))
    assert result.status == "filled" and len(result.protective_order_ids) == 2
    assert _status_checks(venue) == before
    assert len(venue.fake.open_orders(SUBACCOUNT_ADDRESSES[1])) == 2



@pytest.mark.parametrize("take_profit_pct", [-2.0, float("inf")])
def test_an_entry_whose_target_cannot_be_placed_is_closed_on_the_venue(venue: HyperliquidHarness,
                                                                       take_profit_pct: float) -> None:
    store = InMemoryEventStore()
    ledger = SubaccountLedger(store)
    opener = PositionOpener(ledger, venue.exchange(), SystemClock())
    request = EntryRequest(subaccount=1, strategy_id="strat-a", symbol="BTC", side="buy", size=0.004, bar_time=BAR,
                           max_slippage=0.01, stop_loss_pct=0.03, take_profit_pct=take_profit_pct)
    with pytest.raises(ProtectionFailed, match="position was closed"):
        opener.open(request)
    vault = SUBACCOUNT_ADDRESSES[1]
    assert venue.fake.position(vault, "BTC") == 0 and not venue.fake.open_orders(vault)
    book = ledger.load(1)
    assert not book.positions and not book.open_orders and not book.pending_orders
