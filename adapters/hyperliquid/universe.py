"""SymbolUniverse: the perps listed on both Binance and Hyperliquid that trade enough on Binance.

Binance's side comes through the PerpVolumes port (a ccxt adapter provides it); Hyperliquid's
from its perp meta (SDK `Info.meta()`, via HyperliquidRest). The rules themselves are the pure
functions of application/symbols.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from application.ports.market_data import MarketDataError, MarketSymbol
from application.symbols import PerpVolumes, select_universe


class PerpMeta(Protocol):
    def meta(self) -> dict[str, Any]:
        """Hyperliquid's perp meta: {"universe": [{"name": ..., "isDelisted": ...?}, ...]}."""
        ...


class HyperliquidUniverse:
    def __init__(self, binance: PerpVolumes, hyperliquid: PerpMeta, min_volume_24h: float, *,
                 max_symbols: int | None = None, overrides: Mapping[str, str] | None = None) -> None:
        if min_volume_24h < 0:
            raise ValueError(f"min_volume_24h must not be negative, got {min_volume_24h}")
        self._binance = binance
        self._hyperliquid = hyperliquid
        self._min_volume_24h = min_volume_24h
        self._max_symbols = max_symbols
        self._overrides = dict(overrides or {})

    def symbols(self) -> list[MarketSymbol]:
        """Largest Binance volume first; delisted Hyperliquid perps are left out."""
        universe = self._hyperliquid.meta().get("universe")
        if not isinstance(universe, list):
            raise MarketDataError(f"Hyperliquid meta has no universe list: {str(universe)[:200]!r}")
        coins = [asset["name"] for asset in universe if not asset.get("isDelisted", False)]
        chosen = select_universe(coins, self._binance.perp_volumes(), self._min_volume_24h, self._overrides)
        return chosen if self._max_symbols is None else chosen[:self._max_symbols]
