"""What a generation run may do, from config: types and timeframes to rotate, repair attempts."""

from __future__ import annotations

from dataclasses import dataclass

PATTERN_TYPE = "PAT"
"""A `generation.strategy_types` entry that asks for a pattern-seeded strategy: their share of the
rotation is the share of pattern-based strategies."""


@dataclass(frozen=True)
class GenerationPolicy:
    strategy_types: tuple[str, ...] = ("MOM", "REV", "TRN", "BRE", "VOL")
    timeframes: tuple[str, ...] = ("15m", "30m", "1h", "4h", "1d")
    max_fix_attempts: int = 3
    gate_symbol: str | None = None
    """The symbol whose candles the lookahead gate runs on (None: the candle source's first)."""

    def __post_init__(self) -> None:
        if not self.strategy_types or not self.timeframes:
            raise ValueError("generation needs at least one strategy type and one timeframe")
        if self.max_fix_attempts < 0:
            raise ValueError("max_fix_attempts must be >= 0")
