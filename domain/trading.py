"""Trading values: what is asked (Order), what happened (Fill), what is held (Position) and
what was earned (Trade). Immutable and checked on creation, so a NaN size or a naive
timestamp stops here instead of in an exchange request or a PnL figure.

Positions are perpetual futures positions: opening one moves no cash, only fees and realised
PnL do, so an account's equity is its cash plus the unrealised PnL of its positions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

from domain.errors import InvalidOrder, InvalidTradingRecord
from domain.events import OrderFilled, OrderPlaced, TradeClosed

Side = Literal["buy", "sell"]
PositionDirection = Literal["long", "short"]
SIDES: tuple[str, ...] = get_args(Side)
POSITION_DIRECTIONS: tuple[str, ...] = get_args(PositionDirection)


def _number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def check_positive(name: str, value: float, error: type[InvalidTradingRecord] = InvalidTradingRecord) -> None:
    if not _number(value) or value <= 0:
        raise error(f"{name} must be a finite positive number, got {value!r}")


def check_finite(name: str, value: float, error: type[InvalidTradingRecord] = InvalidTradingRecord) -> None:
    if not _number(value):
        raise error(f"{name} must be a finite number, got {value!r}")


def check_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidTradingRecord(f"{name} must be a timezone-aware datetime, got {value!r}")


def _check_text(name: str, value: str, error: type[InvalidTradingRecord] = InvalidTradingRecord) -> None:
    if not isinstance(value, str) or not value.strip():
        raise error(f"{name} must be a non-empty string, got {value!r}")


def _check_direction(value: str) -> None:
    if value not in POSITION_DIRECTIONS:
        raise InvalidTradingRecord(f"direction must be one of {POSITION_DIRECTIONS}, got {value!r}")


def _check_brackets(
    direction: PositionDirection,
    stop_loss: float | None,
    take_profit: float | None,
    error: type[InvalidTradingRecord],
) -> None:
    for name, price in (("stop_loss", stop_loss), ("take_profit", take_profit)):
        if price is not None:
            check_positive(name, price, error)
    if stop_loss is None or take_profit is None:
        return
    if direction == "long" and not stop_loss < take_profit:
        raise error(f"a long needs stop_loss < take_profit, got {stop_loss} >= {take_profit}")
    if direction == "short" and not stop_loss > take_profit:
        raise error(f"a short needs stop_loss > take_profit, got {stop_loss} <= {take_profit}")


def direction_of(side: Side) -> PositionDirection:
    """The position a side opens: buying opens a long, selling a short."""
    return "long" if side == "buy" else "short"


def closing_side(direction: PositionDirection) -> Side:
    return "sell" if direction == "long" else "buy"


@dataclass(frozen=True, kw_only=True)
class Order:
    """A market order; stop_loss/take_profit are absolute trigger prices for the opened position."""

    id: str
    symbol: str
    side: Side
    size: float
    reduce_only: bool = False
    stop_loss: float | None = None
    take_profit: float | None = None

    def __post_init__(self) -> None:
        _check_text("order id", self.id, InvalidOrder)
        _check_text("symbol", self.symbol, InvalidOrder)
        if self.side not in SIDES:
            raise InvalidOrder(f"side must be one of {SIDES}, got {self.side!r}")
        check_positive("size", self.size, InvalidOrder)
        if self.reduce_only and (self.stop_loss is not None or self.take_profit is not None):
            raise InvalidOrder("a reduce-only order closes a position; it carries no stop_loss/take_profit")
        _check_brackets(direction_of(self.side), self.stop_loss, self.take_profit, InvalidOrder)

    def to_event(self, subaccount: int, strategy_id: str, at: datetime) -> OrderPlaced:
        return OrderPlaced(
            aggregate_id=str(subaccount),
            occurred_at=at,
            order_id=self.id,
            strategy_id=strategy_id,
            symbol=self.symbol,
            side=self.side,
            size=self.size,
            reduce_only=self.reduce_only,
            stop_loss=self.stop_loss,
            take_profit=self.take_profit,
        )


@dataclass(frozen=True, kw_only=True)
class Fill:
    """An execution; `fee` is what the account paid (negative for a maker rebate)."""

    order_id: str
    symbol: str
    side: Side
    size: float
    price: float
    fee: float
    time: datetime

    def __post_init__(self) -> None:
        _check_text("order_id", self.order_id)
        _check_text("symbol", self.symbol)
        if self.side not in SIDES:
            raise InvalidTradingRecord(f"side must be one of {SIDES}, got {self.side!r}")
        check_positive("size", self.size)
        check_positive("price", self.price)
        check_finite("fee", self.fee)
        check_aware("time", self.time)

    @property
    def signed_size(self) -> float:
        return self.size if self.side == "buy" else -self.size

    def to_event(self, subaccount: int, strategy_id: str) -> OrderFilled:
        return OrderFilled(
            aggregate_id=str(subaccount),
            occurred_at=self.time,
            order_id=self.order_id,
            strategy_id=strategy_id,
            symbol=self.symbol,
            side=self.side,
            size=self.size,
            price=self.price,
            fee=self.fee,
            filled_at=self.time,
        )

    @classmethod
    def from_event(cls, event: OrderFilled) -> Fill:
        if event.side not in SIDES:
            raise InvalidTradingRecord(f"side must be one of {SIDES}, got {event.side!r}")
        side: Side = "buy" if event.side == "buy" else "sell"
        return cls(
            order_id=event.order_id,
            symbol=event.symbol,
            side=side,
            size=event.size,
            price=event.price,
            fee=event.fee,
            time=event.filled_at,
        )


@dataclass(frozen=True, kw_only=True)
class Position:
    """An open position; `entry_fees` are the opening fees not yet charged to a closed Trade."""

    symbol: str
    direction: PositionDirection
    size: float
    entry_price: float
    opened_at: datetime
    stop_loss: float | None = None
    take_profit: float | None = None
    entry_fees: float = 0.0

    def __post_init__(self) -> None:
        _check_text("symbol", self.symbol)
        _check_direction(self.direction)
        check_positive("size", self.size)
        check_positive("entry_price", self.entry_price)
        check_aware("opened_at", self.opened_at)
        check_finite("entry_fees", self.entry_fees)
        _check_brackets(self.direction, self.stop_loss, self.take_profit, InvalidTradingRecord)

    @property
    def sign(self) -> int:
        return 1 if self.direction == "long" else -1

    def unrealized_pnl(self, mark: float) -> float:
        check_positive("mark price", mark)
        return (mark - self.entry_price) * self.size * self.sign

    def notional(self, mark: float) -> float:
        check_positive("mark price", mark)
        return self.size * mark


@dataclass(frozen=True, kw_only=True)
class Trade:
    """A closed round trip (or the closed part of a position); `pnl` is net of `fees`."""

    id: str
    symbol: str
    direction: PositionDirection
    size: float
    entry_price: float
    exit_price: float
    entry_time: datetime
    exit_time: datetime
    pnl: float
    fees: float
    exit_reason: str

    def __post_init__(self) -> None:
        _check_text("trade id", self.id)
        _check_text("symbol", self.symbol)
        _check_direction(self.direction)
        check_positive("size", self.size)
        check_positive("entry_price", self.entry_price)
        check_positive("exit_price", self.exit_price)
        check_aware("entry_time", self.entry_time)
        check_aware("exit_time", self.exit_time)
        if self.exit_time.astimezone(UTC) < self.entry_time.astimezone(UTC):
            raise InvalidTradingRecord(f"trade exits ({self.exit_time}) before it enters ({self.entry_time})")
        check_finite("pnl", self.pnl)
        check_finite("fees", self.fees)
        _check_text("exit_reason", self.exit_reason)

    @property
    def gross_pnl(self) -> float:
        return self.pnl + self.fees

    def to_event(self, subaccount: int, strategy_id: str) -> TradeClosed:
        return TradeClosed(
            aggregate_id=str(subaccount),
            occurred_at=self.exit_time,
            trade_id=self.id,
            strategy_id=strategy_id,
            symbol=self.symbol,
            direction=self.direction,
            size=self.size,
            entry_price=self.entry_price,
            exit_price=self.exit_price,
            entry_time=self.entry_time,
            exit_time=self.exit_time,
            pnl=self.pnl,
            fees=self.fees,
            exit_reason=self.exit_reason,
        )
