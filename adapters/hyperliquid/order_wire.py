"""Hyperliquid account payloads -> the exchange port's values (parsing only, no I/O).

Shapes as recorded (../shared/data/hyperliquid/sdk_recorded): numbers arrive as strings; sides
are "B" (buy) and "A" (ask, sell); a position's sign is in `szi`; trigger orders say what they are
in `orderType` ("Stop Market", "Take Profit Market", also "Stop Limit"/"Take Profit Limit").
Order statuses (orderStatus, historicalOrders): "open", "filled", "triggered", "canceled" and the
"...Canceled" family, "rejected" and the "...Rejected" family. A payload of another shape raises
ExchangeError: an order flow must never guess.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from application.ports.exchange import (
    AccountState,
    ExchangeError,
    ExchangeFill,
    ExchangePosition,
    OpenOrder,
    OrderKind,
)
from domain.trading import Side

from .exchange_errors import scrub

T = TypeVar("T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
StatusKind = Literal["resting", "filled", "cancelled", "rejected"]


def parse(what: str, payload: Any, read: Callable[[Any], T]) -> T:
    """`read(payload)`, any KeyError/TypeError/ValueError turned into an ExchangeError naming `what`."""
    try:
        return read(payload)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise ExchangeError(f"unexpected Hyperliquid {what} payload ({type(exc).__name__}: {scrub(exc)}): "
                            f"{scrub(repr(payload))}") from None


def side_of(code: str) -> Side:
    if code == "B":
        return "buy"
    if code == "A":
        return "sell"
    raise ValueError(f"unknown side {code!r}")


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC)


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ExchangeError(f"a timezone-aware datetime is needed, got {moment!r}")
    return (moment - _EPOCH) // _MS  # exact integer arithmetic: a float product can land 1 ms early


def account_state(subaccount: int, state: Mapping[str, Any]) -> AccountState:
    summary = state["marginSummary"]
    return AccountState(subaccount=subaccount, account_value=float(summary["accountValue"]),
                        margin_used=float(summary["totalMarginUsed"]), withdrawable=float(state["withdrawable"]))


def positions(state: Mapping[str, Any]) -> list[ExchangePosition]:
    held = []
    for item in state["assetPositions"]:
        pos = item["position"]
        szi = float(pos["szi"])
        if szi == 0:
            continue
        leverage = pos.get("leverage") or {}
        held.append(ExchangePosition(
            symbol=pos["coin"], direction="long" if szi > 0 else "short", size=abs(szi),
            entry_price=float(pos["entryPx"]), unrealized_pnl=float(pos.get("unrealizedPnl") or 0.0),
            leverage=int(leverage["value"]) if "value" in leverage else None))
    return sorted(held, key=lambda p: p.symbol)


def order_kind(order: Mapping[str, Any]) -> OrderKind:
    kind = str(order.get("orderType", ""))
    if kind.startswith("Stop"):
        return "stop_loss"
    if kind.startswith("Take Profit"):
        return "take_profit"
    if order.get("isTrigger"):
        raise ValueError(f"unknown trigger order type {kind!r}")
    return "limit"


def order_sort_key(symbol: str, order_id: str) -> tuple[str, int, str]:
    """By symbol, then numerically by order id (venue ids are integers)."""
    return symbol, len(order_id), order_id


def open_orders(orders: Iterable[Mapping[str, Any]]) -> list[OpenOrder]:
    parsed = []
    for order in orders:
        kind = order_kind(order)
        trigger = kind in ("stop_loss", "take_profit")
        parsed.append(OpenOrder(
            order_id=str(order["oid"]), client_order_id=order.get("cloid") or None, symbol=order["coin"],
            side=side_of(order["side"]), size=float(order["sz"]), kind=kind,
            reduce_only=bool(order.get("reduceOnly", False)),
            trigger_price=float(order["triggerPx"]) if trigger else None, limit_price=float(order["limitPx"])))
    return sorted(parsed, key=lambda o: order_sort_key(o.symbol, o.order_id))


def fill_id(fill: Mapping[str, Any]) -> str:
    """The trade id; fills recorded before the venue added `tid` fall back to what tells them apart
    (in the recorded userFills one order's fills can share hash, oid and even startPosition)."""
    if fill.get("tid") is not None:
        return str(fill["tid"])
    return ":".join(str(fill[k]) for k in ("hash", "oid", "startPosition", "px", "sz"))


def fills(items: Iterable[Mapping[str, Any]]) -> list[ExchangeFill]:
    parsed = [ExchangeFill(
        fill_id=fill_id(f), order_id=str(f["oid"]), client_order_id=f.get("cloid") or None, symbol=f["coin"],
        side=side_of(f["side"]), size=float(f["sz"]), price=float(f["px"]), fee=float(f["fee"]),
        time=from_ms(f["time"]), closed_pnl=float(f.get("closedPnl") or 0.0)) for f in items]
    return sorted(parsed, key=lambda f: (f.time, len(f.fill_id), f.fill_id))


def fill_totals(items: Iterable[Mapping[str, Any]], oid: int) -> tuple[float, float | None]:
    """Filled size and average price of one order from raw fills (0.0, None without any)."""
    mine = [(float(f["sz"]), float(f["px"])) for f in items if int(f["oid"]) == oid]
    size = sum(sz for sz, _ in mine)
    if len(mine) == 1:  # exactly the venue's price, without a round trip through a weighted mean
        return mine[0]
    return size, (sum(sz * px for sz, px in mine) / size if size > 0 else None)


def status_kind(status: str) -> StatusKind:
    if status == "open":
        return "resting"
    if status in ("filled", "triggered"):
        return "filled"
    if status == "canceled" or status.endswith("Canceled") or status == "scheduledCancel":
        return "cancelled"
    if status == "rejected" or status.endswith("Rejected"):
        return "rejected"
    raise ValueError(f"unknown order status {status!r}")
