"""Exchange port: one perpetual-futures account per subaccount, paper or live.

Every order carries a client order id (`domain.client_order_ids`) chosen by the caller from
what the order is for, so the same intent sent twice (a retry after a timeout, a restart after
a crash) is one order: an adapter that is given a client order id it has already sent answers
with that order's state instead of sending a second one.

Sizes and prices crossing the port are plain floats in the asset's units and USDC; adapters
round them to what the venue accepts (`domain.instruments`) and report what was really done.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from domain.trading import PositionDirection, Side

OrderKind = Literal["market", "limit", "stop_loss", "take_profit"]
TriggerKind = Literal["stop_loss", "take_profit"]
AckStatus = Literal["filled", "resting", "cancelled"]


class ExchangeError(Exception):
    """Base of every failure an exchange adapter reports; messages never carry keys or signatures."""


class ExchangeUnavailable(ExchangeError):
    """The venue could not be reached or kept failing (timeouts, 429, 5xx) after the retries."""


class OrderRejected(ExchangeError):
    """The venue refused the order; `code` is the venue's error type when it names one."""

    def __init__(self, client_order_id: str, reason: str, code: str | None = None) -> None:
        super().__init__(f"order {client_order_id} rejected: {reason}")
        self.client_order_id = client_order_id
        self.reason = reason
        self.code = code


class InsufficientMargin(OrderRejected):
    """Not enough margin in the subaccount for the order."""


class OrderStateUnknown(ExchangeError):
    """An order was sent but whether it exists could not be established; never resend blindly."""

    def __init__(self, client_order_id: str, detail: str) -> None:
        super().__init__(f"state of order {client_order_id} unknown: {detail}")
        self.client_order_id = client_order_id


class UnknownSubaccount(ExchangeError):
    """A subaccount number the configuration does not map to an account."""


class UnknownInstrument(ExchangeError):
    """A symbol the venue does not list."""


@dataclass(frozen=True)
class AccountState:
    subaccount: int
    account_value: float
    """Equity in USDC: balance plus unrealised PnL."""
    margin_used: float
    withdrawable: float


@dataclass(frozen=True)
class ExchangePosition:
    symbol: str
    direction: PositionDirection
    size: float
    """Always positive; `direction` carries the sign."""
    entry_price: float
    unrealized_pnl: float = 0.0
    leverage: int | None = None


@dataclass(frozen=True)
class OpenOrder:
    order_id: str
    """The venue's id for the order."""
    client_order_id: str | None
    symbol: str
    side: Side
    size: float
    kind: OrderKind
    reduce_only: bool
    trigger_price: float | None = None
    limit_price: float | None = None


@dataclass(frozen=True)
class MarketOrderRequest:
    client_order_id: str
    symbol: str
    side: Side
    size: float
    max_slippage: float
    """Worst acceptable price as a fraction away from the mid (0.005 = 0.5%)."""
    reduce_only: bool = False
    first_send: bool = False
    """True only when the caller recorded this id just now and never sent it before (no crash or
    retry in between): a venue that checks for an earlier copy before sending may skip that round
    trip. When in doubt, False: the check is what makes a resend safe."""
    reference_mid: float | None = None
    """The mid the caller has just read; the slippage limit is taken from it instead of asking again."""


@dataclass(frozen=True)
class TriggerOrderRequest:
    """A reduce-only stop-loss or take-profit that the venue holds and fires at `trigger_price`."""

    client_order_id: str
    symbol: str
    side: Side
    """The side that closes the position: sell for a long, buy for a short."""
    size: float
    trigger_price: float
    kind: TriggerKind
    max_slippage: float = 0.05
    """Once triggered it executes as a market order no worse than this from the trigger price."""
    first_send: bool = False
    """As MarketOrderRequest.first_send: True only when no copy of this id can have been sent (the
    entry it protects was recorded and sent for the first time in this very call)."""


@dataclass(frozen=True)
class OrderAck:
    client_order_id: str
    order_id: str | None
    status: AckStatus
    symbol: str
    side: Side
    size: float
    """The size the venue accepted, after rounding to the asset's size step."""
    filled_size: float = 0.0
    average_price: float | None = None


@dataclass(frozen=True)
class ExchangeFill:
    fill_id: str
    """Unique per execution: the same fill read twice has the same id."""
    order_id: str
    client_order_id: str | None
    symbol: str
    side: Side
    size: float
    price: float
    fee: float
    time: datetime
    closed_pnl: float = 0.0


@runtime_checkable
class SubaccountExchange(Protocol):
    """One subaccount's trading account; every call is about this subaccount only."""

    @property
    def subaccount(self) -> int: ...

    def account(self) -> AccountState: ...

    def positions(self) -> list[ExchangePosition]:
        """Open positions, sorted by symbol."""
        ...

    def open_orders(self) -> list[OpenOrder]:
        """Resting and trigger orders, sorted by symbol then order id."""
        ...

    def mid_price(self, symbol: str) -> float: ...

    def mid_and_account(self, symbol: str) -> tuple[float, AccountState]:
        """mid_price and account together, for an entry's price and size: a remote venue asks
        for both at once (one round trip of waiting instead of two)."""
        ...

    def market_order(self, request: MarketOrderRequest) -> OrderAck:
        """Execute now at no worse than mid x (1 +/- max_slippage); idempotent per client order id.

        Raises OrderRejected when nothing could be filled within the slippage cap.
        """
        ...

    def market_orders(self, requests: Sequence[MarketOrderRequest]) -> list[OrderAck | OrderRejected]:
        """Several market_order calls (a reversal's close, then its entry) in one request where the
        venue allows, executed in the order given; each order's ack, or its refusal as a value (a
        refused close does not stop the entry after it). Other errors are raised."""
        ...

    def trigger_order(self, request: TriggerOrderRequest) -> OrderAck:
        """Place a reduce-only SL or TP; idempotent per client order id."""
        ...

    def trigger_orders(self, requests: Sequence[TriggerOrderRequest]) -> list[OrderAck]:
        """Several trigger_order calls (an entry's stop and target) in one request where the venue
        allows; acks in the order given. The first refusal is raised, and the triggers before it
        may rest on the venue then: a caller that cannot go on without all of them cancels them."""
        ...

    def order_status(self, client_order_id: str) -> OrderAck | None:
        """What became of an order sent with this client order id; None when the venue never saw it."""
        ...

    def cancel_all(self, symbol: str | None = None) -> list[str]:
        """Cancel every open order (of `symbol`, or all); return the cancelled order ids."""
        ...

    def cancel_orders(self, symbol: str, client_order_ids: Sequence[str]) -> list[str]:
        """Cancel these orders of `symbol`, named by client order id; return the ids cancelled.

        For a caller that knows which orders it left resting: a remote venue needs no read of its
        open orders first (cancel_all does). An id with no open order of `symbol` (filled, cancelled
        before, never placed) is left out of the answer, not an error."""
        ...

    def one_moment(self) -> AbstractContextManager[None]:
        """A block of calls made for one decision (a few ms): a venue that prices from candles (the
        paper one) may read them once for the whole block, so its calls see the market as of the
        block's first read; a remote venue prices each order itself and ignores it. Blocks nest."""
        ...

    def close_all(self, intent: str, max_slippage: float) -> list[OrderAck]:
        """Flatten every position with reduce-only market orders.

        Each close order's client order id is derived from `intent` and the symbol, so calling
        again with the same intent after a failure never closes twice.
        """
        ...

    def set_leverage(self, symbol: str, leverage: int) -> None: ...

    def fills_since(self, since: datetime) -> list[ExchangeFill]:
        """Executions at or after `since`, oldest first."""
        ...


@runtime_checkable
class Exchange(Protocol):
    """The venue: hands out one SubaccountExchange per configured subaccount."""

    @property
    def mode(self) -> Literal["paper", "live"]: ...

    def subaccounts(self) -> tuple[int, ...]:
        """The subaccount numbers this venue can trade, ascending."""
        ...

    def subaccount(self, number: int) -> SubaccountExchange:
        """Raises UnknownSubaccount for a number that is not configured."""
        ...

    def close(self) -> None: ...


def market_orders_in_turn(place: Callable[[MarketOrderRequest], OrderAck],
                          requests: Sequence[MarketOrderRequest]) -> list[OrderAck | OrderRejected]:
    """`SubaccountExchange.market_orders` for a venue with no batch request: `place` for each in
    turn, a refusal kept as the value and the next order sent all the same."""
    outcomes: list[OrderAck | OrderRejected] = []
    for request in requests:
        try:
            outcomes.append(place(request))
        except OrderRejected as refused:
            outcomes.append(refused)
    return outcomes
