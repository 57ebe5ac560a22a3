"""The paper venue's own ledger: what the simulated exchange did, one stream per subaccount.

These are the venue's facts, not ours: the execution events (domain.execution_events) record
what the system asked for and believes; these record what the paper exchange answered, so a
restarted PaperExchange replays them and answers exactly as before. They live in streams
`paper-<subaccount>`, apart from the `subaccount-<n>` streams, so reconciling our book against
the paper venue compares two independent records, as it does against Hyperliquid.

Ids: `client_order_id` is the caller's id (domain.client_order_ids), `venue_order_id` the paper
venue's own, `fill_id` one execution's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from domain.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class PaperEvent(DomainEvent):
    stream_prefix: ClassVar[str] = "paper"


@dataclass(frozen=True, kw_only=True)
class PaperAccountOpened(PaperEvent):
    """The first event of every paper stream: the subaccount starts with `capital` USDC.

    Written in front of the subaccount's first change, so merely reading an untouched
    account writes nothing.
    """

    capital: float


@dataclass(frozen=True, kw_only=True)
class PaperOrderFilled(PaperEvent):
    """An execution: a market order, or a trigger (stop_loss / take_profit) that fired."""

    client_order_id: str
    venue_order_id: str
    fill_id: str
    symbol: str
    side: str
    size: float
    price: float
    fee: float
    reduce_only: bool
    kind: str
    """market, stop_loss or take_profit."""
    filled_at: datetime
    requested_size: float | None = None
    """The size asked for after rounding, when a reduce-only order was cut to the position."""


@dataclass(frozen=True, kw_only=True)
class PaperTriggerPlaced(PaperEvent):
    """A reduce-only trigger; it only watches bars that open after `armed_after`.

    `armed_after` is the open time of the bar in progress when it was placed: that bar's range
    so far happened before the trigger existed, and intra-bar order is unknown.
    """

    client_order_id: str
    venue_order_id: str
    symbol: str
    side: str
    size: float
    trigger_price: float
    kind: str
    max_slippage: float
    armed_after: datetime
    armed_high: float | None = None
    armed_low: float | None = None
    """The range of the bar in progress at placement, when it was in the feed: that bar is watched
    too, for prices beyond this range (made after the trigger existed)."""


@dataclass(frozen=True, kw_only=True)
class PaperOrdersCancelled(PaperEvent):
    client_order_ids: tuple[str, ...]
    reason: str
    """cancel_all, position_closed, reduce_only (nothing left to reduce) or IocCancel (price beyond the cap)."""


@dataclass(frozen=True, kw_only=True)
class PaperLeverageSet(PaperEvent):
    symbol: str
    leverage: int
