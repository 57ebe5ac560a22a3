"""The container builds the one live-candle provider from config, starts it on demand, stops it."""

from __future__ import annotations

from pathlib import Path

from dependency_injector import providers

from entrypoints.container import build_container
from entrypoints.settings import load_settings
from tests.fakes.hyperliquid import FakeHyperliquid

REPO = Path(__file__).resolve().parents[2]


def test_live_candles_come_from_config_over_one_connection(tmp_path: Path) -> None:
    with FakeHyperliquid() as venue:
        venue.seed_history(minutes=6 * 60)
        text = (REPO / "config" / "config.yaml").read_text()
        text = text.replace("base_url: https://api.hyperliquid.xyz", f"base_url: {venue.url}")
        text = text.replace("ws_url: wss://api.hyperliquid.xyz/ws", f"ws_url: {venue.ws_url}")
        text = text.replace('timeframes: ["15m", "30m", "1h", "4h", "1d"]', 'timeframes: ["5m", "1h"]')
        config = tmp_path / "config.yaml"
        config.write_text(text)
        container = build_container(load_settings(config, env={}, dotenv_path=tmp_path / "none.env"))
        container.clock.override(providers.Object(venue.clock))  # the fake venue lives in its own time
        try:
            provider = container.live_candles()
            assert provider is container.live_candles()
            frame = provider.get_data("BTC", "5m", 50)
            assert len(frame) == 50 and list(frame.columns) == ["open", "high", "low", "close", "volume"]
            assert provider.last_update("ETH", "1h") is not None
            assert venue.connections_opened == 1
        finally:
            container.shutdown_resources()
        assert not provider.connected
