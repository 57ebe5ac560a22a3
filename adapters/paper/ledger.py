"""One paper subaccount's state, rebuilt by replaying its `paper-<n>` stream.

Nothing here decides anything: `apply` folds one recorded fact into the state, so a replay
after a restart, or catching up on what another adapter wrote, yields exactly the state the
writer had. Cash and positions are booked by domain.portfolio.Portfolio, the same accounting
the backtests and our own book use, so the paper venue cannot disagree with them on a fill.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from datetime import datetime

from application.ports.exchange import AckStatus, ExchangeFill, OpenOrder, OrderAck, OrderKind
from domain.errors import CorruptStream
from domain.events import DomainEvent
from domain.paper_events import (
    PaperAccountOpened,
    PaperLeverageSet,
    PaperOrderFilled,
    PaperOrdersCancelled,
    PaperTriggerPlaced,
)
from domain.portfolio import Portfolio
from domain.trading import Fill, Position, Side

_KINDS: dict[str, OrderKind] = {"market": "market", "stop_loss": "stop_loss", "take_profit": "take_profit"}


def as_side(value: str) -> Side:
    if value == "buy":
        return "buy"
    if value == "sell":
        return "sell"
    raise CorruptStream(f"side must be buy or sell, got {value!r}")


def as_kind(value: str) -> OrderKind:
    try:
        return _KINDS[value]
    except KeyError:
        raise CorruptStream(f"paper order kind must be one of {sorted(_KINDS)}, got {value!r}") from None


@dataclass(frozen=True)
class PaperOrder:
    client_order_id: str
    order_id: str
    symbol: str
    side: Side
    size: float
    kind: OrderKind
    reduce_only: bool
    status: AckStatus
    placed_at: datetime
    filled_size: float = 0.0
    average_price: float | None = None
    trigger_price: float | None = None
    max_slippage: float = 0.0
    armed_after: datetime | None = None
    armed_high: float | None = None
    armed_low: float | None = None

    @property
    def is_trigger(self) -> bool:
        return self.kind in ("stop_loss", "take_profit")

    def ack(self) -> OrderAck:
        return OrderAck(
            client_order_id=self.client_order_id,
            order_id=self.order_id,
            status=self.status,
            symbol=self.symbol,
            side=self.side,
            size=self.size,
            filled_size=self.filled_size,
            average_price=self.average_price,
        )

    def open_order(self) -> OpenOrder:
        return OpenOrder(
            order_id=self.order_id,
            client_order_id=self.client_order_id,
            symbol=self.symbol,
            side=self.side,
            size=self.size,
            kind=self.kind,
            reduce_only=self.reduce_only,
            trigger_price=self.trigger_price,
        )


class PaperLedger:
    """`version` is the stream version folded in so far: the expected_version of the next append.

    Orders and fills only ever grow (a live account makes a few per hour, for months), while
    every venue call asks for the resting triggers and many for the fills since a moment: those
    two are kept indexed as events are folded in, so a call costs the same in the first hour
    and after a year.
    """

    def __init__(self, subaccount: int) -> None:
        self.subaccount = subaccount
        self.version = 0
        self.portfolio: Portfolio | None = None
        self.orders: dict[str, PaperOrder] = {}
        self.fills: list[ExchangeFill] = []
        """Oldest first; fills at the same moment in the order they were recorded."""
        self.leverage: dict[str, int] = {}
        self.unrecorded_opening: PaperAccountOpened | None = None
        self._resting: dict[str, PaperOrder] = {}

    # --- reading ----------------------------------------------------------------------------

    @property
    def opened(self) -> bool:
        return self.portfolio is not None

    @property
    def book(self) -> Portfolio:
        if self.portfolio is None:
            raise CorruptStream(f"paper-{self.subaccount}: no PaperAccountOpened before use")
        return self.portfolio

    def position(self, symbol: str) -> Position | None:
        return self.book.position(symbol)

    def resting_triggers(self, symbol: str | None = None) -> list[PaperOrder]:
        """Sorted by symbol, then order id, as open_orders() promises."""
        found = [o for o in self._resting.values() if symbol is None or o.symbol == symbol]
        return sorted(found, key=lambda o: (o.symbol, o.order_id))

    def fills_since(self, since: datetime) -> list[ExchangeFill]:
        """Fills at or after `since`, oldest first."""
        return self.fills[bisect.bisect_left(self.fills, since, key=_fill_time):]

    def next_order_id(self, ahead: int = 0) -> str:
        """Dense per subaccount and zero-padded, so text order is placement order. `ahead`: the
        orders decided before this one in the same append, not folded in yet."""
        return f"paper-{self.subaccount}-{len(self.orders) + 1 + ahead:09d}"

    def symbols(self) -> list[str]:
        return sorted({o.symbol for o in self.orders.values()})

    # --- folding ----------------------------------------------------------------------------

    def open_unrecorded(self, opening: PaperAccountOpened) -> None:
        """An empty stream reads as this opening, written only with the first change.

        Reading an account nobody has traded must not write (a dry run stays a dry run).
        """
        if self.version != 0 or self.opened:
            raise CorruptStream(f"paper-{self.subaccount}: only an empty ledger opens unrecorded")
        self.portfolio = Portfolio(self.subaccount, opening.capital, opening.occurred_at)
        self.unrecorded_opening = opening

    def apply(self, event: DomainEvent) -> None:
        if self.unrecorded_opening is not None and event.event_id == self.unrecorded_opening.event_id:
            self.unrecorded_opening = None  # now written: the state already holds it
            self.version += 1
            return
        if not self.opened and not isinstance(event, PaperAccountOpened):
            raise CorruptStream(f"paper-{self.subaccount}: {event.event_type()} before PaperAccountOpened")
        if isinstance(event, PaperAccountOpened):
            if self.opened:
                raise CorruptStream(f"paper-{self.subaccount}: opened twice")
            self.portfolio = Portfolio(self.subaccount, event.capital, event.occurred_at)
        elif isinstance(event, PaperOrderFilled):
            self._fill(event)
        elif isinstance(event, PaperTriggerPlaced):
            self._put(PaperOrder(
                client_order_id=event.client_order_id, order_id=event.venue_order_id, symbol=event.symbol,
                side=as_side(event.side), size=event.size, kind=as_kind(event.kind), reduce_only=True,
                status="resting", placed_at=event.occurred_at, trigger_price=event.trigger_price,
                max_slippage=event.max_slippage, armed_after=event.armed_after,
                armed_high=event.armed_high, armed_low=event.armed_low,
            ))
        elif isinstance(event, PaperOrdersCancelled):
            for cloid in event.client_order_ids:
                self._put(replace(self._order(cloid), status="cancelled"))
        elif isinstance(event, PaperLeverageSet):
            self.leverage[event.symbol] = event.leverage
        else:
            raise CorruptStream(f"paper-{self.subaccount}: foreign event {event.event_type()}")
        self.version += 1

    def _fill(self, event: PaperOrderFilled) -> None:
        side = as_side(event.side)
        trades = self.book.apply_fill(Fill(
            order_id=event.client_order_id, symbol=event.symbol, side=side, size=event.size,
            price=event.price, fee=event.fee, time=event.filled_at,
        ), reason=event.kind)
        bisect.insort_right(self.fills, ExchangeFill(
            fill_id=event.fill_id, order_id=event.venue_order_id, client_order_id=event.client_order_id,
            symbol=event.symbol, side=side, size=event.size, price=event.price, fee=event.fee,
            time=event.filled_at, closed_pnl=sum((t.gross_pnl for t in trades), 0.0),
        ), key=_fill_time)
        if event.kind == "market":
            self._put(PaperOrder(
                client_order_id=event.client_order_id, order_id=event.venue_order_id, symbol=event.symbol,
                side=side, size=event.requested_size or event.size, kind="market", reduce_only=event.reduce_only,
                status="filled", placed_at=event.filled_at, filled_size=event.size, average_price=event.price,
            ))
        else:
            self._put(replace(self._order(event.client_order_id), status="filled", filled_size=event.size,
                              average_price=event.price))

    def _put(self, order: PaperOrder) -> None:
        self.orders[order.client_order_id] = order
        if order.is_trigger and order.status == "resting":
            self._resting[order.client_order_id] = order
        else:
            self._resting.pop(order.client_order_id, None)

    def _order(self, client_order_id: str) -> PaperOrder:
        try:
            return self.orders[client_order_id]
        except KeyError:
            raise CorruptStream(f"paper-{self.subaccount}: event about unknown order {client_order_id}") from None


def _fill_time(fill: ExchangeFill) -> datetime:
    return fill.time
