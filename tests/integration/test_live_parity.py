"""Live against backtest: real candles replayed through the live loop trade as the backtester does.

The same strategy code runs both ways on the same BTC and ETH bars: the backtester on the whole
frame, the live loop bar by bar (closed bars only, orders on the paper venue, stops held by the
venue). Every trade the backtest closes must appear live on the same bars, on the same side, at
prices equal within the price grid, with the same kind of exit. Live, a strategy sees the last
LOOKBACK closed bars, the backtester all of them: the trades must not depend on that.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from adapters.inprocess.sandbox import InProcessSandbox
from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.live_candles import MemoryLiveCandles
from adapters.paper.exchange import PaperExchange
from adapters.vectorbt.engine import VectorbtBacktestEngine
from application.emergency_stops import EmergencyStops
from application.event_codec import decode
from application.live_trader import LiveStrategy, LiveTrader
from application.replay import LiveReplay
from application.stop_strategy import StrategyStopper
from application.strategy_repository import StrategyRepository
from application.subaccount_ledger import SubaccountLedger, subaccount_stream
from domain.backtest import Costs
from domain.candles import timeframe_delta
from domain.events import TradeClosed
from domain.instruments import Instrument
from domain.risk import RiskPolicy
from tests.validation_support import RealCandles

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "strategies"
FEE, SLIPPAGE, CAPITAL = 0.00045, 0.0005, 10_000.0
SYMBOLS = ("BTC", "ETH")
INSTRUMENTS = {"BTC": Instrument("BTC", 5), "ETH": Instrument("ETH", 4)}
EXIT_REASONS = {"sl": "stop_loss", "tp": "take_profit", "signal": "signal", "reverse": "reverse"}
BARS = 500
LOOKBACK = 300


def _backtest_trades(code: str, origin: str, timeframe: str, candles: dict[str, pd.DataFrame]) -> pd.DataFrame:
    sandbox = InProcessSandbox()
    signals = sandbox.signals(code, origin, None, candles)
    run = VectorbtBacktestEngine().run(candles, signals, timeframe=timeframe,
                                       costs=Costs(fee_rate=FEE, slippage=SLIPPAGE, initial_capital=CAPITAL))
    return run.trades[run.trades["exit_reason"] != "end"].reset_index(drop=True)


def _live_trades(code: str, origin: str, timeframe: str, candles: dict[str, pd.DataFrame]) -> list[TradeClosed]:
    store = InMemoryEventStore()
    first = min(frame.index[0] for frame in candles.values()).to_pydatetime()
    clock = ManualClock(first - timedelta(minutes=1))
    feed = MemoryLiveCandles(clock=clock)
    venue = PaperExchange(store, feed, clock, subaccounts=(1,), capital=CAPITAL, fee_rate=FEE, slippage=SLIPPAGE,
                          price_timeframe=timeframe, instruments=INSTRUMENTS)
    ledger = SubaccountLedger(store)
    book = ledger.load(1)
    book.fund(CAPITAL, clock.now())
    book.assign("parity", "paper", CAPITAL, clock.now())
    ledger.save(book)
    risk = RiskPolicy(max_drawdown=0.99, max_daily_loss=0.99, max_position_size=0.2)
    trader = LiveTrader(InProcessSandbox(), feed, ledger, venue, clock, risk, SYMBOLS, max_slippage=0.01,
                        lookback=LOOKBACK)
    stopper = StrategyStopper(StrategyRepository(store), ledger, venue, clock, 0.01)
    emergency = EmergencyStops(ledger, venue, stopper, clock, risk, 0.01)
    report = LiveReplay(trader, emergency, feed, clock, timeframe).run(
        [LiveStrategy("parity", code, timeframe, 1)], candles)
    assert not [d for d in report.decisions if d.action in ("failed", "rejected")], report.decisions[:5]
    return [e for e in map(decode, store.read_stream(subaccount_stream(1))) if isinstance(e, TradeClosed)]


def _bar(moment: object, timeframe: str) -> pd.Timestamp:
    return pd.Timestamp(moment).floor(timeframe_delta(timeframe))


@pytest.mark.parametrize("example", ["mom_ema_cross.py", "trn_adx_trend.py", "bre_donchian.py", "rev_rsi_bands.py"])
def test_replayed_live_trades_are_the_backtests_trades(example: str) -> None:
    code = (EXAMPLES / example).read_text()
    timeframe = InProcessSandbox().inspect(code, example).timeframe
    real = RealCandles(bars=BARS)
    candles = {s: real.load(s, timeframe) for s in SYMBOLS}
    expected = _backtest_trades(code, example, timeframe, candles)
    live = _live_trades(code, example, timeframe, candles)
    assert len(expected) >= 5, f"{example}: too few trades on this data to compare ({len(expected)})"
    got = {(t.symbol, _bar(t.entry_time, timeframe)): t for t in live}
    for trade in expected.itertuples():
        key = (trade.symbol, _bar(trade.entry_time, timeframe))
        assert key in got, f"{example}: backtest trade {key} {trade.side} not traded live"
        twin = got[key]
        assert twin.direction == trade.side
        assert twin.entry_price == pytest.approx(trade.entry_price, rel=2e-4)
        assert _bar(twin.exit_time, timeframe) == _bar(trade.exit_time, timeframe), (example, key)
        assert twin.exit_reason == EXIT_REASONS[trade.exit_reason], (example, key)
        assert twin.exit_price == pytest.approx(trade.exit_price, rel=2e-4)
    assert len(live) == len(expected), f"{example}: {len(live)} live trades, {len(expected)} in the backtest"
