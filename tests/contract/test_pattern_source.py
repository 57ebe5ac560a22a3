"""The PatternSource contract, run against every adapter: memory, the built-in miner and HTTP (respx)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache

import httpx
import pandas as pd
import pytest
import respx

from adapters.memory.pattern_source import InMemoryPatternSource
from adapters.patterns.http_source import HttpPatternSource
from adapters.patterns.mined_source import MinedPatternSource
from application.ports.market_data import CorruptCacheFile, UnknownSymbol
from application.ports.pattern_source import Pattern, PatternSource, PatternSourceError, pattern_id_for
from tests.pattern_series import planted

URL = "http://patterns.test"
FREQ = {"1h": "h", "4h": "4h"}


def made(name: str, timeframe: str, tier: int, quality: float, condition: str = "rsi_14 < 30") -> Pattern:
    return Pattern(pattern_id=pattern_id_for(condition, "long", timeframe, 8), name=name,
                   description=f"{name}.", condition=condition, direction="long", timeframe=timeframe,
                   horizon_bars=8, symbols=("BTC",), test_edge=0.003, test_win_rate=0.55, train_edge=0.004,
                   occurrences=80, tier=tier, quality=quality, source="service")


FIXED = [made("a", "1h", 2, 0.9, "rsi_14 < 30"), made("b", "1h", 1, 0.8, "rsi_14 < 25"),
         made("c", "4h", 1, 0.95, "rsi_14 < 20"), made("d", "1h", 1, 0.97, "bb_pctb_20 < 0.05"),
         made("e", "1h", 3, 0.99, "ret_z_50 < -2")]


@cache
def candles(symbol: str, timeframe: str) -> pd.DataFrame:
    return planted(seed=3 if symbol == "BTC" else 4, n=26_280 if timeframe == "1h" else 8_000, freq=FREQ[timeframe])


class FakeCandles:
    """A CandleSource with planted-pattern series for BTC and ETH, counting loads."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.loads: list[tuple[str, str]] = []
        self.fail = fail

    def load(self, symbol: str, timeframe: str) -> pd.DataFrame:
        self.loads.append((symbol, timeframe))
        if self.fail is not None:
            raise self.fail
        if symbol not in ("BTC", "ETH") or timeframe not in FREQ:
            raise UnknownSymbol(f"{symbol} {timeframe} is not in the candle cache; cached: BTC 1h, ETH 1h")
        return candles(symbol, timeframe).copy()

    def default_symbols(self, timeframe: str) -> list[str]:
        return ["BTC", "ETH"]


@pytest.fixture(params=["memory", "mined", "http"])
def source(request: pytest.FixtureRequest) -> Iterator[PatternSource]:
    if request.param == "memory":
        yield InMemoryPatternSource(FIXED)
    elif request.param == "mined":
        yield MinedPatternSource(FakeCandles(), ["BTC", "ETH"], min_occurrences=20)
    else:
        with respx.mock:  # the server ignores every filter: the adapter must not rely on it
            body = json.dumps({"patterns": [p.to_dict() for p in FIXED]})
            respx.get(f"{URL}/patterns").mock(return_value=httpx.Response(200, text=body))
            yield HttpPatternSource(URL, tier_filter=3, min_quality=0.0)


def test_answers_are_patterns_best_first_within_the_limit(source: PatternSource) -> None:
    got = source.patterns(timeframe="1h", limit=3)
    assert 2 <= len(got) <= 3 and all(isinstance(p, Pattern) for p in got)
    keys = [(p.tier, -p.quality) for p in got]
    assert keys == sorted(keys)
    more = source.patterns(timeframe="1h", limit=50)
    assert more[: len(got)] == got  # a smaller limit is a prefix of a larger one


def test_timeframe_is_a_filter(source: PatternSource) -> None:
    for timeframe in ("1h", "4h"):
        got = source.patterns(timeframe=timeframe, limit=50)
        assert got and {p.timeframe for p in got} == {timeframe}


def test_no_limit_means_no_patterns(source: PatternSource) -> None:
    assert source.patterns(limit=0) == []
    assert source.patterns(limit=-1) == []


def test_ids_are_unique_and_answers_repeat(source: PatternSource) -> None:
    first = source.patterns(timeframe="1h", limit=50)
    assert len({p.pattern_id for p in first}) == len(first)
    assert source.patterns(timeframe="1h", limit=50) == first


def test_patterns_serialise_to_json_and_back(source: PatternSource) -> None:
    for pattern in source.patterns(timeframe="1h", limit=5):
        data = json.loads(json.dumps(pattern.to_dict()))
        assert Pattern(**(data | {"symbols": tuple(data["symbols"])})) == pattern


def test_strategy_type_is_accepted_and_defaults_work(source: PatternSource) -> None:
    typed = source.patterns(timeframe="1h", strategy_type="REV", limit=5)
    assert all(p.timeframe == "1h" for p in typed)
    assert len(source.patterns()) <= 20


# MinedPatternSource specifics


def test_mined_answers_are_cached_per_timeframe() -> None:
    fake = FakeCandles()
    mined = MinedPatternSource(fake, ["BTC", "ETH"], min_occurrences=20)
    mined.patterns(timeframe="1h")
    mined.patterns(timeframe="1h", limit=3)
    mined.patterns()  # default timeframe 1h
    assert fake.loads == [("BTC", "1h"), ("ETH", "1h")]
    mined.patterns(timeframe="4h")
    assert len(fake.loads) == 4
    mined.clear()
    mined.patterns(timeframe="1h")
    assert len(fake.loads) == 6


def test_mined_skips_uncached_symbols_and_finds_nothing_when_none_are(caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeCandles()
    mined = MinedPatternSource(fake, ["BTC", "DOGE"], min_occurrences=20)
    got = mined.patterns(timeframe="1h")
    assert got and all(p.symbols == ("BTC",) for p in got)
    assert mined.patterns(timeframe="1d") == []
    assert "no 1d candles for BTC, DOGE" in caplog.text
    mined.patterns(timeframe="1d")
    assert fake.loads.count(("BTC", "1d")) == 2  # an empty answer is not cached: a later download counts


def test_mined_turns_unreadable_candles_into_a_pattern_source_error() -> None:
    broken = MinedPatternSource(FakeCandles(CorruptCacheFile("BTC_1h.parquet", "bad footer")), ["BTC"])
    with pytest.raises(PatternSourceError, match=r"cannot read BTC 1h candles.*bad footer"):
        broken.patterns(timeframe="1h")


def test_memory_keeps_the_first_of_duplicate_ids() -> None:
    twin = made("a-again", "1h", 1, 0.99, "rsi_14 < 30")
    got = InMemoryPatternSource([FIXED[0], twin]).patterns()
    assert [p.name for p in got] == ["a"]
