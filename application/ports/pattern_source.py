"""Pattern-source port: conditional patterns (condition on indicators -> direction) that seed prompts.

Pattern itself is a domain value object (domain/patterns/pattern.py: the built-in miner, domain
code, makes it); it is re-exported here so callers need only this module.

Contract of every adapter:
- `patterns()` returns at most `limit` patterns (none when limit <= 0), best first: tier
  ascending, then quality descending; ids are unique within one answer.
- With `timeframe`, every pattern returned has that timeframe. `strategy_type` (MOM, REV, ...)
  is a hint: sources that do not classify patterns ignore it.
- The same call on unchanged data gives the same answer (deterministic order and ids).
- Failure to reach or read the source raises PatternSourceError (one line, names the source);
  no patterns found is an empty list, not an error.
"""

from __future__ import annotations

from typing import Protocol

from domain.errors import DomainError
from domain.patterns.pattern import InvalidPattern, Pattern, pattern_id_for

__all__ = ["InvalidPattern", "Pattern", "PatternSource", "PatternSourceError", "best_first", "pattern_id_for"]


class PatternSourceError(DomainError):
    """The pattern source cannot answer (unreachable, timed out, error status, unreadable reply)."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))  # one line, whatever the server sent


class PatternSource(Protocol):
    def patterns(self, *, timeframe: str | None = None, strategy_type: str | None = None,
                 limit: int = 20) -> list[Pattern]:
        """At most `limit` patterns, best first (see the module docstring for the full contract)."""
        ...


def best_first(patterns: list[Pattern], limit: int) -> list[Pattern]:
    """The shared ordering of the contract: tier ascending, quality descending; stable ties by id."""
    ranked = sorted(patterns, key=lambda p: (p.tier, -p.quality, p.pattern_id))
    return ranked[: max(limit, 0)]
