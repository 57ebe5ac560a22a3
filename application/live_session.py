"""The live loop's life: reconcile before the first decision, decide at each candle close, watch
the limits between closes, and leave the venue as the configuration says on the way out.

Scheduler-free on purpose: the scheduler entrypoint calls these at the right times, and a replay
or a test calls them directly, so every path goes through the same code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from application.closing import flatten
from application.emergency_stops import EmergencyOutcome, EmergencyStops
from application.live_trader import Decision, LiveStrategy, LiveTrader
from application.ports.clock import Clock
from application.ports.exchange import Exchange
from application.reconcile_subaccount import Reconciler, ReconciliationReport
from application.rotate_strategies import RotationOutcome, StrategyRotation
from application.subaccount_ledger import SubaccountLedger
from domain.candles import timeframe_delta

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShutdownPolicy:
    cancel_orders: bool = True
    close_positions: bool = False


def closed_bar(now: datetime, timeframe: str) -> datetime:
    """Open time of the newest bar of `timeframe` that has closed by `now`."""
    period = timeframe_delta(timeframe)
    current: datetime = pd.Timestamp(now).floor(period).to_pydatetime()
    previous: datetime = current - period
    return previous


def next_close(now: datetime, timeframe: str) -> datetime:
    period = timeframe_delta(timeframe)
    current: datetime = pd.Timestamp(now).floor(period).to_pydatetime()
    following: datetime = current + period
    return following


class LiveSession:
    def __init__(self, trader: LiveTrader, emergency: EmergencyStops, reconciler: Reconciler,
                 ledger: SubaccountLedger, exchange: Exchange, clock: Clock,
                 strategies: Callable[[], Sequence[LiveStrategy]], shutdown: ShutdownPolicy,
                 rotation: StrategyRotation | None = None) -> None:
        self._trader = trader
        self._emergency = emergency
        self._reconciler = reconciler
        self._ledger = ledger
        self._exchange = exchange
        self._clock = clock
        self._strategies = strategies
        self._shutdown = shutdown
        self._rotation = rotation

    def start(self) -> list[ReconciliationReport]:
        """Adopt the venue's truth before anything is decided (a crash may have left anything)."""
        reports = self._reconciler.reconcile_all()
        for report in reports:
            if not report.clean:
                log.warning("reconciled on start", extra={"subaccount": report.subaccount,
                                                          "differences": len(report.differences),
                                                          "fills_imported": report.fills_imported})
        return reports

    def on_candle_close(self, timeframe: str, now: datetime | None = None) -> list[Decision]:
        """Decide for every LIVE strategy on `timeframe` on the bar that just closed."""
        moment = now or self._clock.now()
        strategies = [s for s in self._strategies() if s.timeframe == timeframe]
        if not strategies:
            return []
        return self._trader.on_bar_close(strategies, closed_bar(moment, timeframe))

    def check(self) -> list[EmergencyOutcome]:
        """Snapshot every subaccount and apply the emergency limits."""
        return self._emergency.check_all()

    def rotate(self) -> list[RotationOutcome]:
        """Replace the strategies whose live results fell out of their backtest's band."""
        return [] if self._rotation is None else self._rotation.run()

    def stop(self) -> None:
        """What the venue keeps when the process goes: orders cancelled, positions closed if configured."""
        self._trader.close()
        now = self._clock.now()
        for number in self._exchange.subaccounts():
            book = self._ledger.load(number)
            if book.strategy_id is None:
                continue
            venue = self._exchange.subaccount(number)
            if self._shutdown.cancel_orders:
                book.cancel_orders(venue.cancel_all(), "shutdown", now)
            if self._shutdown.close_positions:
                flatten(self._ledger, book, venue, f"shutdown:{number}:{now.isoformat()}", book.strategy_id,
                        self._trader.max_slippage, "shutdown", now)
            self._ledger.save(book)
