"""The Binance fake answers like Binance where the tests rely on it: shapes, limits, errors, clock."""

from __future__ import annotations

from collections.abc import Iterator

import ccxt
import httpx
import pandas as pd
import pytest

from tests.fakes.binance import FakeBinanceFutures

NOW = pd.Timestamp("2024-03-01 12:30", tz="UTC")


@pytest.fixture
def fake() -> Iterator[FakeBinanceFutures]:
    with FakeBinanceFutures(now=lambda: NOW) as server:
        yield server


def get(fake: FakeBinanceFutures, path: str, **params: object) -> httpx.Response:
    return httpx.get(fake.url + path, params=params, timeout=5)


def test_klines_rows_have_binance_shape_and_end_at_the_forming_bar(fake) -> None:
    rows = get(fake, "/fapi/v1/klines", symbol="BTCUSDT", interval="1h", limit=3).json()
    assert [r[0] for r in rows] == [int(t.value // 1_000_000) for t in
                                    pd.date_range("2024-03-01 10:00", periods=3, freq="1h", tz="UTC")]
    first = rows[0]
    assert len(first) == 12 and first[6] == first[0] + 3_600_000 - 1 and first[11] == "0"
    assert all(isinstance(v, str) for v in first[1:6])
    bar = fake.series("BTCUSDT", "1h").loc[pd.Timestamp("2024-03-01 10:00", tz="UTC")]
    assert [float(v) for v in first[1:6]] == bar.tolist()


def test_klines_limits_and_errors_follow_binance(fake) -> None:
    start = int(pd.Timestamp("2024-01-01", tz="UTC").value // 1_000_000)
    assert len(get(fake, "/fapi/v1/klines", symbol="BTCUSDT", interval="15m", startTime=start).json()) == 500
    assert len(get(fake, "/fapi/v1/klines", symbol="BTCUSDT", interval="15m", startTime=start,
                   limit=1500).json()) == 1500
    assert get(fake, "/fapi/v1/klines", symbol="BTCUSDT", interval="15m", limit=1501).json()["code"] == -1130
    assert get(fake, "/fapi/v1/klines", symbol="NOPEUSDT", interval="1h").json() == {
        "code": -1121, "msg": "Invalid symbol."}
    assert get(fake, "/fapi/v1/klines", symbol="BTCUSDT", interval="7m").json()["code"] == -1120


def test_faults_weight_and_log(fake) -> None:
    fake.inject(429, retry_after=3, after=1)
    ok = get(fake, "/fapi/v1/klines", symbol="BTCUSDT", interval="1h", limit=1000)
    limited = get(fake, "/fapi/v1/klines", symbol="BTCUSDT", interval="1h", limit=1000)
    assert (ok.status_code, limited.status_code, limited.headers["Retry-After"]) == (200, 429, "3")
    assert ok.headers["X-MBX-USED-WEIGHT-1M"] == "5"
    assert [r.status for r in fake.requests] == [200, 429]
    assert len(fake.kline_requests) == 1


def test_real_ccxt_loads_markets_tickers_and_time_from_it(fake) -> None:
    exchange = ccxt.binanceusdm({"rateLimit": 1})
    exchange.urls["api"] = fake.ccxt_urls()
    markets = exchange.load_markets()
    assert {"BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT"} <= set(markets)
    btc = markets["BTC/USDT:USDT"]
    assert (btc["swap"], btc["linear"], btc["active"], btc["precision"]["price"]) == (True, True, True, 0.1)
    assert exchange.fetch_time() == int(NOW.value // 1_000_000)
    ticker = exchange.fetch_ticker("ETH/USDT:USDT")
    forming = pd.Timestamp("2024-03-01 12:00", tz="UTC")
    assert ticker["last"] == float(fake.series("ETHUSDT", "1h")["close"].loc[forming])
    assert len(exchange.fetch_tickers()) == len(markets)
    assert {r.path for r in fake.requests} == {"/fapi/v1/exchangeInfo", "/fapi/v1/time", "/fapi/v1/ticker/24hr"}


def test_weight_limit_answers_429_once_the_minute_budget_is_spent() -> None:
    with FakeBinanceFutures(now=lambda: NOW, weight_limit=6) as fake:
        statuses = [get(fake, "/fapi/v1/klines", symbol="BTCUSDT", interval="1h", limit=1000).status_code
                    for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert fake.weight_used() == 10
