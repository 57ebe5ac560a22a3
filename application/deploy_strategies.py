"""The subaccount manager: put selected strategies on subaccounts, take them off, swap one for another.

One strategy per subaccount, so capital and results stay separate. Test mode uses the first
few subaccounts with a small fixed capital each; full mode uses every configured one with what
the subaccount holds. A subaccount that holds positions or orders nobody assigned is never
used: the manager reconciles it first and refuses it while anything is open there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from application.ports.clock import Clock
from application.ports.exchange import Exchange
from application.ports.read_models import ReadModelStore
from application.reconcile_subaccount import Reconciler
from application.stop_strategy import StopReport, StrategyStopper
from application.strategy_repository import StrategyRepository
from application.subaccount_ledger import SubaccountLedger
from domain.errors import DomainError
from domain.lifecycle import StrategyStatus

Plan = Literal["test", "full"]


class DeploymentRefused(DomainError):
    """A deployment or rotation that must not happen (wrong status, no free subaccount ...)."""


@dataclass(frozen=True)
class DeploymentPolicy:
    test_subaccounts: int = 3
    test_capital: float = 100.0
    subaccount_count: int = 10
    leverage: int = 1
    symbols: tuple[str, ...] = ()
    max_slippage: float = 0.005
    min_capital: float = 10.0


@dataclass(frozen=True)
class DeploymentRequest:
    plan: Plan = "test"
    dry_run: bool = False
    strategy_ids: tuple[str, ...] = ()
    """Deploy these (each must be SELECTED); empty: every SELECTED strategy, best rank first."""


@dataclass(frozen=True)
class DeploymentStep:
    strategy_id: str
    subaccount: int | None
    capital: float
    status: str
    """deployed, planned (dry run), or skipped."""
    reason: str | None = None


@dataclass(frozen=True)
class DeploymentReport:
    deployment_id: str
    mode: str
    plan: str
    dry_run: bool
    steps: tuple[DeploymentStep, ...] = field(default_factory=tuple)


class SubaccountManager:
    def __init__(self, strategies: StrategyRepository, ledger: SubaccountLedger, exchange: Exchange,
                 read_models: ReadModelStore, clock: Clock, policy: DeploymentPolicy,
                 catch_up: Callable[[], object] | None = None) -> None:
        self._strategies = strategies
        self._ledger = ledger
        self._exchange = exchange
        self._read_models = read_models
        self._clock = clock
        self._policy = policy
        self._catch_up = catch_up
        self._reconciler = Reconciler(ledger, exchange, clock)
        self._stopper = StrategyStopper(strategies, ledger, exchange, clock, policy.max_slippage)

    def slots(self, plan: Plan) -> tuple[int, ...]:
        wanted = self._policy.test_subaccounts if plan == "test" else self._policy.subaccount_count
        return tuple(n for n in self._exchange.subaccounts() if n >= 1)[:wanted]

    def deploy(self, request: DeploymentRequest) -> DeploymentReport:
        candidates = list(request.strategy_ids) or self.selected()
        steps: list[DeploymentStep] = []
        free = [n for n in self.slots(request.plan) if self._ledger.load(n).is_free]
        for strategy_id in candidates:
            strategy = self._strategies.get(strategy_id)
            if strategy.status != StrategyStatus.SELECTED:
                steps.append(DeploymentStep(strategy_id, None, 0.0, "skipped",
                                            f"status is {strategy.status.value}, not SELECTED"))
                continue
            steps.append(self._place(strategy_id, free, request))
        return DeploymentReport(str(uuid.uuid4()), self._exchange.mode, request.plan, request.dry_run, tuple(steps))

    def stop(self, strategy_id: str, reason: str) -> StopReport:
        return self._stopper.stop(strategy_id, reason)

    def rotate(self, old_strategy_id: str, new_strategy_id: str, reason: str) -> tuple[StopReport, DeploymentStep]:
        """Stop `old` and deploy `new` on the same subaccount with the same capital."""
        new = self._strategies.get(new_strategy_id)
        if new.status != StrategyStatus.SELECTED:
            raise DeploymentRefused(f"{new_strategy_id} is {new.status.value}; only a SELECTED strategy can rotate in")
        old = self._strategies.get(old_strategy_id)
        if old.subaccount is None:
            raise DeploymentRefused(f"{old_strategy_id} is {old.status.value}, not LIVE on a subaccount")
        capital = self._ledger.load(old.subaccount).capital
        stopped = self._stopper.stop(old_strategy_id, f"rotated out for {new_strategy_id}: {reason}")
        self._assign(new_strategy_id, stopped.subaccount, capital, replaces=old_strategy_id)
        return stopped, DeploymentStep(new_strategy_id, stopped.subaccount, capital, "deployed")

    # --- internals --------------------------------------------------------------------------

    def selected(self) -> list[str]:
        """SELECTED strategies, best rank first: the order deployments and rotations take them in."""
        if self._catch_up is not None:
            self._catch_up()
        rows = self._read_models.rows("strategies", {"status": StrategyStatus.SELECTED.value})
        rows.sort(key=lambda r: (r.get("rank") is None, r.get("rank") or 0, r["strategy_id"]))
        return [r["strategy_id"] for r in rows]

    def _place(self, strategy_id: str, free: list[int], request: DeploymentRequest) -> DeploymentStep:
        """Take the first usable free subaccount off `free`; refused ones are dropped from it too."""
        refusals: list[str] = []
        while free:
            number = free.pop(0)
            refusal = self._refusal(number, request.dry_run)
            if refusal is None:
                capital = self._capital(number, request.plan)
                if capital >= self._policy.min_capital:
                    if request.dry_run:
                        return DeploymentStep(strategy_id, number, capital, "planned")
                    self._assign(strategy_id, number, capital)
                    return DeploymentStep(strategy_id, number, capital, "deployed")
                refusal = f"subaccount {number} holds {capital:.2f} USDC, below {self._policy.min_capital}"
            refusals.append(refusal)
        reason = "; ".join(refusals) or f"no free subaccount in {request.plan} mode"
        return DeploymentStep(strategy_id, None, 0.0, "skipped", reason)

    def _refusal(self, number: int, dry_run: bool) -> str | None:
        if not dry_run:
            self._reconciler.reconcile(number)
        venue = self._exchange.subaccount(number)
        if venue.positions() or venue.open_orders():
            return f"subaccount {number} holds positions or orders no strategy was assigned; close them first"
        return None

    def _capital(self, number: int, plan: Plan) -> float:
        held = self._exchange.subaccount(number).account().account_value
        return min(self._policy.test_capital, held) if plan == "test" else held

    def _assign(self, strategy_id: str, number: int, capital: float, replaces: str | None = None) -> None:
        now = self._clock.now()
        venue = self._exchange.subaccount(number)
        book = self._ledger.load(number)
        for symbol in self._policy.symbols:
            venue.set_leverage(symbol, self._policy.leverage)
            book.set_leverage(symbol, self._policy.leverage, now)
        held = venue.account().account_value
        booked = book.portfolio.cash if book.portfolio is not None else 0.0
        if abs(held - booked) > 1e-9:
            book.fund(held - booked, now)  # the book starts from the venue's balance, not from ours
        book.assign(strategy_id, self._exchange.mode, capital, now, replaces=replaces)
        self._ledger.save(book)
        strategy = self._strategies.get(strategy_id)
        strategy.deploy(number, self._exchange.mode, at=now)
        self._strategies.save(strategy)
