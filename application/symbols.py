"""Names of one perpetual on both venues, and which perps SixBTC trades.

Strategies are researched on Binance candles (ccxt symbols such as BTC/USDT:USDT) and traded on
Hyperliquid (coins such as BTC). The mapping lives here, free of I/O, so the universe adapter,
the live candle provider and the backtests all agree on it.

Hyperliquid lists some low-priced coins per 1000 units with a `k` prefix (kPEPE); Binance lists the
same contracts with a `1000` prefix (1000PEPE/USDT:USDT). Both are quoted per 1000 units, so prices
are comparable without scaling. Contracts that follow neither rule (Binance 1000000MOG, 1MBABYDOGE)
are matched only through explicit overrides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Protocol

from application.ports.market_data import MarketSymbol, UnknownSymbol

_K_COIN = re.compile(r"^k([A-Z][A-Z0-9]*)$")
_THOUSAND_BASE = re.compile(r"^1000([A-Z][A-Z0-9]*)$")
_LINEAR_USDT = re.compile(r"^([A-Z0-9]+)/USDT:USDT$")


class UnmappableSymbol(UnknownSymbol):
    """A name that has no counterpart on the other venue under the mapping rules."""


class PerpVolumes(Protocol):
    """Binance USDT-margined perps and their 24h quote volume (USD), keyed by ccxt symbol."""

    def perp_volumes(self) -> dict[str, float]: ...


def coin_to_binance(coin: str, overrides: Mapping[str, str] | None = None) -> str:
    """The ccxt symbol of the Binance USDT perp for a Hyperliquid coin: kPEPE -> 1000PEPE/USDT:USDT."""
    if overrides and coin in overrides:
        return overrides[coin]
    if not coin or "/" in coin or ":" in coin or coin.startswith("@"):
        raise UnmappableSymbol(f"{coin!r} is not a Hyperliquid perp coin name")
    match = _K_COIN.match(coin)
    base = f"1000{match.group(1)}" if match else coin
    return f"{base}/USDT:USDT"


def binance_to_coin(symbol: str, overrides: Mapping[str, str] | None = None) -> str:
    """The Hyperliquid coin for a Binance ccxt perp symbol: 1000PEPE/USDT:USDT -> kPEPE.

    `overrides` maps coin -> Binance symbol, the same table coin_to_binance takes, so one table
    serves both directions.
    """
    if overrides:
        for coin, binance in overrides.items():
            if binance == symbol:
                return coin
    match = _LINEAR_USDT.match(symbol)
    if match is None:
        raise UnmappableSymbol(f"{symbol!r} is not a Binance USDT-margined perp (expected BASE/USDT:USDT)")
    base = match.group(1)
    thousand = _THOUSAND_BASE.match(base)
    return f"k{thousand.group(1)}" if thousand else base


def to_coin(symbol: str, overrides: Mapping[str, str] | None = None) -> str:
    """A Hyperliquid coin from either name, so callers may use whichever they hold."""
    return binance_to_coin(symbol, overrides) if "/" in symbol else symbol


def select_universe(coins: Iterable[str], binance_volumes: Mapping[str, float], min_volume_24h: float,
                    overrides: Mapping[str, str] | None = None) -> list[MarketSymbol]:
    """Perps listed on both venues whose Binance 24h volume is at least `min_volume_24h`.

    Binance volume decides because it is the deeper market and the one strategies were tested on.
    Sorted by volume, largest first, then by coin so equal volumes give a stable order.
    """
    chosen: list[MarketSymbol] = []
    for coin in dict.fromkeys(coins):
        try:
            binance = coin_to_binance(coin, overrides)
        except UnmappableSymbol:
            continue  # spot or index names in a mixed list are simply not perps to trade
        volume = binance_volumes.get(binance)
        if volume is not None and volume >= min_volume_24h:
            chosen.append(MarketSymbol(coin=coin, binance_symbol=binance, volume_24h=float(volume)))
    chosen.sort(key=lambda s: (-s.volume_24h, s.coin))
    return chosen
