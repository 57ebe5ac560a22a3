"""Binance perps ∩ Hyperliquid perps above a volume floor, through real ccxt and the real SDK."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.binance.history import BinanceHistory
from adapters.hyperliquid.rest import HyperliquidRest
from adapters.hyperliquid.universe import HyperliquidUniverse
from tests.conftest import SHARED_DATA
from tests.fakes.binance import FakeBinanceFutures
from tests.fakes.hyperliquid import FakeHyperliquid

pytestmark = pytest.mark.skipif(not (SHARED_DATA / "ohlcv").is_dir(), reason="../shared/data is not beside the repo")


@pytest.fixture
def venues() -> Iterator[tuple[FakeBinanceFutures, FakeHyperliquid]]:
    with FakeBinanceFutures() as binance, FakeHyperliquid() as hyperliquid:
        yield binance, hyperliquid


def test_universe_is_the_intersection_above_the_volume_floor(
        venues: tuple[FakeBinanceFutures, FakeHyperliquid]) -> None:
    binance, hyperliquid = venues
    with BinanceHistory(binance.url) as history:
        volumes = history.perp_volumes()
        assert volumes and all(symbol.endswith("/USDT:USDT") for symbol in volumes)
        hl_coins = set(HyperliquidRest(hyperliquid.url).perp_coins())
        everything = HyperliquidUniverse(history, HyperliquidRest(hyperliquid.url), 0.0).symbols()
        floor = sorted(volumes.values())[len(volumes) // 2]
        liquid = HyperliquidUniverse(history, HyperliquidRest(hyperliquid.url), floor).symbols()

    assert everything, "the fake venues share coins"
    for market in everything:
        assert market.coin in hl_coins
        assert market.binance_symbol in volumes
        assert market.volume_24h == volumes[market.binance_symbol]
    assert [m.volume_24h for m in everything] == sorted((m.volume_24h for m in everything), reverse=True)
    assert {m.coin for m in liquid} == {m.coin for m in everything if m.volume_24h >= floor}
    assert len(liquid) < len(everything) or len(everything) == 1
