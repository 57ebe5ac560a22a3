"""Stop a live strategy: cancel its orders, close its positions, free its subaccount, retire it.

Each step is recorded as it happens, and the close orders' client order ids come from the
strategy alone, so a stop interrupted half way and run again finishes the job without ever
closing twice. The strategy is retired only once the venue shows the subaccount flat.
"""

from __future__ import annotations

from dataclasses import dataclass

from application.closing import flatten
from application.ports.clock import Clock
from application.ports.exchange import Exchange
from application.reconcile_subaccount import Reconciler
from application.strategy_repository import StrategyRepository
from application.subaccount_ledger import SubaccountLedger
from domain.errors import DomainError
from domain.lifecycle import StrategyStatus
from domain.subaccount_book import SubaccountBook


class StopIncomplete(DomainError):
    """The venue still shows positions after the close orders; the strategy stays LIVE."""


class NotDeployed(DomainError):
    """The strategy is not LIVE on a subaccount, so there is nothing to stop."""


@dataclass(frozen=True)
class StopReport:
    strategy_id: str
    subaccount: int
    reason: str
    cancelled_orders: tuple[str, ...]
    closed_symbols: tuple[str, ...]
    realized_pnl: float


class StrategyStopper:
    def __init__(self, strategies: StrategyRepository, ledger: SubaccountLedger, exchange: Exchange,
                 clock: Clock, max_slippage: float) -> None:
        self._strategies = strategies
        self._ledger = ledger
        self._exchange = exchange
        self._clock = clock
        self._max_slippage = max_slippage
        self._reconciler = Reconciler(ledger, exchange, clock)

    def stop(self, strategy_id: str, reason: str) -> StopReport:
        strategy = self._strategies.get(strategy_id)
        if strategy.status != StrategyStatus.LIVE or strategy.subaccount is None:
            raise NotDeployed(f"strategy {strategy_id} is {strategy.status.value}, not LIVE on a subaccount")
        number = strategy.subaccount
        self._reconciler.reconcile(number)
        book = self._ledger.load(number)
        venue = self._exchange.subaccount(number)
        cancelled = tuple(venue.cancel_all())
        book.cancel_orders(cancelled, f"strategy stopped: {reason}", self._clock.now())
        trades_before = _realized(book)
        closed = flatten(self._ledger, book, venue, f"stop:{strategy_id}", strategy_id, self._max_slippage,
                         "stopped", self._clock.now())
        left = venue.positions()
        if left:
            self._ledger.save(book)
            raise StopIncomplete(f"subaccount {number} still holds {', '.join(p.symbol for p in left)} "
                                 f"after closing; {strategy_id} stays LIVE, run the stop again")
        realized = _realized(book) - trades_before
        book.unassign(reason, self._clock.now())
        self._ledger.save(book)
        strategy.retire(reason, at=self._clock.now())
        self._strategies.save(strategy)
        return StopReport(strategy_id, number, reason, cancelled, closed, realized)


def _realized(book: SubaccountBook) -> float:
    return 0.0 if book.portfolio is None else book.portfolio.realized_pnl
