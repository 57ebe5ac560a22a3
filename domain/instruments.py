"""What a venue accepts for one asset: the size step and the price grid.

Hyperliquid's rules for perps: sizes have at most `sz_decimals` decimals; prices have at most
5 significant figures and at most 6 - sz_decimals decimals (integers are always valid). An
order off the grid is refused by the venue, so every adapter rounds here first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from domain.errors import InvalidOrder

MAX_PERP_PRICE_DECIMALS = 6
SIGNIFICANT_FIGURES = 5


@dataclass(frozen=True)
class Instrument:
    symbol: str
    sz_decimals: int
    max_leverage: int = 50

    def __post_init__(self) -> None:
        if not isinstance(self.sz_decimals, int) or not 0 <= self.sz_decimals <= MAX_PERP_PRICE_DECIMALS:
            raise InvalidOrder(f"{self.symbol}: sz_decimals must be an int in [0, 6], got {self.sz_decimals!r}")

    @property
    def size_step(self) -> float:
        return float(Decimal(1).scaleb(-self.sz_decimals))

    def round_size(self, size: float) -> float:
        """Down to the size step: rounding never makes a position bigger than asked."""
        _positive("size", size)
        step = Decimal(1).scaleb(-self.sz_decimals)
        return float(Decimal(repr(size)).quantize(step, rounding=ROUND_DOWN))

    def round_price(self, price: float) -> float:
        """To the nearest valid price: 5 significant figures, at most 6 - sz_decimals decimals."""
        _positive("price", price)
        if price == int(price) and price >= 10 ** SIGNIFICANT_FIGURES:
            return float(int(price))
        value = Decimal(repr(price))
        exponent = value.adjusted() - (SIGNIFICANT_FIGURES - 1)
        decimals = min(MAX_PERP_PRICE_DECIMALS - self.sz_decimals, -exponent)
        quantum = Decimal(1).scaleb(-decimals)
        rounded = float(value.quantize(quantum, rounding=ROUND_HALF_EVEN))
        if rounded <= 0:
            raise InvalidOrder(f"{self.symbol}: price {price} rounds to {rounded} on the venue's grid")
        return rounded

    def is_valid_price(self, price: float) -> bool:
        return math.isfinite(price) and price > 0 and self.round_price(price) == price

    def is_valid_size(self, size: float) -> bool:
        return math.isfinite(size) and size > 0 and self.round_size(size) == size


def _positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise InvalidOrder(f"{name} must be a finite positive number, got {value!r}")
