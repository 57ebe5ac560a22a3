"""Client order ids derived from what an order is for, never from when it happened to be sent.

The same strategy, bar and intent always give the same id, so an order resent after a timeout
or a restart is recognised by the venue (and by our adapters) as the order already sent.
Hyperliquid's cloid is 16 bytes written as 0x + 32 hex digits; the same form is used everywhere.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from domain.errors import InvalidOrder

_CLOID = re.compile(r"0x[0-9a-f]{32}")
_SEPARATOR = "\x1f"


def client_order_id(*parts: str) -> str:
    """The id for an order identified by these parts (non-empty text, order matters)."""
    if not parts or any(not isinstance(p, str) or not p for p in parts):
        raise InvalidOrder(f"a client order id needs non-empty text parts, got {parts!r}")
    digest = hashlib.sha256(_SEPARATOR.join(parts).encode()).hexdigest()
    return "0x" + digest[:32]


def order_intent_id(strategy_id: str, bar_time: datetime, intent: str) -> str:
    """The id for what `strategy_id` decided on the bar opened at `bar_time` (entry, exit, sl, tp ...)."""
    if not isinstance(bar_time, datetime) or bar_time.tzinfo is None:
        raise InvalidOrder(f"bar_time must be a timezone-aware datetime, got {bar_time!r}")
    return client_order_id(strategy_id, bar_time.astimezone(UTC).isoformat(), intent)


def is_client_order_id(value: object) -> bool:
    return isinstance(value, str) and _CLOID.fullmatch(value) is not None
