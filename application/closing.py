"""Closing positions on the venue: each close is recorded before it is sent and booked after.

One way for every path that closes (a signal, an unprotected entry, a stop, an emergency, a
shutdown), so a crash between sending and booking always leaves a pending order that
reconciliation resolves, and a close recorded once is never sent under another id.
"""

from __future__ import annotations

from datetime import datetime

from application.ports.exchange import MarketOrderRequest, OrderRejected, SubaccountExchange
from application.subaccount_ledger import SubaccountLedger
from application.venue_fills import fills_for, record_venue_fills
from domain.client_order_ids import client_order_id
from domain.subaccount_book import SubaccountBook
from domain.trading import Order, PositionDirection, closing_side


def close_symbol(ledger: SubaccountLedger, book: SubaccountBook, venue: SubaccountExchange, order_id: str,
                 strategy_id: str, symbol: str, direction: PositionDirection, size: float, max_slippage: float,
                 reason: str, at: datetime, reference_mid: float | None = None) -> None:
    """A reduce-only market order for one position; a refusal is recorded, then raised.

    `reference_mid`: a mid the caller has just read, so the venue need not be asked for it again."""
    side = closing_side(direction)
    first_send = book.place_order(Order(id=order_id, symbol=symbol, side=side, size=size, reduce_only=True),
                                  strategy_id, at)
    ledger.save(book)
    try:
        venue.market_order(MarketOrderRequest(order_id, symbol, side, size, max_slippage, reduce_only=True,
                                              first_send=first_send, reference_mid=reference_mid))
    except OrderRejected as exc:
        book.reject_order(order_id, strategy_id, symbol, exc.reason, exc.code, at)
        ledger.save(book)
        raise
    record_venue_fills(book, fills_for(venue, {order_id}, at), reason=reason)
    ledger.save(book)


def flatten(ledger: SubaccountLedger, book: SubaccountBook, venue: SubaccountExchange, intent: str,
            strategy_id: str, max_slippage: float, reason: str, at: datetime) -> tuple[str, ...]:
    """Close every position the venue shows, ids from `intent`; returns the symbols closed."""
    positions = venue.positions()
    ids = {client_order_id(intent, p.symbol) for p in positions}
    for position in positions:
        book.place_order(Order(id=client_order_id(intent, position.symbol), symbol=position.symbol,
                               side=closing_side(position.direction), size=position.size, reduce_only=True),
                         strategy_id, at)
    ledger.save(book)
    if positions:
        venue.close_all(intent, max_slippage)
        record_venue_fills(book, fills_for(venue, ids, at), reason=reason)
        ledger.save(book)
    return tuple(sorted(p.symbol for p in positions))
