"""Booking what the venue says was executed, once per execution, for the strategy that owns it."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from application.ports.exchange import ExchangeFill, SubaccountExchange
from domain.subaccount_book import EXTERNAL, SubaccountBook
from domain.trading import Fill

CLOCK_SKEW = timedelta(minutes=5)
"""How far the venue's clock may differ from ours when asking it for fills since a moment."""


def owner_of(book: SubaccountBook, order_id: str) -> str:
    if order_id in book.pending_orders:
        return book.pending_orders[order_id].strategy_id
    if order_id in book.open_orders:
        return book.open_orders[order_id].strategy_id
    return book.strategy_id or EXTERNAL


def fills_for(venue: SubaccountExchange, order_ids: Collection[str], since: datetime) -> list[ExchangeFill]:
    """The venue's executions of these client order ids, oldest first."""
    return [f for f in venue.fills_since(since - CLOCK_SKEW) if (f.client_order_id or f.order_id) in order_ids]


def record_venue_fills(book: SubaccountBook, fills: Iterable[ExchangeFill], reason: str = "signal") -> int:
    """Book each fill not booked before (by fill id); returns how many were new."""
    booked = 0
    for venue_fill in sorted(fills, key=lambda f: (f.time, f.fill_id)):
        order_id = venue_fill.client_order_id or venue_fill.order_id
        fill = Fill(order_id=order_id, symbol=venue_fill.symbol, side=venue_fill.side, size=venue_fill.size,
                    price=venue_fill.price, fee=venue_fill.fee, time=venue_fill.time)
        if book.record_fill(fill, owner_of(book, order_id), venue_fill.fill_id, reason):
            booked += 1
    return booked


def book_fired_triggers(book: SubaccountBook, venue: SubaccountExchange, fallback_since: datetime) -> int:
    """Book the fills of our resting triggers (a stop the venue fired) not booked yet."""
    ours = set(book.open_orders)
    if not ours:
        return 0
    since = book.last_fill_at or book.assigned_at or fallback_since
    return record_venue_fills(book, fills_for(venue, ours, since))
