"""A paper venue and the execution use cases on in-memory stores, for application tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.live_candles import MemoryLiveCandles
from adapters.memory.read_models import InMemoryReadModels
from adapters.paper.exchange import PaperExchange
from application.deploy_strategies import DeploymentPolicy, SubaccountManager
from application.open_position import PositionOpener
from application.ports.event_store import EventStore
from application.projections.read_models import ALL_PROJECTIONS
from application.projections.runner import ProjectionRunner
from application.reconcile_subaccount import Reconciler
from application.strategy_repository import StrategyRepository
from application.subaccount_ledger import SubaccountLedger
from domain.lifecycle import Strategy

T0 = datetime(2024, 3, 1, tzinfo=UTC)
# A 1h strategy that wants a long on every bar, without stops.
ALWAYS_LONG = '''
import pandas as pd
import numpy as np
from domain.strategy import StrategyCore

class AlwaysLong(StrategyCore):
    type = "MOM"
    timeframe = "1h"

    def signals(self, df):
        n = len(df)
        return pd.DataFrame({"long_entry": np.ones(n, dtype=bool), "short_entry": np.zeros(n, dtype=bool),
                             "exit": np.zeros(n, dtype=bool), "size": np.full(n, 1.0),
                             "sl_pct": np.full(n, np.nan), "tp_pct": np.full(n, np.nan)}, index=df.index)
'''
CAPITAL = 1000.0


@dataclass
class PaperDesk:
    """Everything the execution use cases need, on one paper venue that tests move by hand."""

    store: EventStore = field(default_factory=InMemoryEventStore)
    clock: ManualClock = field(default_factory=lambda: ManualClock(T0))
    prices: MemoryLiveCandles = field(default_factory=MemoryLiveCandles)
    last: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.read_models = InMemoryReadModels()
        self.projections = ProjectionRunner(self.store, self.read_models, ALL_PROJECTIONS)
        for symbol, price in {"BTC": 60000.0, "ETH": 3000.0}.items():
            self.prices.append(symbol, "1m", T0, price, price, price, price)
            self.last[symbol] = price
        self.exchange = self.venue()
        self.ledger = SubaccountLedger(self.store)
        self.strategies = StrategyRepository(self.store)
        self.opener = PositionOpener(self.ledger, self.exchange, self.clock)
        self.reconciler = Reconciler(self.ledger, self.exchange, self.clock)
        self.policy = DeploymentPolicy(test_subaccounts=3, test_capital=100.0, subaccount_count=5, leverage=2,
                                       symbols=("BTC", "ETH"), max_slippage=0.01)
        self.manager = SubaccountManager(self.strategies, self.ledger, self.exchange, self.read_models,
                                         self.clock, self.policy, catch_up=self.projections.catch_up)

    def venue(self) -> PaperExchange:
        """Another adapter over the same paper ledger: a restart, or someone else's order entry."""
        return PaperExchange(self.store, self.prices, self.clock, subaccounts=(1, 2, 3, 4, 5), capital=CAPITAL,
                             fee_rate=0.00045, slippage=0.0005, leverage=1)

    def move(self, symbol: str, price: float) -> None:
        """The next minute's bar trades from the last price to `price`."""
        self.clock.advance(timedelta(minutes=1))
        minute = self.clock.now().replace(second=0, microsecond=0)
        previous = self.last[symbol]
        self.prices.append(symbol, "1m", minute, previous, max(previous, price), min(previous, price), price)
        self.last[symbol] = price
        self.clock.advance(timedelta(seconds=1))

    def selected(self, count: int) -> list[str]:
        ids = []
        for rank in range(1, count + 1):
            strategy = Strategy.generate(f"strat-{rank}", f"S{rank}", "MOM", "1h", "code", "test", at=T0)
            strategy.record_backtest(backtest_id=f"bt-{rank}", symbol="BTC", timeframe="1h", period_start=T0,
                                     period_end=T0 + timedelta(days=30), total_trades=40, win_rate=0.5, sharpe=1.5,
                                     total_return=0.2, max_drawdown=0.1, expectancy=0.01, at=T0)
            strategy.mark_tested(f"bt-{rank}", at=T0)
            strategy.select(90.0 - rank, rank, at=T0)
            self.strategies.save(strategy)
            ids.append(strategy.id)
        return ids
