"""Patterns held in memory: for tests, demos and a fixed list a person curates in config."""

from __future__ import annotations

from collections.abc import Iterable

from application.ports.pattern_source import Pattern, best_first


class InMemoryPatternSource:
    def __init__(self, patterns: Iterable[Pattern] = ()) -> None:
        unique: dict[str, Pattern] = {}
        for pattern in patterns:
            unique.setdefault(pattern.pattern_id, pattern)  # first one wins: ids are unique per answer
        self._patterns = list(unique.values())

    def patterns(self, *, timeframe: str | None = None, strategy_type: str | None = None,
                 limit: int = 20) -> list[Pattern]:
        """Filtered by timeframe; strategy_type is ignored (these patterns carry no type)."""
        chosen = [p for p in self._patterns if timeframe is None or p.timeframe == timeframe]
        return best_first(chosen, limit)
