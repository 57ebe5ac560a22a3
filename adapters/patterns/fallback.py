"""The pattern-discovery service first, the built-in miner when the service fails or has nothing.

A service that is down must not stop a generation run: the miner's patterns keep pattern-seeded
slots working, and the switch is logged with the service's error.
"""

from __future__ import annotations

import logging

from application.ports.pattern_source import Pattern, PatternSource, PatternSourceError

logger = logging.getLogger(__name__)


class FallbackPatternSource:
    def __init__(self, primary: PatternSource, fallback: PatternSource) -> None:
        self._primary = primary
        self._fallback = fallback

    def patterns(self, *, timeframe: str | None = None, strategy_type: str | None = None,
                 limit: int = 20) -> list[Pattern]:
        try:
            found = self._primary.patterns(timeframe=timeframe, strategy_type=strategy_type, limit=limit)
        except PatternSourceError as exc:
            logger.warning("pattern service failed (%s): using the built-in miner", exc)
            found = []
        return found or self._fallback.patterns(timeframe=timeframe, strategy_type=strategy_type, limit=limit)
