"""Composing strategy code without an LLM: the port the offline generator is reached through.

The generation use case asks a composer for a complete strategy module and then treats it
exactly like LLM output (sandbox, static and dynamic lookahead checks, naming, storage). Keeping
composition behind a port lets the use case stay ignorant of how the code was written, and lets
tests substitute a composer that returns known-bad code to prove the gate still rejects it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

STRATEGY_TYPES: tuple[str, ...] = ("MOM", "REV", "TRN", "BRE", "VOL")
"""Types a composer must be able to write: momentum, mean reversion, trend, breakout, volatility."""


@dataclass(frozen=True)
class ComposedStrategy:
    """One composed strategy module and what it was built from (for names, logs and prompts)."""

    code: str                 # a complete strategy module (source text)
    strategy_type: str        # MOM, REV, TRN, BRE, VOL
    timeframe: str
    class_name: str
    blocks: tuple[str, ...]   # e.g. ("entry:ema_cross", "filter:adx", "exit:time_stop", "stops:atr")
    description: str


class StrategyComposer(Protocol):
    def compose(self, *, strategy_type: str, timeframe: str, seed: int, class_name: str = "Strategy",
                pattern: Mapping[str, Any] | None = None) -> ComposedStrategy:
        """A strategy module of `strategy_type` on `timeframe`; the same arguments give the same code.

        `pattern` (keys "condition", "direction", "horizon_bars") asks for an entry built from a
        mined rule; a composer that cannot express it falls back to its own blocks and says so
        in `description`. Raises ValueError for an unknown type, timeframe or class name.
        """
        ...
