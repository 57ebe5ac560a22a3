"""Hyperliquid candle parsing (on the recorded kPEPE candleSnapshot), the candle series, the universe."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from adapters.hyperliquid.candle_cache import CandleSeries
from adapters.hyperliquid.candles import MalformedCandle, candles_to_frame, parse_candle
from adapters.hyperliquid.universe import HyperliquidUniverse
from adapters.hyperliquid.ws_connection import Backoff
from application.ports.market_data import MarketSymbol
from tests.conftest import SHARED_DATA

RECORDED = SHARED_DATA / "hyperliquid" / "sdk_recorded"
KPEPE = json.loads((RECORDED / "info_candleSnapshot_kPEPE_1h_with_end_time.json").read_text())
HOUR_MS = 3_600_000
AT = datetime(2024, 1, 1, tzinfo=UTC)


def test_recorded_snapshot_parses_to_the_standard_frame() -> None:
    frame = candles_to_frame(KPEPE["response"])
    assert len(frame) == 24
    assert str(frame.index.dtype) == "datetime64[ns, UTC]" and frame.index.name == "timestamp"
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert (frame.dtypes == "float64").all()
    assert (np.diff(frame.index.asi8) == HOUR_MS * 1_000_000).all()
    first = KPEPE["response"][0]
    assert frame.index[0] == pd.Timestamp(first["t"], unit="ms", tz="UTC")
    assert frame.iloc[0].tolist() == [float(first[k]) for k in ("o", "h", "l", "c", "v")]
    assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()
    assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()


def test_the_window_is_overlap_based_as_recorded() -> None:
    """The first bar opens before startTime: Hyperliquid returns bars overlapping the window."""
    req = KPEPE["request"]["req"]
    bars = KPEPE["response"]
    assert bars[0]["t"] < req["startTime"] <= bars[0]["T"]
    assert bars[-1]["t"] <= req["endTime"] <= bars[-1]["T"]
    assert all(bar["T"] == bar["t"] + HOUR_MS - 1 for bar in bars)


def test_a_ws_candle_message_parses_like_a_snapshot_item() -> None:
    candle = parse_candle(KPEPE["response"][-1])
    assert (candle.coin, candle.interval, candle.open_ms) == ("kPEPE", "1h", 1684782000000)
    assert candle.values == (0.001538, 0.001548, 0.001536, 0.00154, 308219489.0)


@pytest.mark.parametrize("payload", [{"error": "Could not parse JSON: <html>"}, "null", None])
def test_a_body_that_is_not_a_candle_list_is_refused(payload: Any) -> None:
    with pytest.raises(MalformedCandle, match="list of candles"):
        candles_to_frame(payload)


def test_a_candle_missing_a_field_or_number_is_refused() -> None:
    bad = dict(KPEPE["response"][0], o="n/a")
    with pytest.raises(MalformedCandle, match="bad Hyperliquid candle"):
        candles_to_frame([bad])
    with pytest.raises(MalformedCandle):
        parse_candle({k: v for k, v in KPEPE["response"][0].items() if k != "t"})


def row(price: float) -> tuple[float, ...]:
    return (price, price + 1, price - 1, price, 10.0)


def test_pushes_update_the_forming_bar_and_append_new_ones() -> None:
    series = CandleSeries(HOUR_MS, max_candles=5)
    assert series.push(0, row(1), AT).appended
    assert not series.push(0, row(2), AT + timedelta(seconds=1)).appended
    assert series.push(HOUR_MS, row(3), AT).gap_after is None
    times, values = series.tail(10)
    assert times.tolist() == [0, HOUR_MS] and values[:, 0].tolist() == [2, 3]
    assert series.push(4 * HOUR_MS, row(4), AT).gap_after == HOUR_MS


def test_memory_stays_bounded_and_the_newest_bars_are_kept() -> None:
    series = CandleSeries(HOUR_MS, max_candles=100)
    for n in range(10_000):
        series.push(n * HOUR_MS, row(n), AT)
    times, values = series.tail(1_000)
    assert len(series) == 100 and times[0] == 9_900 * HOUR_MS and values[-1, 0] == 9_999
    assert (np.diff(times) == HOUR_MS).all()


def test_readers_get_copies() -> None:
    series = CandleSeries(HOUR_MS, max_candles=5)
    series.push(0, row(1), AT)
    _, values = series.tail(1)
    values[0, 0] = -1
    assert series.tail(1)[1][0, 0] == 1


def test_a_snapshot_wins_over_old_bars_but_not_over_bars_streamed_since_the_reconnect() -> None:
    series = CandleSeries(HOUR_MS, max_candles=10)
    series.push(0, row(1), AT)  # bar 0 as last seen before a disconnect
    series.connection_opened()
    series.push(3 * HOUR_MS, row(30), AT)  # first push on the new connection
    snapshot_t = np.array([0, HOUR_MS, 2 * HOUR_MS, 3 * HOUR_MS], dtype=np.int64)
    snapshot_v = np.array([row(5), row(10), row(20), row(29)], dtype=np.float64)
    series.merge_snapshot(snapshot_t, snapshot_v, AT)
    times, values = series.tail(10)
    assert times.tolist() == snapshot_t.tolist()
    assert values[:, 0].tolist() == [5, 10, 20, 30]


def test_backoff_grows_to_its_cap() -> None:
    backoff = Backoff(initial_s=0.5, max_s=4.0, factor=2.0, jitter=0.0)
    assert [backoff.delay(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    with pytest.raises(ValueError):
        Backoff(initial_s=2.0, max_s=1.0)


class Volumes:
    def perp_volumes(self) -> dict[str, float]:
        return {"BTC/USDT:USDT": 2e9, "1000PEPE/USDT:USDT": 4e8, "APT/USDT:USDT": 1e5}


class Meta:
    def meta(self) -> dict[str, Any]:
        meta = json.loads((RECORDED / "info_meta.json").read_text())["response"]
        meta["universe"].append({"name": "GONE", "szDecimals": 0, "isDelisted": True})
        return meta


def test_universe_intersects_the_recorded_meta_with_binance_volumes() -> None:
    universe = HyperliquidUniverse(Volumes(), Meta(), min_volume_24h=1e6)
    assert universe.symbols() == [MarketSymbol("BTC", "BTC/USDT:USDT", 2e9),
                                  MarketSymbol("kPEPE", "1000PEPE/USDT:USDT", 4e8)]
    assert HyperliquidUniverse(Volumes(), Meta(), 1e6, max_symbols=1).symbols()[0].coin == "BTC"


def test_frames_follow_appends_refetches_and_in_place_updates() -> None:
    series = CandleSeries(HOUR_MS, max_candles=3)
    for n in range(3):
        series.push(n * HOUR_MS, row(n), AT)
    first = series.frame(10)
    series.push(2 * HOUR_MS, row(7), AT)  # forming bar updated in place
    series.push(3 * HOUR_MS, row(8), AT)  # a new bar; the oldest falls out
    frame = series.frame(10)
    assert first["open"].tolist() == [0, 1, 2]  # what a reader got earlier is not changed under it
    assert frame.index.asi8.tolist() == [h * HOUR_MS * 1_000_000 for h in (1, 2, 3)]
    assert frame["open"].tolist() == [1, 7, 8]
    series.connection_opened()  # nothing streamed on the new connection yet: the refetch wins
    series.merge_snapshot(np.array([3 * HOUR_MS, 4 * HOUR_MS]), np.array([row(9), row(10)]), AT)
    assert series.frame(2)["open"].tolist() == [9, 10] and str(series.frame(1).index.dtype) == "datetime64[ns, UTC]"
