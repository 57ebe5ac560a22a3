"""Placing an order on Hyperliquid at most once per client order id (cloid), and reading its fate.

Before anything is sent the venue is asked about the cloid (orderStatus): an order it already has
is answered from there, never sent again. Final answers (filled, cancelled) are kept in memory, so
asking again costs nothing. When a send fails in a way that leaves the outcome open (timeout,
dropped connection, 429, 5xx), the venue is asked again: found -> its state; not found -> the
order is resent, with backoff, at most `retries` times; still unconfirmed -> OrderStateUnknown.
A resend can never double an order: the venue refuses a cloid it has seen (the duplicate answer
leads to the status query too).

Orders of one subaccount are placed one at a time (a lock), so the same cloid is never in flight
twice from this process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from hyperliquid.exchange import Exchange as SdkExchange
from hyperliquid.utils.signing import OrderRequest, order_request_to_order_wire, order_wires_to_order_action
from hyperliquid.utils.types import Cloid

from adapters.hyperliquid import order_wire
from adapters.hyperliquid.exchange_errors import (
    action_error,
    is_duplicate_cloid,
    is_nonce_error,
    order_rejected,
    rejected_from_status,
    scrub,
)
from adapters.hyperliquid.exchange_transport import HyperliquidTransport, SendFailed
from application.ports.exchange import ExchangeError, ExchangeUnavailable, OrderAck, OrderRejected, OrderStateUnknown
from domain.trading import Side

T = TypeVar("T")


class HyperliquidOrders:
    def __init__(self, transport: HyperliquidTransport, exchange: Callable[[], SdkExchange], user: str) -> None:
        self._transport = transport
        self._exchange = exchange
        self._user = user
        self._final: dict[str, OrderAck] = {}
        self._lock = threading.Lock()

    def place(self, cloid: str, build: Callable[[], OrderRequest], *, first_send: bool = False) -> OrderAck:
        """The ack of the order with this cloid, sending `build()` only if the venue does not have it.

        `first_send`: the caller vouches the cloid was never sent, so the venue is not asked first;
        a failure after sending is still resolved by asking. Raises OrderRejected when the venue
        refused it (now or on an earlier attempt)."""
        return self.place_many([(cloid, build)], first_send=first_send)[0]

    def place_many(self, orders: Sequence[tuple[str, Callable[[], OrderRequest]]], *,
                   first_send: bool = False) -> list[OrderAck]:
        """`place_each`, raising the first refusal: the orders before it in the action may rest on
        the venue then."""
        acks = []
        for outcome in self.place_each(orders, first_send=first_send):
            if isinstance(outcome, OrderRejected):
                raise outcome
            acks.append(outcome)
        return acks

    def place_each(self, orders: Sequence[tuple[str, Callable[[], OrderRequest]]], *,
                   first_send: bool = False) -> list[OrderAck | OrderRejected]:
        """`place` for several orders in one order action; the venue executes them in the order
        given, each on its own. Each order's ack, or its refusal as a value. After an open outcome
        each cloid is asked about and only those the venue does not have are sent again."""
        with self._lock:
            outcomes: dict[str, OrderAck | OrderRejected] = {}
            todo: list[tuple[str, OrderRequest]] = []
            for cloid, build in orders:
                known = self._final.get(cloid) if first_send else _refusal_kept(self._known, cloid, strict=True)
                if known is not None:
                    outcomes[cloid] = known
                else:
                    todo.append((cloid, build()))
            detail = "no attempt made"
            for attempt in range(self._transport.retries + 1):
                if not todo:
                    break
                first = todo[0][0]
                wires = [order_request_to_order_wire(r, self._transport.asset(r["coin"])) for _, r in todo]
                action = order_wires_to_order_action(wires, None, "na")
                try:
                    if attempt:
                        self._transport.pause(attempt - 1, f"order {first} unconfirmed ({detail})")
                    reply = self._transport.send_action(self._exchange(), action)
                except ExchangeUnavailable as exc:  # closed meanwhile: what was sent before stays open
                    if attempt:
                        raise OrderStateUnknown(first, f"{detail}; then {exc}") from None
                    raise
                except SendFailed as exc:
                    detail = exc.detail
                else:
                    answered = self._outcomes(todo, reply)
                    if answered is not None:
                        outcomes.update(answered)
                        todo = []
                        break
                    detail = "the venue refused the nonce"
                unresolved = []
                for cloid, request in todo:
                    known = _refusal_kept(self._recover, cloid, detail)
                    if known is None:
                        unresolved.append((cloid, request))
                    else:
                        outcomes[cloid] = known
                todo = unresolved
            if todo:
                raise OrderStateUnknown(todo[0][0], f"no confirmation after {self._transport.retries + 1} attempts: "
                                                    f"{detail}")
            return [outcomes[cloid] for cloid, _ in orders]

    def status(self, cloid: str) -> OrderAck | None:
        """What the venue knows of the cloid; a rejected order reads as cancelled with nothing filled."""
        return self._known(cloid, strict=False)

    # -- internals --------------------------------------------------------------------------------
    def _outcomes(self, sent: Sequence[tuple[str, OrderRequest]],
                  reply: Any) -> dict[str, OrderAck | OrderRejected] | None:
        """The ack or refusal of each order in a reply; None when the action was refused before it
        was looked at (nonce)."""
        if not isinstance(reply, dict) or reply.get("status") not in ("ok", "err"):
            raise ExchangeError(f"unexpected Hyperliquid order reply: {scrub(repr(reply))}")
        if reply["status"] == "err":
            message = str(reply.get("response"))
            if is_nonce_error(message):
                return None
            return {cloid: order_rejected(cloid, message) for cloid, _ in sent}
        statuses = order_wire.parse("order reply", reply, lambda r: list(r["response"]["data"]["statuses"]))
        if len(statuses) != len(sent):
            raise ExchangeError(f"Hyperliquid answered {len(statuses)} statuses to {len(sent)} orders")
        return {cloid: _refusal_kept(self._outcome, cloid, request, status)
                for (cloid, request), status in zip(sent, statuses, strict=True)}

    def _outcome(self, cloid: str, request: OrderRequest, status: Any) -> OrderAck:
        if isinstance(status, dict) and "error" in status:
            message = str(status["error"])
            if is_duplicate_cloid(message):
                found = self._recover(cloid, "the venue has this cloid")
                if found is None:
                    raise OrderStateUnknown(cloid, "the venue says the cloid is taken but has no order for it")
                return found
            raise order_rejected(cloid, message)
        side: Side = "buy" if request["is_buy"] else "sell"
        size = float(request["sz"])
        if isinstance(status, dict) and "filled" in status:
            filled = status["filled"]
            ack = order_wire.parse("filled status", filled, lambda f: OrderAck(
                cloid, str(f["oid"]), "filled", request["coin"], side, size,
                filled_size=float(f["totalSz"]), average_price=float(f["avgPx"])))
            self._final[cloid] = ack
            return ack
        if isinstance(status, dict) and "resting" in status:
            return OrderAck(cloid, str(status["resting"]["oid"]), "resting", request["coin"], side, size)
        raise ExchangeError(f"unexpected Hyperliquid order status: {scrub(repr(status))}")

    def _recover(self, cloid: str, detail: str) -> OrderAck | None:
        """After a send whose outcome is open: the venue's word on the cloid, or OrderStateUnknown."""
        try:
            return self._known(cloid, strict=True)
        except OrderRejected:
            raise
        except ExchangeError as exc:
            raise OrderStateUnknown(cloid, f"{detail}; then asking the venue failed: {exc}") from None

    def _known(self, cloid: str, *, strict: bool) -> OrderAck | None:
        cached = self._final.get(cloid)
        if cached is not None:
            return cached
        reply = self._transport.read("orderStatus", lambda info: info.query_order_by_cloid(
            self._user, Cloid.from_str(cloid)))
        if isinstance(reply, dict) and reply.get("status") == "unknownOid":
            return None
        entry = order_wire.parse("orderStatus", reply, lambda r: r["order"])
        order, status = entry.get("order", {}), str(entry.get("status"))
        kind = order_wire.parse("orderStatus", status, order_wire.status_kind)
        if kind == "rejected":
            if strict:
                raise rejected_from_status(cloid, status)
            kind = "cancelled"
        ack = order_wire.parse("orderStatus", order, lambda o: self._ack(cloid, o, kind))
        if ack.status in ("filled", "cancelled"):
            self._final[cloid] = ack
        return ack

    def _ack(self, cloid: str, order: dict[str, Any], kind: str) -> OrderAck:
        orig, left = float(order["origSz"]), float(order["sz"])
        filled, average = (orig - left if kind != "filled" else orig), None
        if filled > 0:
            oid = int(order["oid"])
            since = int(order["timestamp"])
            fills = self._transport.read("userFillsByTime", lambda info: info.user_fills_by_time(self._user, since))
            got, average = order_wire.parse("userFillsByTime", fills, lambda f: order_wire.fill_totals(f, oid))
            filled = got if got > 0 else filled
        return OrderAck(cloid, str(order["oid"]), kind, order["coin"], order_wire.side_of(order["side"]),  # type: ignore[arg-type]
                        orig, filled_size=filled, average_price=average)


def _refusal_kept(ask: Callable[..., T], *args: Any, **kwargs: Any) -> T | OrderRejected:
    """What `ask(*args, **kwargs)` answers, a refusal of the order as the value instead of raised."""
    try:
        return ask(*args, **kwargs)
    except OrderRejected as refused:
        return refused


def action_reply(what: str, reply: Any) -> list[Any]:
    """The statuses of an accepted non-order action; the venue's refusal as an ExchangeError."""
    if isinstance(reply, dict) and reply.get("status") == "err":
        raise action_error(what, str(reply.get("response")))
    if not isinstance(reply, dict) or reply.get("status") != "ok":
        raise ExchangeError(f"unexpected Hyperliquid {what} reply: {scrub(repr(reply))}")
    data = reply.get("response", {}).get("data") or {}
    statuses = data.get("statuses", [])
    return list(statuses)
