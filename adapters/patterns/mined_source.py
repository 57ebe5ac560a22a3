"""PatternSource mined from cached candles: pattern-seeded prompts without the outside service.

Mining is pure domain code (domain/patterns/miner.py); this adapter only loads the candles and
keeps each answer in memory per (timeframe, symbols), since mining the same history twice
gives the same patterns. Build a new instance (or call `clear`) after the cache is refreshed.
A timeframe with no cached candles for any symbol is no patterns ([], logged), as a download may
simply not have happened yet; a cache file that cannot be read is a PatternSourceError.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd

from application.ports.candle_source import CandleSource
from application.ports.market_data import MarketDataError, UnknownSymbol
from application.ports.pattern_source import Pattern, PatternSourceError, best_first
from domain.errors import DomainError
from domain.patterns.miner import mine_patterns

logger = logging.getLogger(__name__)


class MinedPatternSource:
    def __init__(self, candles: CandleSource, symbols: Sequence[str], *, train_fraction: float = 0.7,
                 min_occurrences: int = 30, horizons: Sequence[int] = (4, 8, 16),
                 default_timeframe: str = "1h") -> None:
        if not symbols:
            raise ValueError("MinedPatternSource needs at least one symbol")
        self._candles = candles
        self._symbols = tuple(symbols)
        self._train_fraction = train_fraction
        self._min_occurrences = min_occurrences
        self._horizons = tuple(horizons)
        self._default_timeframe = default_timeframe
        self._cache: dict[tuple[str, tuple[str, ...]], list[Pattern]] = {}

    def patterns(self, *, timeframe: str | None = None, strategy_type: str | None = None,
                 limit: int = 20) -> list[Pattern]:
        """Mined on `timeframe` (default_timeframe when None); strategy_type is ignored (mined patterns are untyped)."""
        tf = timeframe or self._default_timeframe
        key = (tf, self._symbols)
        if key not in self._cache:
            found = self._mine(tf)
            if found is None:
                return []  # nothing cached yet: not remembered, so candles downloaded later are mined
            self._cache[key] = best_first(found, len(found))
        return self._cache[key][: max(limit, 0)]

    def clear(self) -> None:
        """Forget mined answers (after new candles were downloaded)."""
        self._cache.clear()

    def _mine(self, timeframe: str) -> list[Pattern] | None:
        """The mined patterns, or None when no symbol has candles of this timeframe in the cache."""
        frames: dict[str, pd.DataFrame] = {}
        missing = []
        for symbol in self._symbols:
            try:
                frames[symbol] = self._candles.load(symbol, timeframe)
            except UnknownSymbol:
                missing.append(symbol)
            except (MarketDataError, DomainError) as exc:
                raise PatternSourceError(f"pattern miner cannot read {symbol} {timeframe} candles: {exc}") from exc
        if missing:
            logger.warning("pattern miner: no %s candles for %s; mining %s", timeframe, ", ".join(missing),
                           ", ".join(frames) or "nothing")
        if not frames:
            return None
        found = mine_patterns(frames, timeframe, train_fraction=self._train_fraction,
                              min_occurrences=self._min_occurrences, horizons=self._horizons)
        logger.info("pattern miner: %d patterns in %s %s (%d tier 1)", len(found), ", ".join(frames), timeframe,
                    sum(p.tier == 1 for p in found))
        return found
