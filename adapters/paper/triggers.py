"""When a paper stop-loss or take-profit fires, read from the bars of the price timeframe.

A bar says only how far the price went (its high and low), not in what order, so:
- a trigger watches the bars that opened after the bar in progress when it was placed, and that
  bar itself only for prices beyond the range it had at placement (made after the trigger existed:
  an entry at a bar's open is protected inside that bar, as in the backtester);
- a stop-loss and a take-profit reached in one bar: the stop fires first (pessimistic, as
  the backtester assumes), and the position it closes takes the take-profit with it;
- a bar that opens beyond the trigger (a gap) fills at its open, not at the trigger price;
- the triggered order then executes as a market order: slippage against it, and no worse than
  max_slippage from the trigger price, else it is cancelled (Hyperliquid's IocCancel).
Everything depends only on the bars and the ledger, so the same candles give the same fills.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from adapters.paper.ledger import PaperLedger, PaperOrder
from adapters.paper.market import Bar, PaperMarket, utc
from adapters.paper.orders import PaperTerms, close_out, fill_id, fill_price, held, signed
from domain.paper_events import PaperEvent, PaperOrderFilled, PaperOrdersCancelled


def falls_through(order: PaperOrder) -> bool:
    """A long's stop and a short's take-profit fire on a fall; the other two on a rise."""
    return (order.side == "sell") == (order.kind == "stop_loss")


def reached(order: PaperOrder, bar: Bar) -> float | None:
    """The price the trigger meets in this bar (its own, or the open after a gap), or None."""
    trigger = order.trigger_price
    if trigger is None:
        return None
    if falls_through(order):
        if bar.open <= trigger:
            return bar.open
        return trigger if bar.low <= trigger else None
    if bar.open >= trigger:
        return bar.open
    return trigger if bar.high >= trigger else None


def fire_next(ledger: PaperLedger, market: PaperMarket, terms: PaperTerms, symbol: str, bars: Sequence[Bar],
              watched_after: Callable[[PaperOrder], datetime]) -> list[PaperEvent]:
    """The events of the first trigger of `symbol` that these bars reach; [] when none is reached.

    `watched_after(order)`: bars opening at or before it are not looked at for that order.
    """
    triggers = ledger.resting_triggers(symbol)
    starts = {o.client_order_id: utc(watched_after(o)) for o in triggers}
    for bar in bars:
        opened = utc(bar.open_time)
        armed = sorted((o for o in triggers if opened > starts[o.client_order_id] or _placement_bar(o, opened)),
                       key=lambda o: (o.kind != "stop_loss", o.order_id))
        for order in armed:
            reference = reached_after_placement(order, bar) if _placement_bar(order, opened) else reached(order, bar)
            if reference is not None:
                return _fire(ledger, market, terms, order, bar, reference)
    return []


def _placement_bar(order: PaperOrder, opened: datetime) -> bool:
    return order.armed_after is not None and order.armed_low is not None and opened == utc(order.armed_after)


def reached_after_placement(order: PaperOrder, bar: Bar) -> float | None:
    """In the bar it was placed in: only a new low (or high) past the trigger reaches it, at the trigger."""
    trigger, low, high = order.trigger_price, order.armed_low, order.armed_high
    if trigger is None or low is None or high is None:
        return None
    if falls_through(order):
        return trigger if bar.low < low and bar.low <= trigger else None
    return trigger if bar.high > high and bar.high >= trigger else None


def _fire(ledger: PaperLedger, market: PaperMarket, terms: PaperTerms, order: PaperOrder, bar: Bar,
          reference: float) -> list[PaperEvent]:
    at = max(bar.open_time, order.placed_at)
    instrument = market.instrument(order.symbol)
    position = held(ledger, instrument)
    if position == 0 or (position > 0) == (order.side == "buy"):
        return [_cancelled(ledger, order, at, "reduce_only")]
    price = fill_price(instrument, reference, order.side, terms.slippage)
    trigger = order.trigger_price or reference
    limit = trigger * (1 + order.max_slippage if order.side == "buy" else 1 - order.max_slippage)
    if (price > limit) if order.side == "buy" else (price < limit):
        return [_cancelled(ledger, order, at, "IocCancel")]
    size = min(order.size, abs(position))
    fill = PaperOrderFilled(
        aggregate_id=str(ledger.subaccount), occurred_at=at, client_order_id=order.client_order_id,
        venue_order_id=order.order_id, fill_id=fill_id(order.order_id), symbol=order.symbol, side=order.side,
        size=size, price=price, fee=terms.fee_rate * size * price, reduce_only=True, kind=order.kind,
        filled_at=at, requested_size=order.size if size != order.size else None,
    )
    return [fill, *close_out(ledger, order.symbol, position, signed(order.side, size), at,
                             exclude=order.client_order_id)]


def _cancelled(ledger: PaperLedger, order: PaperOrder, at: datetime, reason: str) -> PaperOrdersCancelled:
    return PaperOrdersCancelled(aggregate_id=str(ledger.subaccount), occurred_at=at,
                                client_order_ids=(order.client_order_id,), reason=reason)



class TriggerWatch:
    """Finds the next trigger the bars since it was last checked reach, one subaccount's.

    Per trigger it keeps the newest closed bar already found not to reach it. That only saves
    work: a restarted adapter rescans from the trigger's placement and finds the same answer.
    """

    def __init__(self, market: PaperMarket, terms: PaperTerms) -> None:
        self._market = market
        self._terms = terms
        self._watched: dict[str, datetime] = {}

    def next_events(self, ledger: PaperLedger) -> list[PaperEvent]:
        """The events of the first trigger reached, or [] when none is."""
        resting = ledger.resting_triggers()
        ids = {o.client_order_id for o in resting}
        self._watched = {cloid: at for cloid, at in self._watched.items() if cloid in ids}
        for symbol in sorted({o.symbol for o in resting}):
            orders = ledger.resting_triggers(symbol)
            earliest = min(self._watched_after(o) for o in orders)
            bars = self._market.bars_after(symbol, earliest - self._market.period)  # with the placement bar
            events = fire_next(ledger, self._market, self._terms, symbol, bars, self._watched_after)
            if events:
                return events
            if len(bars) >= 2:  # all but the newest bar are closed: they will not change
                for order in orders:
                    self._watched[order.client_order_id] = bars[-2].open_time
        return []

    def _watched_after(self, order: PaperOrder) -> datetime:
        armed = order.armed_after if order.armed_after is not None else order.placed_at
        checked = self._watched.get(order.client_order_id)
        return armed if checked is None or checked < armed else checked
