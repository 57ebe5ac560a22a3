"""Binance USDT-M response bodies built from candle arrays, in the venue's exact shapes.

Kept apart from the server so the shapes can be read (and compared with Binance's docs) in one
place; every number is sent as a string, as Binance does, so ccxt's own parsing is exercised.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# Binance's interval names and their length in milliseconds (1M is left out: months vary).
INTERVAL_MS: dict[str, int] = {
    "1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000,
    "1h": 3_600_000, "2h": 7_200_000, "4h": 14_400_000, "6h": 21_600_000, "8h": 28_800_000,
    "12h": 43_200_000, "1d": 86_400_000, "3d": 259_200_000, "1w": 604_800_000,
}
RATE_LIMITS: list[dict[str, Any]] = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
    {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
]
# Price tick sizes of the perps in the shared data; others get one derived from their price.
TICK_SIZES: dict[str, str] = {"BTCUSDT": "0.10", "ETHUSDT": "0.01", "BNBUSDT": "0.010", "SOLUSDT": "0.0100",
                              "XRPUSDT": "0.0001", "DOGEUSDT": "0.000010"}
ONBOARD_MS = 1_569_398_400_000  # 2019-09-25, BTCUSDT's listing; the same for every fake symbol

ERRORS: dict[int, dict[str, Any]] = {
    418: {"code": -1003, "msg": "Way too many requests; IP(127.0.0.1) banned. Please use the websocket "
                                "for live updates to avoid bans."},
    429: {"code": -1003, "msg": "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per "
                                "minute. Please use the websocket for live updates to avoid polling the API."},
    500: {"code": -1001, "msg": "Internal error; unable to process your request. Please try again."},
    502: {"code": -1001, "msg": "Internal error; unable to process your request. Please try again."},
    503: {"code": -1001, "msg": "Internal error; unable to process your request. Please try again."},
    504: {"code": -1007, "msg": "Timeout waiting for response from backend server. Send status unknown; "
                                "execution status unknown."},
}
INVALID_SYMBOL = {"code": -1121, "msg": "Invalid symbol."}
INVALID_INTERVAL = {"code": -1120, "msg": "Invalid interval."}
INVALID_LIMIT = {"code": -1130, "msg": "Data sent for parameter 'limit' is not valid."}


def kline_weight(limit: int) -> int:
    """Request weight of GET /fapi/v1/klines, which Binance scales with `limit`."""
    if limit < 100:
        return 1
    if limit < 500:
        return 2
    return 5 if limit <= 1000 else 10


def num(value: float) -> str:
    """The shortest decimal that reads back as the same float (Binance sends fixed decimals)."""
    if not math.isfinite(value):
        raise ValueError(f"cannot send {value!r} as a Binance number")
    return np.format_float_positional(value, unique=True, trim="0")


def klines(times: np.ndarray, values: np.ndarray, interval_ms: int) -> list[list[Any]]:
    """[openTime, o, h, l, c, v, closeTime, quoteVolume, trades, takerBase, takerQuote, "0"] rows."""
    rows: list[list[Any]] = []
    for t, (o, h, lo, c, v) in zip(times.tolist(), values.tolist(), strict=True):
        quote = v * (o + c) / 2.0
        rows.append([t, num(o), num(h), num(lo), num(c), num(v), t + interval_ms - 1, num(quote),
                     int(v * 7) + 1, num(v / 2.0), num(quote / 2.0), "0"])
    return rows


def symbol_info(symbol: str, last_price: float | None) -> dict[str, Any]:
    """One entry of exchangeInfo["symbols"] for a USDT-margined perpetual."""
    tick = TICK_SIZES.get(symbol) or _tick_for(last_price)
    decimals = len(tick.split(".")[1]) if "." in tick else 0
    return {
        "symbol": symbol, "pair": symbol, "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
        "onboardDate": ONBOARD_MS, "status": "TRADING", "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000", "baseAsset": symbol.removesuffix("USDT"), "quoteAsset": "USDT",
        "marginAsset": "USDT", "pricePrecision": decimals, "quantityPrecision": 3, "baseAssetPrecision": 8,
        "quotePrecision": 8, "underlyingType": "COIN", "underlyingSubType": [], "settlePlan": 0,
        "triggerProtect": "0.0500", "liquidationFee": "0.012500", "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "10000000", "tickSize": tick},
            {"filterType": "LOT_SIZE", "stepSize": "0.001", "maxQty": "1000", "minQty": "0.001"},
            {"filterType": "MARKET_LOT_SIZE", "stepSize": "0.001", "maxQty": "120", "minQty": "0.001"},
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {"filterType": "MIN_NOTIONAL", "notional": "5"},
            {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500",
             "multiplierDecimal": "4"},
        ],
        "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET",
                       "TRAILING_STOP_MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        "permissionSets": ["GRID", "COPY"],
    }


def exchange_info(symbols: dict[str, float | None], server_ms: int) -> dict[str, Any]:
    return {
        "timezone": "UTC", "serverTime": server_ms, "futuresType": "U_MARGINED",
        "rateLimits": RATE_LIMITS, "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
        "symbols": [symbol_info(s, p) for s, p in sorted(symbols.items())],
    }


def ticker_24hr(symbol: str, times: np.ndarray, values: np.ndarray, close_ms: int) -> dict[str, Any]:
    """The rolling 24h statistics Binance reports, from the bars of the last day."""
    if len(times) == 0:
        o = h = lo = c = v = 0.0
        open_ms = close_ms - INTERVAL_MS["1d"]
    else:
        o, c = float(values[0, 0]), float(values[-1, 3])
        h, lo, v = float(values[:, 1].max()), float(values[:, 2].min()), float(values[:, 4].sum())
        open_ms = int(times[0])
    quote = float((values[:, 4] * values[:, 3]).sum()) if len(times) else 0.0
    return {
        "symbol": symbol, "priceChange": num(c - o),
        "priceChangePercent": num(round((c - o) / o * 100, 3) if o else 0.0),
        "weightedAvgPrice": num(quote / v if v else 0.0), "lastPrice": num(c), "lastQty": "0.010",
        "openPrice": num(o), "highPrice": num(h), "lowPrice": num(lo), "volume": num(v),
        "quoteVolume": num(quote), "openTime": open_ms, "closeTime": close_ms,
        "firstId": 1, "lastId": max(1, int(v)), "count": max(1, int(v)),
    }


def _tick_for(price: float | None) -> str:
    """About five significant digits of price, as Binance lists most perps."""
    if not price or price <= 0:
        return "0.0001"
    decimals = min(8, max(0, 4 - math.floor(math.log10(price))))
    return "1" if decimals == 0 else f"{10.0 ** -decimals:.{decimals}f}"
