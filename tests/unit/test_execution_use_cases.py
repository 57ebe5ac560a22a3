"""Opening, stopping, deploying, rotating and reconciling on a paper venue, checked on end state."""

from __future__ import annotations

import pytest

from application.deploy_strategies import DeploymentRefused, DeploymentRequest
from application.event_codec import decode
from application.open_position import EntryRequest, PositionOpener, ProtectionFailed
from application.ports.exchange import ExchangeUnavailable, MarketOrderRequest
from application.stop_strategy import NotDeployed
from application.subaccount_ledger import subaccount_stream
from domain import execution_events as xe
from domain.client_order_ids import order_intent_id
from domain.events import DomainEvent, OrderFilled, StrategyDeployed, TradeClosed
from domain.lifecycle import StrategyStatus
from domain.trading import Order
from tests.execution_support import T0, PaperDesk


def _events(desk: PaperDesk, subaccount: int) -> list[DomainEvent]:
    return [decode(e) for e in desk.store.read_stream(subaccount_stream(subaccount))]


def _entry(strategy_id: str = "strat-1", subaccount: int = 1, **overrides: object) -> EntryRequest:
    values: dict[str, object] = {"subaccount": subaccount, "strategy_id": strategy_id, "symbol": "BTC",
                                 "side": "buy", "size": 0.01, "bar_time": T0, "max_slippage": 0.01,
                                 "stop_loss": 57000.0, "take_profit": 66000.0}
    values.update(overrides)
    return EntryRequest(**values)  # type: ignore[arg-type]


def test_an_entry_is_sent_once_booked_and_protected_on_the_venue() -> None:
    desk = PaperDesk()
    result = desk.opener.open(_entry())
    assert result.status == "filled" and result.filled_size == pytest.approx(0.01)
    assert desk.opener.open(_entry()).status == "duplicate"
    venue = desk.exchange.subaccount(1)
    assert [p.size for p in venue.positions()] == [pytest.approx(0.01)]
    assert sorted(o.kind for o in venue.open_orders()) == ["stop_loss", "take_profit"]
    assert len(venue.fills_since(T0)) == 1
    book = desk.ledger.load(1)
    assert set(book.open_orders) == set(result.protective_order_ids) and not book.pending_orders
    assert len([e for e in _events(desk, 1) if isinstance(e, OrderFilled)]) == 1


class _FillsUnreadable:
    """The venue, except that reading fills fails (and each call is noted, in order)."""

    def __init__(self, inner: object, calls: list[str]) -> None:
        self._inner = inner
        self._calls = calls

    def fills_since(self, since: object) -> object:
        self._calls.append("fills_since")
        raise ExchangeUnavailable("fills read timed out")

    def __getattr__(self, name: str) -> object:
        self._calls.append(name)
        return getattr(self._inner, name)


class _Venue:
    def __init__(self, inner: object, sub: object) -> None:
        self._inner, self._sub = inner, sub

    def subaccount(self, number: int) -> object:
        return self._sub

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def test_the_stop_and_target_rest_before_the_fills_are_read() -> None:
    """Protection does not wait for the fills read: when that read fails the position is already
    protected on the venue, and the entry is left pending for reconciliation to book."""
    desk = PaperDesk()
    calls: list[str] = []
    sub = _FillsUnreadable(desk.exchange.subaccount(1), calls)
    opener = PositionOpener(desk.ledger, _Venue(desk.exchange, sub), desk.clock)  # type: ignore[arg-type]
    with pytest.raises(ExchangeUnavailable, match="fills read"):
        opener.open(_entry())
    assert calls.index("trigger_orders") < calls.index("fills_since")
    venue = desk.exchange.subaccount(1)
    assert [p.size for p in venue.positions()] == [pytest.approx(0.01)]
    assert sorted(o.kind for o in venue.open_orders()) == ["stop_loss", "take_profit"]
    report = desk.reconciler.reconcile(1)
    book = desk.ledger.load(1)
    assert report.fills_imported == 1 and not book.pending_orders
    assert sorted(o.kind for o in book.open_orders.values()) == ["stop_loss", "take_profit"]


@pytest.mark.parametrize("take_profit_pct", [-2.0, float("inf")])
def test_an_entry_whose_target_cannot_be_placed_is_closed_and_nothing_rests(take_profit_pct: float) -> None:
    """The stop goes out with the target; the target is refused (a price below zero, or none):
    the stop is cancelled and the position closed."""
    desk = PaperDesk()
    with pytest.raises(ProtectionFailed, match="position was closed"):
        desk.opener.open(_entry(take_profit=None, take_profit_pct=take_profit_pct))
    venue = desk.exchange.subaccount(1)
    assert venue.positions() == [] and venue.open_orders() == []
    book = desk.ledger.load(1)
    assert not book.positions and not book.open_orders and not book.pending_orders
    assert [t.exit_reason for t in _events(desk, 1) if isinstance(t, TradeClosed)] == ["unprotected"]


def test_a_rejected_entry_is_recorded_with_the_venue_reason() -> None:
    desk = PaperDesk()
    result = desk.opener.open(_entry(size=0.0001))
    assert result.status == "rejected" and "minimum" in (result.reason or "").lower()
    rejected = [e for e in _events(desk, 1) if isinstance(e, xe.OrderRejected)]
    assert rejected and rejected[0].code == "MinTradeNtl"
    assert not desk.ledger.load(1).pending_orders


def test_a_crash_after_sending_is_resolved_from_the_venue_without_a_second_order() -> None:
    desk = PaperDesk()
    book = desk.ledger.load(1)
    order_id = order_intent_id("strat-1", T0, "entry:BTC")
    book.place_order(Order(id=order_id, symbol="BTC", side="buy", size=0.01), "strat-1", T0)
    desk.ledger.save(book)
    desk.exchange.subaccount(1).market_order(MarketOrderRequest(order_id, "BTC", "buy", 0.01, 0.01))
    report = desk.reconciler.reconcile(1)
    assert report.fills_imported == 1 and not report.differences
    book = desk.ledger.load(1)
    assert not book.pending_orders and book.positions["BTC"].size == pytest.approx(0.01)
    assert desk.opener.open(_entry(stop_loss=None, take_profit=None)).status == "duplicate"
    assert len(desk.exchange.subaccount(1).fills_since(T0)) == 1
    assert desk.reconciler.reconcile(1).clean


def test_a_stop_that_fired_while_we_were_away_is_booked_as_a_stop_loss_trade() -> None:
    desk = PaperDesk()
    desk.opener.open(_entry())
    desk.move("BTC", 56000.0)
    report = desk.reconciler.reconcile(1)
    assert report.fills_imported == 1
    trades = [e for e in _events(desk, 1) if isinstance(e, TradeClosed)]
    assert [t.exit_reason for t in trades] == ["stop_loss"] and trades[0].pnl < 0
    assert not desk.ledger.load(1).positions and not desk.exchange.subaccount(1).positions()
    assert desk.reconciler.reconcile(1).clean


def test_reconciliation_finds_and_records_a_position_opened_behind_our_back() -> None:
    desk = PaperDesk()
    other = desk.venue()
    other.subaccount(2).market_order(MarketOrderRequest("0x" + "ab" * 16, "ETH", "sell", 0.2, 0.01))
    report = desk.reconciler.reconcile(2)
    assert [(d.kind, d.key, d.difference) for d in report.differences] == [("position", "ETH", "unexpected")]
    recorded = [e for e in _events(desk, 2) if isinstance(e, xe.PositionReconciled)]
    assert recorded[0].exchange == {"direction": "short", "size": 0.2, "entry_price": pytest.approx(2998.5)}
    assert desk.ledger.load(2).positions["ETH"].direction == "short"
    assert desk.reconciler.reconcile(2).clean
    desk.projections.catch_up()
    rows = desk.read_models.rows("subaccount_positions", {"subaccount": 2})
    assert [(r["symbol"], r["direction"], r["strategy_id"]) for r in rows] == [("ETH", "short", "external")]


def test_test_mode_deploys_the_best_three_each_with_the_test_capital() -> None:
    desk = PaperDesk()
    ids = desk.selected(4)
    report = desk.manager.deploy(DeploymentRequest(plan="test"))
    placed = [(s.strategy_id, s.subaccount, s.capital, s.status) for s in report.steps]
    assert placed[:3] == [(ids[0], 1, 100.0, "deployed"), (ids[1], 2, 100.0, "deployed"),
                          (ids[2], 3, 100.0, "deployed")]
    assert placed[3][0] == ids[3] and placed[3][3] == "skipped"
    assert "no free subaccount" in (report.steps[3].reason or "")
    assert report.mode == "paper"
    for n, strategy_id in enumerate(ids[:3], start=1):
        assert desk.strategies.get(strategy_id).status == StrategyStatus.LIVE
        assigned = [e for e in _events(desk, n) if isinstance(e, xe.StrategyAssigned)]
        assert [(a.strategy_id, a.capital) for a in assigned] == [(strategy_id, 100.0)]
        assert {e.symbol: e.leverage for e in _events(desk, n) if isinstance(e, xe.LeverageSet)} == {"BTC": 2, "ETH": 2}
    assert desk.strategies.get(ids[3]).status == StrategyStatus.SELECTED


def test_full_mode_uses_every_subaccount_with_what_it_holds() -> None:
    desk = PaperDesk()
    ids = desk.selected(5)
    report = desk.manager.deploy(DeploymentRequest(plan="full"))
    assert [(s.subaccount, s.capital) for s in report.steps] == [(n, 1000.0) for n in range(1, 6)]
    assert all(desk.strategies.get(i).status == StrategyStatus.LIVE for i in ids)


def test_a_dry_run_plans_and_writes_nothing() -> None:
    desk = PaperDesk()
    desk.selected(2)
    head = desk.store.head_position()
    report = desk.manager.deploy(DeploymentRequest(plan="test", dry_run=True))
    assert [s.status for s in report.steps] == ["planned", "planned"]
    assert desk.store.head_position() == head


def test_a_subaccount_with_someone_elses_position_is_never_used() -> None:
    desk = PaperDesk()
    ids = desk.selected(1)
    desk.venue().subaccount(1).market_order(MarketOrderRequest("0x" + "cd" * 16, "BTC", "buy", 0.001, 0.01))
    report = desk.manager.deploy(DeploymentRequest(plan="test"))
    assert report.steps[0].subaccount == 2 and report.steps[0].status == "deployed"
    assert desk.ledger.load(1).is_free
    assert desk.strategies.get(ids[0]).subaccount == 2


def test_stopping_cancels_closes_frees_and_retires() -> None:
    desk = PaperDesk()
    [strategy_id] = desk.selected(1)
    desk.manager.deploy(DeploymentRequest(plan="test"))
    desk.opener.open(_entry(strategy_id))
    desk.move("BTC", 61000.0)
    report = desk.manager.stop(strategy_id, "drawdown limit")
    venue = desk.exchange.subaccount(1)
    assert not venue.positions() and not venue.open_orders()
    assert report.closed_symbols == ("BTC",) and len(report.cancelled_orders) == 2 and report.realized_pnl > 0
    strategy = desk.strategies.get(strategy_id)
    assert strategy.status == StrategyStatus.RETIRED and strategy.retired_reason == "drawdown limit"
    book = desk.ledger.load(1)
    assert book.is_free and not book.positions and not book.open_orders
    events = _events(desk, 1)
    assert [t.exit_reason for t in events if isinstance(t, TradeClosed)] == ["stopped"]
    assert any(isinstance(e, xe.OrdersCancelled) for e in events)
    assert isinstance(events[-1], xe.StrategyUnassigned) and events[-1].reason == "drawdown limit"
    with pytest.raises(NotDeployed):
        desk.manager.stop(strategy_id, "again")


def test_rotation_puts_the_new_strategy_on_the_same_subaccount() -> None:
    desk = PaperDesk()
    old, new = desk.selected(2)
    desk.manager.deploy(DeploymentRequest(plan="test", strategy_ids=(old,)))
    stopped, step = desk.manager.rotate(old, new, "underperforming")
    assert stopped.subaccount == step.subaccount == 1 and step.capital == 100.0
    assert desk.strategies.get(old).status == StrategyStatus.RETIRED
    assert "rotated out for" in (desk.strategies.get(old).retired_reason or "")
    assert desk.strategies.get(new).subaccount == 1
    assigned = [e for e in _events(desk, 1) if isinstance(e, xe.StrategyAssigned)]
    assert [(a.strategy_id, a.replaces) for a in assigned] == [(old, None), (new, old)]
    with pytest.raises(DeploymentRefused):
        desk.manager.rotate(new, old, "back")
    deployed = [decode(e) for e in desk.store.read_all() if e.event_type == "StrategyDeployed"]
    assert [d.aggregate_id for d in deployed if isinstance(d, StrategyDeployed)] == [old, new]


def test_read_models_follow_the_subaccounts() -> None:
    desk = PaperDesk()
    [strategy_id] = desk.selected(1)
    desk.manager.deploy(DeploymentRequest(plan="test"))
    desk.opener.open(_entry(strategy_id))
    desk.projections.catch_up()
    [row] = desk.read_models.rows("subaccounts")
    assert (row["subaccount"], row["status"], row["strategy_id"], row["capital"]) == (1, "active", strategy_id, 100.0)
    orders = {r["kind"]: r["status"] for r in desk.read_models.rows("orders")}
    assert orders == {"market": "filled", "stop_loss": "open", "take_profit": "open"}
    desk.manager.stop(strategy_id, "manual")
    desk.projections.catch_up()
    [row] = desk.read_models.rows("subaccounts")
    assert row["status"] == "free" and row["previous_strategy_id"] == strategy_id
    statuses = sorted(r["status"] for r in desk.read_models.rows("orders"))
    assert statuses == ["cancelled", "cancelled", "filled", "filled"]
