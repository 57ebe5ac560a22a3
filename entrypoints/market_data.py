"""Market-data adapters as container resources: built from config, started and stopped once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from adapters.binance.history import BinanceHistory
from adapters.hyperliquid.live_candles import HyperliquidLiveCandles
from adapters.hyperliquid.rest import HyperliquidRest
from adapters.hyperliquid.universe import HyperliquidUniverse
from adapters.parquet.candle_store import ParquetCandleStore
from application.ports.clock import Clock
from entrypoints.settings import Settings

CACHE_FOLDER = "binance"
"""Under system.data_dir: the candle cache of `sixbtc data download` and the daily history job."""


def candle_cache(settings: Settings) -> ParquetCandleStore:
    return ParquetCandleStore(Path(settings.system.data_dir) / CACHE_FOLDER)


def binance_history(settings: Settings) -> Iterator[BinanceHistory]:
    with BinanceHistory(base_url=settings.trading.data.binance_base_url or None) as history:
        yield history


def live_candles(settings: Settings, clock: Clock) -> Iterator[HyperliquidLiveCandles]:
    """One process-wide provider: one WebSocket for every symbol x timeframe. `start()` blocks until
    history is loaded, so only the live loop asks for it, never an import or an unrelated command."""
    provider = HyperliquidLiveCandles(
        str(settings.hyperliquid.base_url), settings.trading.symbols, settings.trading.timeframes,
        ws_url=str(settings.hyperliquid.ws_url), clock=clock,
    )
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()


def symbol_universe(settings: Settings, binance: BinanceHistory) -> HyperliquidUniverse:
    return HyperliquidUniverse(binance, HyperliquidRest(str(settings.hyperliquid.base_url)),
                               settings.trading.data.min_volume_24h)
