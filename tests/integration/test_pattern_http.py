"""HttpPatternSource against a mocked pattern-discovery service (respx): filtering, validation, failures."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
import respx

from adapters.patterns.http_source import HttpPatternSource
from application.ports.pattern_source import PatternSourceError, pattern_id_for

URL = "http://patterns.test"


def entry(name: str, *, tier: int = 1, quality: float = 0.9, timeframe: str = "1h", **extra: Any) -> dict[str, Any]:
    return {"pattern_id": f"svc-{name}", "name": name, "description": f"{name} pattern.",
            "condition": "rsi_14 < 30", "direction": "long", "timeframe": timeframe, "horizon_bars": 8,
            "symbols": ["BTC", "ETH"], "test_edge": 0.004, "test_win_rate": 0.55, "train_edge": 0.005,
            "occurrences": 120, "tier": tier, "quality": quality} | extra


def source(sleeps: list[float] | None = None, **kwargs: Any) -> HttpPatternSource:
    settings: dict[str, Any] = {"tier_filter": 2, "min_quality": 0.6} | kwargs
    return HttpPatternSource(URL + "/", sleep=(sleeps if sleeps is not None else []).append, **settings)


@respx.mock
def test_success_sends_the_filters_and_filters_again_client_side() -> None:
    route = respx.get(f"{URL}/patterns").mock(return_value=httpx.Response(200, json={"patterns": [
        entry("ok-a", tier=2, quality=0.7), entry("ok-b", tier=1, quality=0.8), entry("tier-3", tier=3),
        entry("low-quality", quality=0.59), entry("other-tf", timeframe="4h"), entry("ok-c", tier=1, quality=0.95),
    ]}))
    got = source().patterns(timeframe="1h", strategy_type="REV", limit=5)
    assert [p.name for p in got] == ["ok-c", "ok-b", "ok-a"]  # tier, then quality
    assert all(p.source == "service" for p in got)
    assert got[0].symbols == ("BTC", "ETH") and got[0].pattern_id == "svc-ok-c"
    params = route.calls.last.request.url.params
    assert dict(params) == {"tier": "2", "min_quality": "0.6", "limit": "5", "timeframe": "1h", "strategy_type": "REV"}


@respx.mock
def test_limit_is_applied_and_a_bare_list_is_accepted() -> None:
    respx.get(f"{URL}/patterns").mock(return_value=httpx.Response(200, json=[entry(f"p{i}") for i in range(5)]))
    assert len(source().patterns(limit=2)) == 2
    assert source().patterns(limit=0) == []


@respx.mock
def test_malformed_entries_are_skipped_and_named(caplog: pytest.LogCaptureFixture) -> None:
    bad = [entry("no-cond") | {"condition": None}, entry("bool-tier", tier=True), entry("sideways", direction="up"),
           entry("too-good", quality=1.5), "not an object", entry("nan-edge") | {"test_edge": float("nan")},
           {k: v for k, v in entry("no-horizon").items() if k != "horizon_bars"},
           entry("bad-symbols", symbols="BTC")]
    no_id = {k: v for k, v in entry("derived").items() if k != "pattern_id"}
    body = json.dumps({"patterns": [entry("good"), *bad, no_id]})  # json.dumps writes NaN, as some servers do
    respx.get(f"{URL}/patterns").mock(return_value=httpx.Response(200, text=body))
    with caplog.at_level(logging.WARNING, logger="adapters.patterns.http_source"):
        got = source().patterns()
    assert sorted(p.name for p in got) == ["derived", "good"]
    derived = next(p for p in got if p.name == "derived")
    assert derived.pattern_id == pattern_id_for("rsi_14 < 30", "long", "1h", 8)
    text = caplog.text
    for name in ("svc-no-cond", "svc-bool-tier", "svc-sideways", "svc-too-good", "#5", "svc-nan-edge",
                 "svc-no-horizon", "svc-bad-symbols"):
        assert name in text
    assert "skipped 8 of 10" in text


@respx.mock
def test_a_500_is_retried_then_succeeds() -> None:
    route = respx.get(f"{URL}/patterns").mock(side_effect=[httpx.Response(500), httpx.Response(200, json=[entry("a")])])
    sleeps: list[float] = []
    assert [p.name for p in source(sleeps).patterns()] == ["a"]
    assert route.call_count == 2 and sleeps == [0.5]


@respx.mock
def test_persistent_5xx_gives_up_after_two_retries() -> None:
    route = respx.get(f"{URL}/patterns").mock(return_value=httpx.Response(503, text="down\nfor maintenance"))
    sleeps: list[float] = []
    with pytest.raises(PatternSourceError, match="HTTP 503") as caught:
        source(sleeps).patterns()
    assert route.call_count == 3 and sleeps == [0.5, 1.0]
    assert "\n" not in str(caught.value)


@respx.mock
def test_timeouts_become_a_pattern_source_error() -> None:
    route = respx.get(f"{URL}/patterns").mock(side_effect=httpx.ReadTimeout("read timed out"))
    sleeps: list[float] = []
    with pytest.raises(PatternSourceError, match=r"timed out after 10.0s \(3 attempts\)"):
        source(sleeps).patterns()
    assert route.call_count == 3 and sleeps == [0.5, 1.0]


@respx.mock
def test_a_timeout_then_success_is_retried() -> None:
    respx.get(f"{URL}/patterns").mock(side_effect=[httpx.ConnectTimeout("slow"), httpx.Response(200, json=[])])
    assert source().patterns() == []


@respx.mock
def test_non_json_is_an_error() -> None:
    respx.get(f"{URL}/patterns").mock(return_value=httpx.Response(200, text="<html>oops</html>"))
    with pytest.raises(PatternSourceError, match="non-JSON"):
        source().patterns()


@respx.mock
def test_json_of_the_wrong_shape_is_an_error() -> None:
    respx.get(f"{URL}/patterns").mock(return_value=httpx.Response(200, json={"items": []}))
    with pytest.raises(PatternSourceError, match="'patterns' list"):
        source().patterns()


@respx.mock
def test_404_is_an_error_without_retry() -> None:
    route = respx.get(f"{URL}/patterns").mock(return_value=httpx.Response(404, text="no such route"))
    sleeps: list[float] = []
    with pytest.raises(PatternSourceError, match=r"HTTP 404.*no such route"):
        source(sleeps).patterns()
    assert route.call_count == 1 and sleeps == []


@respx.mock
def test_connection_refused_is_an_error_without_retry() -> None:
    route = respx.get(f"{URL}/patterns").mock(side_effect=httpx.ConnectError("connection refused"))
    with pytest.raises(PatternSourceError, match=r"cannot reach pattern service at http://patterns\.test/patterns"):
        source().patterns()
    assert route.call_count == 1


@respx.mock
def test_an_injected_client_is_used() -> None:
    respx.get(f"{URL}/patterns").mock(return_value=httpx.Response(200, json=[entry("a")]))
    with httpx.Client() as client:
        assert [p.name for p in source(client=client).patterns()] == ["a"]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        HttpPatternSource("patterns.test", tier_filter=1, min_quality=0.5)
    with pytest.raises(ValueError):
        HttpPatternSource(URL, tier_filter=0, min_quality=0.5)
    with pytest.raises(ValueError):
        HttpPatternSource(URL, tier_filter=1, min_quality=1.5)
