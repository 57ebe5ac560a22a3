"""`sixbtc run --replay`: the live loop on historical candles, on a simulated clock, on paper.

A replay is a rehearsal: it runs on its own in-memory event store, so nothing it does lands in the
database the live system reads. The strategies are the LIVE ones (or those named), each on its
own paper subaccount with `trading.subaccounts.test_mode_capital`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from adapters.candle_files.source import FileCandleSource
from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.live_candles import MemoryLiveCandles
from adapters.paper.exchange import PaperExchange
from application.emergency_stops import EmergencyStops
from application.event_codec import decode
from application.live_trader import LiveStrategy, LiveTrader
from application.ports.strategy_sandbox import StrategySandbox
from application.replay import LiveReplay
from application.stop_strategy import StrategyStopper
from application.strategy_repository import StrategyRepository
from application.subaccount_ledger import SubaccountLedger, subaccount_stream
from domain.candles import timeframe_delta
from domain.events import TradeClosed
from domain.lifecycle import Strategy
from domain.risk import RiskPolicy
from entrypoints.settings import Settings

WARMUP_BARS = 300


@dataclass(frozen=True)
class ReplayedStrategy:
    strategy_id: str
    subaccount: int
    timeframe: str
    trades: int
    pnl: float
    final_equity: float
    emergency: str | None


def replay(settings: Settings, strategies: Sequence[Strategy], data: str, start: datetime, end: datetime,
           risk: RiskPolicy, sandbox: StrategySandbox) -> list[ReplayedStrategy]:
    """Each timeframe's strategies replayed together on one simulated venue, bar by bar."""
    results: list[ReplayedStrategy] = []
    by_timeframe: dict[str, list[Strategy]] = {}
    for strategy in strategies:
        by_timeframe.setdefault(strategy.timeframe, []).append(strategy)
    source = FileCandleSource(data, settings.trading.symbols)
    symbols = tuple(settings.trading.symbols)
    numbered = iter(range(1, len(strategies) + 1))
    for timeframe, group in sorted(by_timeframe.items()):
        candles = {s: _window(source.load(s, timeframe), timeframe, start, end) for s in symbols}
        placed = {strategy.id: next(numbered) for strategy in group}
        results += _replay_group(settings, group, placed, candles, timeframe, start, end, risk, sandbox)
    return results


def _window(frame: pd.DataFrame, timeframe: str, start: datetime, end: datetime) -> pd.DataFrame:
    warmup = pd.Timestamp(start) - WARMUP_BARS * timeframe_delta(timeframe)
    return frame[(frame.index >= warmup) & (frame.index < pd.Timestamp(end))]


def _replay_group(settings: Settings, group: Sequence[Strategy], placed: Mapping[int | str, int],
                  candles: Mapping[str, pd.DataFrame], timeframe: str, start: datetime, end: datetime,
                  risk: RiskPolicy, sandbox: StrategySandbox) -> list[ReplayedStrategy]:
    store = InMemoryEventStore()
    first = min(frame.index[0] for frame in candles.values() if len(frame)).to_pydatetime()
    clock = ManualClock(first - timedelta(minutes=1))
    feed = MemoryLiveCandles(clock=clock)
    capital = settings.trading.subaccounts.test_mode_capital
    venue = PaperExchange(store, feed, clock, subaccounts=tuple(placed.values()), capital=capital,
                          fee_rate=settings.hyperliquid.fee_rate, slippage=settings.hyperliquid.slippage,
                          min_notional=settings.hyperliquid.min_notional, leverage=settings.trading.leverage,
                          price_timeframe=timeframe)
    repository, ledger = StrategyRepository(store), SubaccountLedger(store)
    for strategy in group:
        copy = _live_copy(strategy, placed[strategy.id], clock.now())
        repository.save(copy)
        book = ledger.load(placed[strategy.id])
        book.fund(capital, clock.now())
        book.assign(strategy.id, "paper", capital, clock.now())
        ledger.save(book)
    slippage = settings.trading.max_slippage
    trader = LiveTrader(sandbox, feed, ledger, venue, clock, risk, tuple(candles), slippage, lookback=WARMUP_BARS)
    emergency = EmergencyStops(ledger, venue, StrategyStopper(repository, ledger, venue, clock, slippage), clock,
                               risk, slippage)
    live = [LiveStrategy(s.id, s.code, timeframe, placed[s.id]) for s in group]
    report = LiveReplay(trader, emergency, feed, clock, timeframe).run(live, candles, start, end)
    stopped = {o.strategy_id: o.reason for o in report.emergencies}
    out = []
    for strategy in group:
        number = placed[strategy.id]
        trades = [e for e in map(decode, store.read_stream(subaccount_stream(number))) if isinstance(e, TradeClosed)]
        out.append(ReplayedStrategy(strategy.id, number, timeframe, len(trades), sum(t.pnl for t in trades),
                                    venue.subaccount(number).account().account_value, stopped.get(strategy.id)))
    return out


def _live_copy(strategy: Strategy, subaccount: int, at: datetime) -> Strategy:
    """The strategy as LIVE in the replay's own store, whatever its status in the real one."""
    copy = Strategy.generate(strategy.id, strategy.name, strategy.strategy_type, strategy.timeframe, strategy.code,
                             strategy.generator, at=at)
    copy.record_backtest(backtest_id="replay", symbol="*", timeframe=strategy.timeframe, period_start=at,
                         period_end=at + timedelta(seconds=1), total_trades=0, win_rate=0.0, sharpe=0.0,
                         total_return=0.0, max_drawdown=0.0, expectancy=0.0, at=at)
    copy.mark_tested("replay", at=at)
    copy.select(0.0, 1, at=at)
    copy.deploy(subaccount, "paper", at=at)
    return copy


def as_json(results: Sequence[ReplayedStrategy]) -> list[dict[str, Any]]:
    return [vars(r) for r in results]
