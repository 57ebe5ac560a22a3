"""One Hyperliquid subaccount behind the exchange port: reads as `user`, actions signed for its vault.

Every /info read names the subaccount's own address as `user` and every action carries it as
`vaultAddress`, so nothing one subaccount does can touch another. Sizes are rounded down to the
asset's size step and prices to its grid before sending (domain.instruments); a market order is
an IOC limit order at mid x (1 +/- max_slippage) on the grid, and a trigger order is a reduce-only
stop/take-profit market order whose limit is the trigger -/+ its max_slippage.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from hyperliquid.exchange import Exchange as SdkExchange
from hyperliquid.utils.signing import OrderRequest
from hyperliquid.utils.types import Cloid

from adapters.hyperliquid import order_wire
from adapters.hyperliquid.exchange_errors import scrub
from adapters.hyperliquid.exchange_transport import HyperliquidTransport, SendFailed
from adapters.hyperliquid.orders import HyperliquidOrders, action_reply
from application.ports.exchange import (
    AccountState,
    ExchangeError,
    ExchangeFill,
    ExchangePosition,
    ExchangeUnavailable,
    MarketOrderRequest,
    OpenOrder,
    OrderAck,
    OrderRejected,
    TriggerOrderRequest,
    UnknownInstrument,
)
from domain.client_order_ids import client_order_id, is_client_order_id
from domain.errors import InvalidOrder
from domain.instruments import Instrument
from domain.trading import SIDES, closing_side

logger = logging.getLogger(__name__)
FILLS_PAGE = 2000  # the most fills userFillsByTime returns at once


class HyperliquidSubaccount:
    def __init__(self, number: int, user: str, transport: HyperliquidTransport,
                 exchange: Callable[[], SdkExchange]) -> None:
        self._number = number
        self._user = user
        self._transport = transport
        self._exchange = exchange
        self._orders = HyperliquidOrders(transport, exchange, user)

    def __repr__(self) -> str:
        return f"HyperliquidSubaccount({self._number})"

    @property
    def subaccount(self) -> int:
        return self._number

    # -- reads ------------------------------------------------------------------------------------
    def account(self) -> AccountState:
        return order_wire.parse("clearinghouseState", self._state(),
                                lambda s: order_wire.account_state(self._number, s))

    def positions(self) -> list[ExchangePosition]:
        return order_wire.parse("clearinghouseState", self._state(), order_wire.positions)

    def open_orders(self) -> list[OpenOrder]:
        orders = self._transport.read("frontendOpenOrders", lambda info: info.frontend_open_orders(self._user))
        return order_wire.parse("frontendOpenOrders", orders, order_wire.open_orders)

    def mid_price(self, symbol: str) -> float:
        self._transport.instrument(symbol)
        mids = self._transport.all_mids()
        if not isinstance(mids, dict):
            raise ExchangeError(f"unexpected Hyperliquid allMids payload: {scrub(repr(mids))}")
        if symbol not in mids:
            raise UnknownInstrument(f"Hyperliquid has no mid price for {symbol!r}")
        return order_wire.parse("allMids", mids[symbol], float)

    def mid_and_account(self, symbol: str) -> tuple[float, AccountState]:
        """The account is read on another thread while this one reads the mid; both are waited
        for, and the first failure is raised."""
        self._transport.instrument(symbol)
        account = self._transport.in_background(self.account)
        try:
            mid = self.mid_price(symbol)
        finally:
            state = account.result()
        return mid, state

    def fills_since(self, since: datetime) -> list[ExchangeFill]:
        """Pages forward from the last time received while full pages come back; a fill at the page
        edge comes twice and is kept once (by its trade id)."""
        start = order_wire.to_ms(since)
        seen: dict[str, dict[str, Any]] = {}
        while True:
            page = self._fills_page(start)
            if not isinstance(page, list):
                raise ExchangeError(f"unexpected Hyperliquid userFillsByTime payload: {scrub(repr(page))}")
            keyed = order_wire.parse("userFillsByTime", page, lambda p: {order_wire.fill_id(f): f for f in p})
            fresh = {key: f for key, f in keyed.items() if key not in seen}
            seen.update(fresh)
            if len(page) < FILLS_PAGE or not fresh:
                break
            start = max(int(f["time"]) for f in page)
        return order_wire.parse("userFillsByTime", list(seen.values()), order_wire.fills)

    def one_moment(self) -> AbstractContextManager[None]:
        """Hyperliquid prices every order on its own book: nothing to hold."""
        return nullcontext()

    # -- orders -----------------------------------------------------------------------------------
    def market_order(self, request: MarketOrderRequest) -> OrderAck:
        return self._orders.place(request.client_order_id, self._market_wire(request), first_send=request.first_send)

    def market_orders(self, requests: Sequence[MarketOrderRequest]) -> list[OrderAck | OrderRejected]:
        """One order action: a reversal's close and entry cost one signed request, executed by the
        venue in the order given. Sent without asking first only when every one is a first send."""
        builds = [(r.client_order_id, self._market_wire(r)) for r in requests]
        return self._orders.place_each(builds, first_send=_batch_first_send(requests))

    def _market_wire(self, request: MarketOrderRequest) -> Callable[[], OrderRequest]:
        inst, size = self._checked(request.client_order_id, request.symbol, request.side, request.size)
        _slippage(request.max_slippage)
        is_buy = request.side == "buy"
        reference = request.reference_mid
        if reference is not None and not (math.isfinite(reference) and reference > 0):
            raise InvalidOrder(f"reference_mid must be a positive price, got {request.reference_mid!r}")

        def build() -> OrderRequest:
            mid = request.reference_mid if request.reference_mid is not None else self.mid_price(request.symbol)
            price = inst.round_price(mid * (1 + request.max_slippage if is_buy else 1 - request.max_slippage))
            return {"coin": request.symbol, "is_buy": is_buy, "sz": size, "limit_px": price,
                    "order_type": {"limit": {"tif": "Ioc"}}, "reduce_only": request.reduce_only,
                    "cloid": Cloid.from_str(request.client_order_id)}
        return build

    def trigger_order(self, request: TriggerOrderRequest) -> OrderAck:
        order = self._trigger_wire(request)
        return self._orders.place(request.client_order_id, lambda: order, first_send=request.first_send)

    def trigger_orders(self, requests: Sequence[TriggerOrderRequest]) -> list[OrderAck]:
        """One order action for all of them: a stop and a target cost one signed request, not two.
        Each is first sent only when every one of them is (`first_send`), else each is asked about."""
        first_send = _batch_first_send(requests)
        wires = [(r.client_order_id, self._trigger_wire(r)) for r in requests]
        return self._orders.place_many([(cloid, lambda w=wire: w) for cloid, wire in wires], first_send=first_send)

    def _trigger_wire(self, request: TriggerOrderRequest) -> OrderRequest:
        inst, size = self._checked(request.client_order_id, request.symbol, request.side, request.size)
        _slippage(request.max_slippage)
        if request.kind not in ("stop_loss", "take_profit"):
            raise InvalidOrder(f"trigger kind must be stop_loss or take_profit, got {request.kind!r}")
        is_buy = request.side == "buy"
        trigger = inst.round_price(request.trigger_price)
        limit = inst.round_price(trigger * (1 + request.max_slippage if is_buy else 1 - request.max_slippage))
        return {
            "coin": request.symbol, "is_buy": is_buy, "sz": size, "limit_px": limit, "reduce_only": True,
            "order_type": {"trigger": {"triggerPx": trigger, "isMarket": True,
                                       "tpsl": "sl" if request.kind == "stop_loss" else "tp"}},
            "cloid": Cloid.from_str(request.client_order_id)}

    def order_status(self, client_order_id: str) -> OrderAck | None:
        _cloid(client_order_id)
        return self._orders.status(client_order_id)

    def close_all(self, intent: str, max_slippage: float) -> list[OrderAck]:
        """Tries every position even when one fails; then raises the first failure."""
        acks, failures = [], []
        for pos in self.positions():
            request = MarketOrderRequest(client_order_id(intent, pos.symbol), pos.symbol,
                                         closing_side(pos.direction), pos.size, max_slippage, reduce_only=True)
            try:
                acks.append(self.market_order(request))
            except ExchangeError as exc:
                logger.error("subaccount %d: closing %s failed: %s", self._number, pos.symbol, exc)
                failures.append(exc)
        if failures:
            raise failures[0]
        return acks

    def cancel_all(self, symbol: str | None = None) -> list[str]:
        """The ids (client order id when the order has one, else the venue's) of the orders cancelled.
        After a send with an open outcome, orders that vanished count as cancelled only when the
        venue says so (a trigger may have filled meanwhile); the rest are sent again."""
        if symbol is not None:
            self._transport.instrument(symbol)
        pending = [o for o in self.open_orders() if symbol is None or o.symbol == symbol]
        cancelled: list[str] = []
        for attempt in range(self._transport.retries + 1):
            if not pending:
                return cancelled
            if attempt:
                self._transport.pause(attempt - 1, f"cancel of {len(pending)} orders unconfirmed")
            action = {"type": "cancel",
                      "cancels": [{"a": self._transport.asset(o.symbol), "o": int(o.order_id)} for o in pending]}
            try:
                statuses = action_reply("cancel", self._transport.send_action(self._exchange(), action))
            except SendFailed:
                still_open = {o.order_id for o in self.open_orders()}
                gone = [o for o in pending if o.order_id not in still_open]
                cancelled += [_id(o) for o in gone if self._cancelled_by_venue(int(o.order_id))]
                pending = [o for o in pending if o.order_id in still_open]
                continue
            return cancelled + _cancelled([(_id(o), o.order_id) for o in pending], statuses, strict=False)
        raise ExchangeUnavailable(f"cancelling {len(pending)} orders stayed unconfirmed after "
                                  f"{self._transport.retries + 1} attempts")

    def cancel_orders(self, symbol: str, client_order_ids: Sequence[str]) -> list[str]:
        """One cancelByCloid action for all of them, no read first. After a send with an open
        outcome each id is looked up: cancelled counts, still resting is sent again, the rest
        (filled meanwhile, never placed) is left out."""
        for cloid in client_order_ids:
            _cloid(cloid)
        asset = self._transport.asset(symbol)
        pending, cancelled = list(dict.fromkeys(client_order_ids)), []
        for attempt in range(self._transport.retries + 1):
            if not pending:
                return cancelled
            if attempt:
                self._transport.pause(attempt - 1, f"cancel of {len(pending)} orders unconfirmed")
            action = {"type": "cancelByCloid", "cancels": [{"asset": asset, "cloid": cloid} for cloid in pending]}
            try:
                statuses = action_reply("cancel", self._transport.send_action(self._exchange(), action))
            except SendFailed:
                fates = {cloid: self._orders.status(cloid) for cloid in pending}
                cancelled += [c for c, ack in fates.items() if ack is not None and ack.status == "cancelled"]
                pending = [c for c, ack in fates.items() if ack is not None and ack.status == "resting"]
                continue
            if len(statuses) != len(pending):
                raise ExchangeError(f"Hyperliquid answered {len(statuses)} statuses to {len(pending)} cancels")
            return cancelled + _cancelled([(cloid, cloid) for cloid in pending], statuses, strict=True)
        raise ExchangeUnavailable(f"cancelling {len(pending)} orders stayed unconfirmed after "
                                  f"{self._transport.retries + 1} attempts")

    def set_leverage(self, symbol: str, leverage: int) -> None:
        if isinstance(leverage, bool) or not isinstance(leverage, int) or leverage < 1:
            raise InvalidOrder(f"leverage must be a positive int, got {leverage!r}")
        action = {"type": "updateLeverage", "asset": self._transport.asset(symbol), "isCross": True,
                  "leverage": leverage}
        for attempt in range(self._transport.retries + 1):
            if attempt:
                self._transport.pause(attempt - 1, f"leverage update for {symbol} unconfirmed")
            try:
                action_reply(f"leverage {leverage} for {symbol}", self._transport.send_action(self._exchange(), action))
                return
            except SendFailed:  # setting a value is safe to repeat
                continue
        raise ExchangeUnavailable(f"setting {symbol} leverage failed after {self._transport.retries + 1} attempts")

    # -- internals --------------------------------------------------------------------------------
    def _state(self) -> Any:
        return self._transport.read("clearinghouseState", lambda info: info.user_state(self._user))

    def _fills_page(self, start_ms: int) -> Any:
        return self._transport.read("userFillsByTime", lambda info: info.user_fills_by_time(self._user, start_ms))

    def _checked(self, cloid: str, symbol: str, side: str, size: float) -> tuple[Instrument, float]:
        _cloid(cloid)
        if side not in SIDES:
            raise InvalidOrder(f"side must be one of {SIDES}, got {side!r}")
        inst = self._transport.instrument(symbol)
        rounded = inst.round_size(size)
        if rounded <= 0:
            raise OrderRejected(cloid, f"size {size} is below the {symbol} size step {inst.size_step}", "InvalidSize")
        return inst, rounded

    def _cancelled_by_venue(self, oid: int) -> bool:
        reply = self._transport.read("orderStatus", lambda info: info.query_order_by_oid(self._user, oid))
        status = reply.get("order", {}).get("status") if isinstance(reply, dict) else None
        kind = order_wire.parse("orderStatus", status, order_wire.status_kind) if isinstance(status, str) else None
        return kind == "cancelled"


def _cancelled(orders: list[tuple[str, str]], statuses: list[Any], *, strict: bool) -> list[str]:
    """The ids (first of each pair; the second names the order in an error) the venue says it
    cancelled; an order it no longer has is left out, any other refusal raised."""
    done = []
    for (reported, named), status in zip(orders, statuses, strict=strict):
        if status == "success":
            done.append(reported)
        elif not (isinstance(status, dict) and str(status.get("error", "")).startswith("Order was never")):
            raise ExchangeError(f"Hyperliquid refused to cancel order {named}: {scrub(status)}")
    return done


def _batch_first_send(requests: Sequence[MarketOrderRequest] | Sequence[TriggerOrderRequest]) -> bool:
    """A batch goes out without asking the venue first only when every order in it is a first send."""
    if len({r.client_order_id for r in requests}) != len(requests):
        raise InvalidOrder("each order of a batch needs its own client order id")
    return bool(requests) and all(r.first_send for r in requests)


def _id(order: OpenOrder) -> str:
    return order.client_order_id or order.order_id


def _cloid(value: str) -> None:
    if not is_client_order_id(value):
        raise InvalidOrder(f"client order ids are 0x + 32 lower-case hex digits, got {value!r}")


def _slippage(value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise InvalidOrder(f"max_slippage must be a fraction in [0, 1), got {value!r}")
