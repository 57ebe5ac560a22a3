"""The Hyperliquid adapter reads the proxy and CA-bundle variables once per session, when it builds
it, instead of on every request (requests' default), and still honours them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from adapters.hyperliquid.exchange_transport import settled_session
from application.ports.exchange import ExchangeUnavailable
from tests.contract.hyperliquid_harness import HyperliquidHarness

DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens there
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
                   "all_proxy", "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def harness() -> Iterator[HyperliquidHarness]:
    built = HyperliquidHarness(timeout_s=0.5, retries=0)
    yield built
    built.close()


def test_a_proxy_set_in_the_environment_is_used(harness: HyperliquidHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", DEAD_PROXY)
    with pytest.raises(ExchangeUnavailable, match=r"ProxyError|ConnectionError"):
        harness.exchange().subaccount(1).account()


def test_no_proxy_is_honoured_and_the_environment_is_read_once(harness: HyperliquidHarness,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", DEAD_PROXY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    sub = harness.exchange().subaccount(1)
    assert sub.account().account_value > 0
    monkeypatch.delenv("NO_PROXY")  # read per request, this would now send every call to the dead proxy
    assert sub.mid_price("BTC") > 0
    assert sub.account().account_value > 0


def test_a_settled_session_pins_the_proxy_and_the_ca_bundle(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    session = settled_session(requests.Session(), "https://api.hyperliquid.xyz")
    assert session.trust_env is False
    assert session.proxies["https"] == "http://proxy.internal:3128"
    assert session.verify == str(bundle)
    monkeypatch.setenv("NO_PROXY", "api.hyperliquid.xyz")
    assert "https" not in settled_session(requests.Session(), "https://api.hyperliquid.xyz").proxies


def test_an_explicit_verify_setting_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/somewhere/ca.pem")
    session = requests.Session()
    session.verify = False
    assert settled_session(session, "https://api.hyperliquid.xyz").verify is False
