"""The paper venue's rules, as Hyperliquid applies them: what an order does to a ledger.

Each function reads a PaperLedger and returns the events the venue would record, or raises
the typed rejection; nothing is written here, so the caller can re-decide on fresh state
when another writer got to the stream first.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from adapters.paper.ledger import PaperLedger
from adapters.paper.market import PaperMarket
from application.ports.exchange import (
    AccountState,
    ExchangeError,
    InsufficientMargin,
    MarketOrderRequest,
    OrderRejected,
    TriggerOrderRequest,
)
from domain.errors import InvalidOrder
from domain.instruments import Instrument
from domain.paper_events import PaperEvent, PaperLeverageSet, PaperOrderFilled, PaperOrdersCancelled, PaperTriggerPlaced
from domain.trading import SIDES, Side, closing_side

_MARGIN_TOLERANCE = 1e-9
"""Relative slack on margin checks, so float noise never refuses an order that exactly fits."""


@dataclass(frozen=True)
class PaperTerms:
    capital: float
    fee_rate: float
    slippage: float
    min_notional: float
    leverage: int


def signed(side: Side, size: float) -> float:
    return size if side == "buy" else -size


def held(ledger: PaperLedger, instrument: Instrument) -> float:
    """The signed position, on the size grid: the Portfolio's float sums carry noise below it."""
    position = ledger.position(instrument.symbol)
    if position is None:
        return 0.0
    return round(position.size * position.sign, instrument.sz_decimals)


def fill_price(instrument: Instrument, reference: float, side: Side, slippage: float) -> float:
    """Slippage always against the taker: a buy pays more, a sell gets less."""
    return instrument.round_price(reference * (1 + slippage if side == "buy" else 1 - slippage))


def leverage_of(ledger: PaperLedger, terms: PaperTerms, symbol: str) -> int:
    return ledger.leverage.get(symbol, terms.leverage)


def margin_used(ledger: PaperLedger, market: PaperMarket, terms: PaperTerms) -> float:
    return sum((p.notional(market.mid(s)) / leverage_of(ledger, terms, s)
                for s, p in ledger.book.positions.items()), 0.0)


def account_state(ledger: PaperLedger, market: PaperMarket, terms: PaperTerms) -> AccountState:
    book = ledger.book
    value = book.cash + sum((p.unrealized_pnl(market.mid(s)) for s, p in book.positions.items()), 0.0)
    used = margin_used(ledger, market, terms)
    return AccountState(subaccount=ledger.subaccount, account_value=value, margin_used=used,
                        withdrawable=max(0.0, value - used))


def rounded_size(instrument: Instrument, client_order_id: str, size: float) -> float:
    try:
        rounded = instrument.round_size(size)
    except InvalidOrder as exc:
        raise OrderRejected(client_order_id, str(exc)) from None
    if rounded <= 0:
        raise OrderRejected(client_order_id, f"size {size} rounds to 0 at {instrument.sz_decimals} decimals")
    return rounded


def check_request(client_order_id: str, side: str, max_slippage: float) -> None:
    """What the types promise but a caller could still break at run time."""
    if side not in SIDES:
        raise OrderRejected(client_order_id, f"side must be one of {SIDES}, got {side!r}")
    if isinstance(max_slippage, bool) or not isinstance(max_slippage, int | float) \
            or not math.isfinite(max_slippage) or max_slippage < 0:
        raise OrderRejected(client_order_id, f"max_slippage must be a finite fraction >= 0, got {max_slippage!r}")


def market_order(ledger: PaperLedger, market: PaperMarket, terms: PaperTerms, request: MarketOrderRequest,
                 now: datetime) -> list[PaperEvent]:
    cloid, symbol, side = request.client_order_id, request.symbol, request.side
    check_request(cloid, side, request.max_slippage)
    instrument = market.instrument(symbol)
    size = rounded_size(instrument, cloid, request.size)
    if terms.slippage > request.max_slippage:
        raise OrderRejected(cloid, f"the fill would be {terms.slippage:.4%} from the mid, beyond the cap of "
                            f"{request.max_slippage:.4%}", code="IocCancel")
    mid = market.mid(symbol)
    price = fill_price(instrument, mid, side, terms.slippage)
    position = held(ledger, instrument)
    requested = size
    if request.reduce_only:
        if position == 0 or (position > 0) == (side == "buy"):
            raise OrderRejected(cloid, f"reduce-only {side} would open or increase the {symbol} position",
                                code="ReduceOnly")
        size = min(size, abs(position))
    else:
        notional = size * price
        if notional < terms.min_notional:
            raise OrderRejected(cloid, f"notional {notional:.2f} is below the minimum of {terms.min_notional:.2f}",
                                code="MinTradeNtl")
        _check_margin(ledger, market, terms, request, position, size * (1 if side == "buy" else -1), price)
    order_id = ledger.next_order_id()
    fill = PaperOrderFilled(
        aggregate_id=str(ledger.subaccount), occurred_at=now, client_order_id=cloid, venue_order_id=order_id,
        fill_id=fill_id(order_id), symbol=symbol, side=side, size=size, price=price,
        fee=terms.fee_rate * size * price, reduce_only=request.reduce_only, kind="market", filled_at=now,
        requested_size=requested if requested != size else None,
    )
    return [fill, *close_out(ledger, symbol, position, signed(side, size), now, exclude=cloid)]


def market_orders_in_turn(ledger: PaperLedger, market: PaperMarket, terms: PaperTerms,
                          requests: Sequence[MarketOrderRequest], now: datetime,
                          refused: dict[str, OrderRejected]) -> tuple[list[PaperEvent], ExchangeError | None]:
    """The events of `requests`, each order decided on `ledger` with the ones before it folded in
    (the caller forgets the ledger when they are not written). An order id on the ledger already is
    that order: skipped. A refusal goes into `refused` and the next order is decided all the same;
    another error ends the batch: raised when no order was decided yet (nothing folded in), else
    returned with the events of the orders before it."""
    decided: list[PaperEvent] = []
    for request in requests:
        if request.client_order_id in ledger.orders:
            continue
        try:
            events = market_order(ledger, market, terms, request, now)
        except OrderRejected as exc:
            refused[request.client_order_id] = exc
            continue
        except ExchangeError as exc:
            if not decided:
                raise
            return decided, exc
        decided += events
        for event in events:
            ledger.apply(event)
    return decided, None


def _check_margin(ledger: PaperLedger, market: PaperMarket, terms: PaperTerms, request: MarketOrderRequest,
                  position: float, delta: float, price: float) -> None:
    """Only the margin an order adds must fit in what is free; reducing never needs margin."""
    leverage = leverage_of(ledger, terms, request.symbol)
    added = (abs(position + delta) - abs(position)) * price / leverage
    if added <= 0:
        return
    state = account_state(ledger, market, terms)
    free = state.account_value - state.margin_used
    if added > free + _MARGIN_TOLERANCE * max(abs(free), 1.0):
        raise InsufficientMargin(request.client_order_id, f"needs {added:.2f} USDC of margin at {leverage}x, "
                                 f"{max(free, 0.0):.2f} free", code="PerpMargin")


def fill_id(order_id: str) -> str:
    """Paper orders fill in one execution, so the order id names the fill."""
    return f"{order_id}-fill"


def close_out(ledger: PaperLedger, symbol: str, before: float, delta: float, now: datetime,
              exclude: str) -> list[PaperEvent]:
    """A position that goes flat (or flips) takes its reduce-only triggers with it, as on Hyperliquid."""
    after = before + delta
    flat = abs(after) <= abs(before) * 1e-9
    if before == 0 or not (flat or (after > 0) != (before > 0)):
        return []
    ids = tuple(o.client_order_id for o in ledger.resting_triggers(symbol) if o.client_order_id != exclude)
    if not ids:
        return []
    return [PaperOrdersCancelled(aggregate_id=str(ledger.subaccount), occurred_at=now, client_order_ids=ids,
                                 reason="position_closed")]


def trigger_order(ledger: PaperLedger, market: PaperMarket, request: TriggerOrderRequest,
                  now: datetime, ahead: int = 0) -> list[PaperEvent]:
    """`ahead`: orders decided before this one in the same append (ledger.next_order_id)."""
    cloid, symbol = request.client_order_id, request.symbol
    check_request(cloid, request.side, request.max_slippage)
    if request.kind not in ("stop_loss", "take_profit"):
        raise OrderRejected(cloid, f"trigger kind must be stop_loss or take_profit, got {request.kind!r}")
    instrument = market.instrument(symbol)
    size = rounded_size(instrument, cloid, request.size)
    position = held(ledger, instrument)
    if position == 0 or closing_side("long" if position > 0 else "short") != request.side:
        raise OrderRejected(cloid, f"a reduce-only {request.side} trigger needs a {symbol} position it closes",
                            code="ReduceOnly")
    try:
        trigger_price = instrument.round_price(request.trigger_price)
    except InvalidOrder as exc:
        raise OrderRejected(cloid, str(exc), code="BadTriggerPx") from None
    newest = market.latest_bar(symbol)
    in_progress = newest.open_time >= market.bar_open(now)
    return [PaperTriggerPlaced(
        aggregate_id=str(ledger.subaccount), occurred_at=now, client_order_id=cloid,
        venue_order_id=ledger.next_order_id(ahead), symbol=symbol, side=request.side, size=size,
        trigger_price=trigger_price, kind=request.kind, max_slippage=request.max_slippage,
        armed_after=max(newest.open_time, market.bar_open(now)),
        armed_high=newest.high if in_progress else None, armed_low=newest.low if in_progress else None,
    )]


def cancel(ledger: PaperLedger, symbol: str | None, now: datetime, reason: str,
           only: Collection[str] | None = None) -> list[PaperEvent]:
    """The resting triggers of `symbol` (or all), those named in `only` when given."""
    ids = tuple(o.client_order_id for o in ledger.resting_triggers(symbol) if only is None or o.client_order_id in only)
    if not ids:
        return []
    return [PaperOrdersCancelled(aggregate_id=str(ledger.subaccount), occurred_at=now, client_order_ids=ids,
                                 reason=reason)]


def set_leverage(ledger: PaperLedger, market: PaperMarket, terms: PaperTerms, symbol: str, leverage: int,
                 now: datetime) -> list[PaperEvent]:
    cap = market.instrument(symbol).max_leverage if ledger.position(symbol) is not None else market.leverage_cap(symbol)
    if isinstance(leverage, bool) or not isinstance(leverage, int) or not 1 <= leverage <= cap:
        raise ExchangeError(f"{symbol}: leverage must be an int in [1, {cap}], got {leverage!r}")
    if leverage_of(ledger, terms, symbol) == leverage:
        return []
    position = ledger.position(symbol)
    if position is not None:
        current = leverage_of(ledger, terms, symbol)
        extra = position.notional(market.mid(symbol)) * (1 / leverage - 1 / current)
        state = account_state(ledger, market, terms)
        if extra > state.account_value - state.margin_used:
            raise ExchangeError(f"{symbol}: {leverage}x would need {extra:.2f} USDC more margin than is free")
    return [PaperLeverageSet(aggregate_id=str(ledger.subaccount), occurred_at=now, symbol=symbol, leverage=leverage)]
