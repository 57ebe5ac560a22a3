"""Pattern: one conditional rule (condition on indicators -> direction over the next bars) and its record.

It lives in the domain, not in the port, because the built-in miner (domain code) produces it and
the domain may not import application/. application/ports/pattern_source.py re-exports it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from domain.errors import DomainError

Direction = Literal["long", "short"]
DIRECTIONS: tuple[str, ...] = ("long", "short")
SOURCES: tuple[str, ...] = ("mined", "service")


class InvalidPattern(DomainError):
    """A pattern whose fields break an invariant (unknown direction, quality outside 0..1, ...)."""


def pattern_id_for(condition: str, direction: str, timeframe: str, horizon_bars: int) -> str:
    """A stable id from the rule's definition: the same rule mined twice gets the same id.

    The statistics and the symbols it was measured on are left out on purpose: they change
    with every new candle, while the rule (what a strategy would trade) does not.
    """
    definition = f"{' '.join(condition.split())}|{direction}|{timeframe}|{horizon_bars}"
    return "pat-" + hashlib.sha256(definition.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Pattern:
    pattern_id: str          # stable: same definition, same id (see pattern_id_for)
    name: str
    description: str         # one or two sentences a prompt can quote
    condition: str           # pandas expression over indicator columns, e.g. "rsi_14 < 30 and sma_200_dist > 0"
    direction: Direction
    timeframe: str
    horizon_bars: int
    symbols: tuple[str, ...]
    test_edge: float         # mean forward return (fraction) on the test part, in the direction
    test_win_rate: float
    train_edge: float
    occurrences: int         # in the test part
    tier: int                # 1 best
    quality: float           # 0..1
    source: str              # "mined" | "service"

    def __post_init__(self) -> None:
        problems = []
        for label in ("pattern_id", "name", "description", "condition", "timeframe"):
            if not getattr(self, label).strip():
                problems.append(f"{label} is empty")
        if self.direction not in DIRECTIONS:
            problems.append(f"direction {self.direction!r} is not long or short")
        if self.source not in SOURCES:
            problems.append(f"source {self.source!r} is not mined or service")
        if self.horizon_bars < 1:
            problems.append(f"horizon_bars {self.horizon_bars} < 1")
        if self.occurrences < 0:
            problems.append(f"occurrences {self.occurrences} < 0")
        if self.tier < 1:
            problems.append(f"tier {self.tier} < 1")
        for label in ("test_edge", "train_edge", "test_win_rate", "quality"):
            if not math.isfinite(getattr(self, label)):
                problems.append(f"{label} is not a finite number")
        if not 0.0 <= self.quality <= 1.0:
            problems.append(f"quality {self.quality} outside 0..1")
        if not 0.0 <= self.test_win_rate <= 1.0:
            problems.append(f"test_win_rate {self.test_win_rate} outside 0..1")
        if any(not s.strip() for s in self.symbols):
            problems.append("a symbol is empty")
        if problems:
            raise InvalidPattern(f"invalid pattern {self.pattern_id or self.name!r}: {'; '.join(problems)}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (symbols as a list): for prompts, reports and the HTTP wire format."""
        data = asdict(self)
        data["symbols"] = list(self.symbols)
        return data
