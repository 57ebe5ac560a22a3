"""The live-trading safety rule: live only with the config, the flag and the key all saying so."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from entrypoints.execution import (
    LazyLiveCandles,
    LiveTradingRefused,
    deployment_policy_from,
    exchange_mode,
    open_exchange,
)
from entrypoints.logging_setup import scrub
from entrypoints.settings import Settings

KEY = "0x" + "7a" * 32
ADDRESS = "0x" + "3b" * 20


def settings(mode: str = "live", subaccounts: dict[int, str] | None = None) -> Settings:
    addresses = {1: ADDRESS} if subaccounts is None else subaccounts
    return Settings.model_validate({"deployment": {"mode": mode}, "hyperliquid": {"subaccounts": addresses}})


def refusal(config: Settings, environ: dict[str, str]) -> LiveTradingRefused:
    with pytest.raises(LiveTradingRefused) as caught:
        exchange_mode(config, True, environ)
    assert KEY not in str(caught.value) and ADDRESS not in str(caught.value)
    assert KEY.removeprefix("0x") not in str(caught.value)
    return caught.value


def test_not_asking_for_live_is_always_paper() -> None:
    assert exchange_mode(settings(), False, {"HL_PRIVATE_KEY": KEY}) == "paper"
    assert exchange_mode(settings(mode="paper", subaccounts={}), False, {}) == "paper"


def test_live_when_every_lock_is_open() -> None:
    assert exchange_mode(settings(), True, {"HL_PRIVATE_KEY": KEY}) == "live"
    assert exchange_mode(settings(), True, {"HL_PRIVATE_KEY": KEY.removeprefix("0x")}) == "live"


def test_a_paper_config_refuses_live_even_with_a_key() -> None:
    refused = refusal(settings(mode="paper"), {"HL_PRIVATE_KEY": KEY})
    assert len(refused.missing) == 1 and "deployment.mode" in refused.missing[0]
    assert "Nothing was sent" in str(refused)


@pytest.mark.parametrize("environ", [{}, {"HL_PRIVATE_KEY": ""}, {"HL_PRIVATE_KEY": "   "}])
def test_no_key_in_the_environment_refuses_live(environ: dict[str, str]) -> None:
    refused = refusal(settings(), environ)
    assert len(refused.missing) == 1 and "HL_PRIVATE_KEY environment variable is not set" in refused.missing[0]


def test_a_malformed_key_is_refused_without_quoting_it() -> None:
    bad = KEY[:-2]
    refused = refusal(settings(), {"HL_PRIVATE_KEY": bad})
    assert "not a private key" in refused.missing[0] and bad not in str(refused)


def test_no_subaccount_address_refuses_live() -> None:
    refused = refusal(settings(subaccounts={}), {"HL_PRIVATE_KEY": KEY})
    assert "hyperliquid.subaccounts" in refused.missing[0]


def test_every_closed_lock_is_named_at_once() -> None:
    refused = refusal(settings(mode="paper", subaccounts={}), {})
    assert [m.split(" ")[0] for m in refused.missing] == ["deployment.mode", "the", "hyperliquid.subaccounts"]


def test_the_deployment_policy_comes_from_config() -> None:
    policy = deployment_policy_from(Settings.model_validate({
        "trading": {"leverage": 3, "symbols": ["BTC", "ETH"], "max_slippage": 0.01,
                    "subaccounts": {"count": 6, "test_mode_capital": 50.0}},
        "hyperliquid": {"min_notional": 12.0}}))
    assert (policy.test_subaccounts, policy.test_capital, policy.subaccount_count, policy.leverage) == (3, 50.0, 6, 3)
    assert (policy.symbols, policy.max_slippage, policy.min_capital) == (("BTC", "ETH"), 0.01, 12.0)


class CountingFeed:
    def __init__(self) -> None:
        self.reads = 0

    def get_data(self, symbol: str, timeframe: str, lookback: int) -> pd.DataFrame:
        self.reads += 1
        return pd.DataFrame()

    def last_update(self, symbol: str, timeframe: str) -> Any:
        return None


def test_the_lazy_feed_is_built_on_the_first_read_and_only_once() -> None:
    built: list[CountingFeed] = []

    def build() -> CountingFeed:
        built.append(CountingFeed())
        return built[-1]

    lazy = LazyLiveCandles(build)
    assert not lazy.started and built == []
    lazy.get_data("BTC", "5m", 10)
    lazy.last_update("BTC", "5m")
    lazy.get_data("ETH", "5m", 10)
    assert lazy.started and len(built) == 1 and built[0].reads == 2


def never(*_: Any) -> Any:
    raise AssertionError("a live exchange needs neither the paper feed nor the paper instruments")


def test_live_builds_the_hyperliquid_venue_offline_and_scrubs_its_key() -> None:
    config = settings(subaccounts={1: ADDRESS, 2: "0x" + "4d" * 20})
    resource = open_exchange(config, True, {"HL_PRIVATE_KEY": KEY}, InMemoryEventStore(), never,
                             ManualClock(datetime(2026, 1, 1, tzinfo=UTC)), never)
    exchange = next(resource)
    try:
        assert (exchange.mode, exchange.subaccounts()) == ("live", (1, 2))
        assert KEY not in repr(exchange) and ADDRESS not in repr(exchange)
        assert scrub(f"key {KEY.removeprefix('0x')}") == "key ***"
    finally:
        resource.close()


def test_a_refused_live_request_builds_nothing() -> None:
    resource = open_exchange(settings(mode="paper"), True, {"HL_PRIVATE_KEY": KEY}, InMemoryEventStore(), never,
                             ManualClock(datetime(2026, 1, 1, tzinfo=UTC)), never)
    with pytest.raises(LiveTradingRefused):
        next(resource)
