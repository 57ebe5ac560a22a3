"""The live signal: what a strategy wants on the latest bar, in absolute prices."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

from domain.errors import InvalidSignal

Direction = Literal["long", "short", "close"]
DIRECTIONS: tuple[str, ...] = get_args(Direction)


def _check_price(name: str, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidSignal(f"{name} must be a number or None, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise InvalidSignal(f"{name} must be a finite positive price, got {value!r}")


@dataclass(frozen=True)
class Signal:
    """What a strategy wants now; the risk policy decides how much of it happens."""

    direction: Direction
    size: float                      # fraction of the subaccount's equity, 0 < size <= 1
    stop_loss: float | None = None   # absolute price
    take_profit: float | None = None  # absolute price
    reason: str = ""

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise InvalidSignal(f"direction must be one of {DIRECTIONS}, got {self.direction!r}")
        size = self.size
        if isinstance(size, bool) or not isinstance(size, int | float) or not 0 < size <= 1:
            raise InvalidSignal(f"size must be a fraction of equity in (0, 1], got {size!r}")
        _check_price("stop_loss", self.stop_loss)
        _check_price("take_profit", self.take_profit)
        if self.direction == "close" and (self.stop_loss is not None or self.take_profit is not None):
            raise InvalidSignal("a close signal carries no stop_loss or take_profit")
        if self.stop_loss is not None and self.take_profit is not None:
            if self.direction == "long" and not self.stop_loss < self.take_profit:
                raise InvalidSignal(
                    f"long signal needs stop_loss < take_profit, got {self.stop_loss} >= {self.take_profit}"
                )
            if self.direction == "short" and not self.stop_loss > self.take_profit:
                raise InvalidSignal(
                    f"short signal needs stop_loss > take_profit, got {self.stop_loss} <= {self.take_profit}"
                )
