"""A crafted crash, replayed through the live loop: the emergency stop flattens the subaccount."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from adapters.inprocess.sandbox import InProcessSandbox
from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.live_candles import MemoryLiveCandles
from adapters.paper.exchange import PaperExchange
from application.emergency_stops import EmergencyStops
from application.event_codec import decode
from application.live_trader import LiveStrategy, LiveTrader
from application.replay import LiveReplay
from application.stop_strategy import StrategyStopper
from application.strategy_repository import StrategyRepository
from application.subaccount_ledger import SubaccountLedger, subaccount_stream
from domain import execution_events as xe
from domain.instruments import Instrument
from domain.lifecycle import Strategy, StrategyStatus
from domain.risk import RiskPolicy
from tests.execution_support import ALWAYS_LONG

START = datetime(2024, 3, 1, tzinfo=UTC)


def _crash() -> pd.DataFrame:
    """Flat at 100 for a day, then down 8% an hour."""
    closes = np.r_[np.full(24, 100.0), 100.0 * 0.92 ** np.arange(1, 25)]
    opens = np.r_[100.0, closes[:-1]]
    index = pd.date_range(START, periods=len(closes), freq="1h", tz="UTC", name="timestamp")
    return pd.DataFrame({"open": opens, "high": np.maximum(opens, closes), "low": np.minimum(opens, closes),
                         "close": closes, "volume": 1.0}, index=index)


def test_a_crash_in_replay_fires_the_emergency_stop_and_flattens() -> None:
    store = InMemoryEventStore()
    clock = ManualClock(START - timedelta(minutes=1))
    feed = MemoryLiveCandles(clock=clock)
    venue = PaperExchange(store, feed, clock, subaccounts=(1,), capital=1000.0, fee_rate=0.00045, slippage=0.0005,
                          price_timeframe="1h", leverage=3, instruments={"SOL": Instrument("SOL", 2)})
    strategies, ledger = StrategyRepository(store), SubaccountLedger(store)
    strategy = Strategy.generate("crashy", "AlwaysLong", "MOM", "1h", ALWAYS_LONG, "test", at=clock.now())
    strategy.record_backtest(backtest_id="bt", symbol="SOL", timeframe="1h", period_start=START,
                             period_end=START + timedelta(days=2), total_trades=30, win_rate=0.5, sharpe=1.0,
                             total_return=0.1, max_drawdown=0.1, expectancy=0.01, at=clock.now())
    strategy.mark_tested("bt", at=clock.now())
    strategy.select(80.0, 1, at=clock.now())
    strategy.deploy(1, "paper", at=clock.now())
    strategies.save(strategy)
    book = ledger.load(1)
    book.fund(1000.0, clock.now())
    book.assign("crashy", "paper", 1000.0, clock.now())
    ledger.save(book)
    risk = RiskPolicy(max_position_size=1.0, risk_per_trade=0.02, max_drawdown=0.25, max_daily_loss=0.5)
    trader = LiveTrader(InProcessSandbox(), feed, ledger, venue, clock, risk, ["SOL"], max_slippage=0.01,
                        lookback=100)
    emergency = EmergencyStops(ledger, venue, StrategyStopper(strategies, ledger, venue, clock, 0.05), clock, risk,
                               0.05)
    report = LiveReplay(trader, emergency, feed, clock, "1h").run([LiveStrategy("crashy", ALWAYS_LONG, "1h", 1)],
                                                                  {"SOL": _crash()})
    [outcome] = report.emergencies
    assert outcome.strategy_id == "crashy" and "drawdown" in outcome.reason and outcome.closed_symbols == ("SOL",)
    assert not venue.subaccount(1).positions() and not venue.subaccount(1).open_orders()
    assert strategies.get("crashy").status == StrategyStatus.RETIRED
    events = [decode(e) for e in store.read_stream(subaccount_stream(1))]
    [triggered] = [e for e in events if isinstance(e, xe.EmergencyStopTriggered)]
    snapshots = [e for e in events if e.event_type() == "PortfolioSnapshotTaken"]
    stopped_at = triggered.occurred_at
    assert max(s.drawdown for s in snapshots if s.occurred_at <= stopped_at) > 0.25
    entries_after = [e for e in events if e.event_type() == "OrderFilled" and e.occurred_at > stopped_at]
    assert entries_after == [], "nothing trades after the emergency stop"
