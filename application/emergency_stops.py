"""Emergency stops: a subaccount past its drawdown or daily-loss limit is flattened without a human.

Each check records the venue's equity as a PortfolioSnapshotTaken (peak and the UTC day's start
carried from the previous one), so the limits read the same figures after a restart. The kill
switch stops every strategy and flattens every subaccount, assigned or not; one subaccount the
venue refuses does not keep the others open.
"""

from __future__ import annotations

from dataclasses import dataclass

from application.closing import flatten
from application.ports.clock import Clock
from application.ports.event_store import EventStoreError
from application.ports.exchange import Exchange, ExchangeError
from application.stop_strategy import StrategyStopper
from application.subaccount_ledger import SubaccountLedger
from domain.errors import DomainError
from domain.risk import RiskPolicy
from domain.subaccount_book import EXTERNAL


@dataclass(frozen=True)
class EmergencyOutcome:
    subaccount: int
    strategy_id: str | None
    reason: str
    closed_symbols: tuple[str, ...]


class EmergencyStopIncomplete(DomainError):
    """The kill switch could not flatten every subaccount: `done` were, each of `failures` raised.

    Every stop is recorded as it happens and a second run closes nothing twice, so running the
    kill switch again finishes the job once the venue answers.
    """

    def __init__(self, done: tuple[EmergencyOutcome, ...], failures: tuple[tuple[int, Exception], ...]) -> None:
        self.done = done
        self.failures = failures
        failed = "; ".join(f"subaccount {n}: {type(e).__name__}: {e}" for n, e in failures)
        finished = ", ".join(str(o.subaccount) for o in done) or "none"
        super().__init__(f"emergency stop incomplete: {failed}. Done: {finished}. Run it again to finish.")


class EmergencyStops:
    def __init__(self, ledger: SubaccountLedger, exchange: Exchange, stopper: StrategyStopper, clock: Clock,
                 risk: RiskPolicy, max_slippage: float) -> None:
        self._ledger = ledger
        self._exchange = exchange
        self._stopper = stopper
        self._clock = clock
        self._risk = risk
        self._max_slippage = max_slippage

    def check(self, subaccount: int) -> EmergencyOutcome | None:
        """Snapshot the subaccount; flatten and retire its strategy when a limit is breached."""
        book = self._ledger.load(subaccount)
        venue = self._exchange.subaccount(subaccount)
        snapshot = book.observe(venue.account().account_value, len(venue.positions()), self._clock.now())
        self._ledger.save(book)
        if book.strategy_id is None:
            return None
        reason = self._risk.snapshot_breach(snapshot)
        return None if reason is None else self.stop(subaccount, f"emergency stop: {reason}")

    def check_all(self) -> list[EmergencyOutcome]:
        return [o for o in (self.check(n) for n in self._exchange.subaccounts()) if o is not None]

    def stop(self, subaccount: int, reason: str) -> EmergencyOutcome:
        """Flatten now: the strategy (if any) is stopped and retired with the reason."""
        book = self._ledger.load(subaccount)
        strategy_id = book.strategy_id
        book.emergency_stop(reason, self._clock.now())
        self._ledger.save(book)
        if strategy_id is not None:
            report = self._stopper.stop(strategy_id, reason)
            return EmergencyOutcome(subaccount, strategy_id, reason, report.closed_symbols)
        return EmergencyOutcome(subaccount, None, reason, self._flatten_unassigned(subaccount, reason))

    def stop_all(self, reason: str) -> list[EmergencyOutcome]:
        """The kill switch: every subaccount is tried, even after one fails (an order the venue
        rejects on one must not leave the others trading); raises EmergencyStopIncomplete then."""
        done: list[EmergencyOutcome] = []
        failures: list[tuple[int, Exception]] = []
        for number in self._exchange.subaccounts():
            try:
                done.append(self.stop(number, reason))
            except (ExchangeError, DomainError, EventStoreError) as exc:
                failures.append((number, exc))
        if failures:
            raise EmergencyStopIncomplete(tuple(done), tuple(failures)) from failures[0][1]
        return done

    def _flatten_unassigned(self, subaccount: int, reason: str) -> tuple[str, ...]:
        venue = self._exchange.subaccount(subaccount)
        book = self._ledger.load(subaccount)
        started = self._clock.now()
        book.cancel_orders(venue.cancel_all(), reason, started)
        return flatten(self._ledger, book, venue, f"emergency:{subaccount}:{started.isoformat()}", EXTERNAL,
                       self._max_slippage, "emergency", started)
