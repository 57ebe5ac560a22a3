"""The live session on a paper venue: reconcile first, decide on the bar that closed, stop cleanly."""

from __future__ import annotations

from datetime import timedelta

from adapters.inprocess.sandbox import InProcessSandbox
from application.deploy_strategies import DeploymentRequest
from application.emergency_stops import EmergencyStops
from application.live_session import LiveSession, ShutdownPolicy
from application.live_trader import LiveStrategy, LiveTrader
from application.open_position import EntryRequest
from application.ports.exchange import MarketOrderRequest
from application.stop_strategy import StrategyStopper
from domain.risk import RiskPolicy
from tests.execution_support import ALWAYS_LONG, T0, PaperDesk


def _session(desk: PaperDesk, policy: ShutdownPolicy) -> LiveSession:
    risk = RiskPolicy(max_position_size=0.5)
    trader = LiveTrader(InProcessSandbox(), desk.prices, desk.ledger, desk.exchange, desk.clock, risk, ["BTC"],
                        max_slippage=0.01, lookback=50)
    stopper = StrategyStopper(desk.strategies, desk.ledger, desk.exchange, desk.clock, 0.01)
    emergency = EmergencyStops(desk.ledger, desk.exchange, stopper, desk.clock, risk, 0.01)
    live = [LiveStrategy("strat-1", ALWAYS_LONG, "1h", 1)]
    return LiveSession(trader, emergency, desk.reconciler, desk.ledger, desk.exchange, desk.clock, lambda: live,
                       policy)


def _hourly_bars(desk: PaperDesk, hours: int) -> None:
    for hour in range(1, hours + 1):
        opened = T0 + timedelta(hours=hour)
        desk.prices.append("BTC", "1h", opened, 60000.0, 60100.0, 59900.0, 60000.0 + hour)
    desk.clock.advance(T0 + timedelta(hours=hours + 1, seconds=5) - desk.clock.now())


def test_start_reconciles_then_the_closed_bar_is_decided_and_shutdown_cancels_but_keeps_positions() -> None:
    desk = PaperDesk()
    [strategy_id] = desk.selected(1)
    desk.manager.deploy(DeploymentRequest(plan="test"))
    desk.venue().subaccount(2).market_order(MarketOrderRequest("0x" + "ef" * 16, "ETH", "buy", 0.01, 0.01))
    session = _session(desk, ShutdownPolicy(cancel_orders=True, close_positions=False))
    reports = {r.subaccount: r for r in session.start()}
    assert [d.difference for d in reports[2].differences] == ["unexpected"]
    _hourly_bars(desk, 3)
    desk.prices.append("BTC", "1m", desk.clock.now().replace(second=0), 60003.0, 60003.0, 60003.0, 60003.0)
    decisions = session.on_candle_close("1h")
    assert [(d.strategy_id, d.symbol, d.action) for d in decisions] == [(strategy_id, "BTC", "entered")]
    assert session.on_candle_close("15m") == []
    desk.opener.open(EntryRequest(subaccount=1, strategy_id=strategy_id, symbol="ETH", side="buy", size=0.01,
                                  bar_time=T0, max_slippage=0.01, stop_loss=2900.0))
    assert desk.exchange.subaccount(1).open_orders()
    session.stop()
    venue = desk.exchange.subaccount(1)
    assert not venue.open_orders() and {p.symbol for p in venue.positions()} == {"BTC", "ETH"}
    assert not desk.ledger.load(1).open_orders


def test_shutdown_closes_positions_when_configured() -> None:
    desk = PaperDesk()
    [strategy_id] = desk.selected(1)
    desk.manager.deploy(DeploymentRequest(plan="test"))
    desk.opener.open(EntryRequest(subaccount=1, strategy_id=strategy_id, symbol="BTC", side="buy", size=0.001,
                                  bar_time=T0, max_slippage=0.01, stop_loss=55000.0))
    _session(desk, ShutdownPolicy(cancel_orders=True, close_positions=True)).stop()
    venue = desk.exchange.subaccount(1)
    assert not venue.positions() and not venue.open_orders()
    assert not desk.ledger.load(1).positions


def test_the_open_position_cap_across_subaccounts_refuses_with_an_event() -> None:
    from application.event_codec import decode
    from application.subaccount_ledger import subaccount_stream
    from domain import execution_events as xe

    desk = PaperDesk()
    first, second = desk.selected(2)
    desk.manager.deploy(DeploymentRequest(plan="test"))
    trader = LiveTrader(InProcessSandbox(), desk.prices, desk.ledger, desk.exchange, desk.clock,
                        RiskPolicy(max_position_size=0.5, max_open_positions=1), ["BTC"], max_slippage=0.01,
                        lookback=50)
    _hourly_bars(desk, 3)
    desk.prices.append("BTC", "1m", desk.clock.now().replace(second=0), 60003.0, 60003.0, 60003.0, 60003.0)
    decisions = trader.on_bar_close([LiveStrategy(first, ALWAYS_LONG, "1h", 1), LiveStrategy(second, ALWAYS_LONG,
                                                                                             "1h", 2)],
                                    T0 + timedelta(hours=3))
    assert [d.action for d in decisions] == ["entered", "refused"]
    refused = [e for e in map(decode, desk.store.read_stream(subaccount_stream(2)))
               if isinstance(e, xe.SignalRefused)]
    assert len(refused) == 1 and "limit is 1" in refused[0].reason
