"""Binance <-> Hyperliquid perp names, checked on the real Hyperliquid meta (28 coins, 2023-07)."""

from __future__ import annotations

import json

import pytest

from application.ports.market_data import MarketSymbol, UnknownSymbol
from application.symbols import (
    UnmappableSymbol,
    binance_to_coin,
    coin_to_binance,
    select_universe,
    to_coin,
)
from tests.conftest import SHARED_DATA

META = json.loads((SHARED_DATA / "hyperliquid" / "sdk_recorded" / "info_meta.json").read_text())["response"]
COINS = [asset["name"] for asset in META["universe"]]


def test_the_recorded_meta_is_what_these_tests_assume() -> None:
    assert len(COINS) == 28 and {"BTC", "ETH", "kPEPE", "DOGE"} <= set(COINS)


@pytest.mark.parametrize(("coin", "binance"), [
    ("BTC", "BTC/USDT:USDT"), ("ETH", "ETH/USDT:USDT"), ("kPEPE", "1000PEPE/USDT:USDT"),
    ("kSHIB", "1000SHIB/USDT:USDT"), ("RNDR", "RNDR/USDT:USDT"),
])
def test_names_map_both_ways(coin: str, binance: str) -> None:
    assert coin_to_binance(coin) == binance
    assert binance_to_coin(binance) == coin


def test_every_recorded_coin_round_trips() -> None:
    for coin in COINS:
        assert binance_to_coin(coin_to_binance(coin)) == coin
    assert [c for c in COINS if coin_to_binance(c).startswith("1000")] == ["kPEPE"]


@pytest.mark.parametrize("symbol", ["BTC/USDT", "BTC/USD:BTC", "BTCUSDT", "ETH/USDC:USDC", ""])
def test_symbols_that_are_not_binance_usdt_perps_are_refused(symbol: str) -> None:
    with pytest.raises(UnmappableSymbol, match="USDT-margined perp"):
        binance_to_coin(symbol)


def test_unmappable_is_an_unknown_symbol_so_callers_catch_one_kind() -> None:
    with pytest.raises(UnknownSymbol):
        coin_to_binance("PURR/USDC")
    with pytest.raises(UnknownSymbol):
        coin_to_binance("@107")


def test_a_leading_1000_is_a_multiplier_only_before_a_letter() -> None:
    assert binance_to_coin("1000000MOG/USDT:USDT") == "1000000MOG"
    assert binance_to_coin("1INCH/USDT:USDT") == "1INCH"
    assert coin_to_binance("KAS") == "KAS/USDT:USDT"  # upper-case K is part of the name


def test_overrides_serve_both_directions() -> None:
    overrides = {"kMOG": "1000000MOG/USDT:USDT"}
    assert coin_to_binance("kMOG", overrides) == "1000000MOG/USDT:USDT"
    assert binance_to_coin("1000000MOG/USDT:USDT", overrides) == "kMOG"
    assert to_coin("1000000MOG/USDT:USDT", overrides) == "kMOG"


def test_to_coin_accepts_either_name() -> None:
    assert to_coin("BTC") == "BTC"
    assert to_coin("1000PEPE/USDT:USDT") == "kPEPE"


def test_the_universe_is_the_intersection_above_the_volume_threshold() -> None:
    volumes = {"BTC/USDT:USDT": 9e9, "ETH/USDT:USDT": 5e9, "1000PEPE/USDT:USDT": 3e8, "DOGE/USDT:USDT": 1e6,
               "WIF/USDT:USDT": 8e8, "SOL/USDT:USDT": 3e8}
    chosen = select_universe(COINS, volumes, min_volume_24h=1e8)
    assert chosen == [
        MarketSymbol("BTC", "BTC/USDT:USDT", 9e9),
        MarketSymbol("ETH", "ETH/USDT:USDT", 5e9),
        MarketSymbol("SOL", "SOL/USDT:USDT", 3e8),  # equal volumes: by coin name
        MarketSymbol("kPEPE", "1000PEPE/USDT:USDT", 3e8),
    ]
    assert select_universe(COINS, volumes, min_volume_24h=1e12) == []
