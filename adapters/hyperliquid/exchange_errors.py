"""Hyperliquid's order and action errors, turned into the exchange port's typed errors.

The venue answers a refused order inside an HTTP 200: statuses [{"error": "<message> asset=N"}],
and a refused action as {"status": "err", "response": "<message>"}. Messages are matched by
prefix against the venue's documented wording (error-responses page, copied into ORDER_ERRORS),
and the error type named there becomes `OrderRejected.code`.

Venue messages can name addresses ("User or API Wallet 0x... does not exist."); every text that
goes into an exception or a log passes through `scrub`, which blanks anything as long as an
address, a key or a signature part (40+ hex digits). Client order ids (32 hex digits) stay.
"""

from __future__ import annotations

import re

from application.ports.exchange import ExchangeError, InsufficientMargin, OrderRejected

ORDER_ERRORS: tuple[tuple[str, str], ...] = (
    ("Price must be divisible by tick size", "Tick"),
    ("Order must have minimum value of $10", "MinTradeNtl"),
    ("Order must have minimum value of", "MinTradeSpotNtl"),
    ("Insufficient margin to place order", "PerpMargin"),
    ("Reduce only order would increase position", "ReduceOnly"),
    ("Post only order would have immediately matched", "BadAloPx"),
    ("Order could not immediately match against any resting orders", "IocCancel"),
    ("Invalid TP/SL price", "BadTriggerPx"),
    ("No liquidity available for market order", "MarketOrderNoLiquidity"),
    ("Order would increase open interest while open interest is capped", "PositionIncreaseAtOpenInterestCap"),
    ("Order rejected due to price more aggressive than oracle", "TooAggressiveAtOpenInterestCap"),
    ("Order would increase open interest too quickly", "OpenInterestIncrease"),
    ("Order price too far from oracle", "Oracle"),
    ("Order would cause position to exceed margin tier limit", "PerpMaxPosition"),
    ("Order was never placed, already canceled, or filled", "MissingOrder"),
    ("Order has invalid size", "InvalidSize"),
)
MARGIN_CODE = "PerpMargin"
DUPLICATE_CLOID = "Duplicate cloid"
"""Our fake's wording for a reused cloid; the venue's is undocumented, so a miss only costs the
status query that follows any other error path."""
_ACTION_ERRORS: tuple[tuple[str, str], ...] = (
    ("User or API Wallet", "UnknownSigner"),
    ("Invalid nonce", "Nonce"),
    ("Invalid signature", "Signature"),
)
_SECRET_LIKE = re.compile(r"(0x)?[0-9a-fA-F]{40,}")
_MAX_DETAIL = 300


def scrub(text: object) -> str:
    """`text` safe for a log or an exception: no address, key or signature, at most 300 characters."""
    return _SECRET_LIKE.sub("<redacted>", str(text))[:_MAX_DETAIL]


def error_code(message: str) -> str | None:
    for prefix, code in ORDER_ERRORS + _ACTION_ERRORS:
        if message.startswith(prefix):
            return code
    return None


def order_rejected(client_order_id: str, message: str) -> OrderRejected:
    code = error_code(message)
    error_type = InsufficientMargin if code == MARGIN_CODE else OrderRejected
    return error_type(client_order_id, scrub(message), code)


def rejected_status_code(status: str) -> str | None:
    """The error type behind an orderStatus status: "perpMarginRejected" -> "PerpMargin"."""
    if status.endswith("Rejected") and len(status) > len("Rejected"):
        stem = status[: -len("Rejected")]
        return stem[0].upper() + stem[1:]
    return None


def rejected_from_status(client_order_id: str, status: str) -> OrderRejected:
    code = rejected_status_code(status)
    error_type = InsufficientMargin if code == MARGIN_CODE else OrderRejected
    return error_type(client_order_id, f"the venue rejected this order earlier (status {scrub(status)})", code)


def is_duplicate_cloid(message: str) -> bool:
    return message.startswith(DUPLICATE_CLOID)


def is_nonce_error(message: str) -> bool:
    return message.startswith("Invalid nonce")


def action_error(what: str, message: str) -> ExchangeError:
    code = error_code(message)
    return ExchangeError(f"Hyperliquid refused {what}" + (f" ({code})" if code else "") + f": {scrub(message)}")
