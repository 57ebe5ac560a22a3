"""The HTTP facts both AI SDK adapters share: prices by model prefix, Retry-After, status → error."""

from __future__ import annotations

import pickle

import pytest

from adapters.ai_http import ANTHROPIC_PRICES, OPENAI_PRICES, PriceTable, redact, retry_after_seconds, status_error
from application.ports.ai_provider import (
    NoProviderAvailable,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
    SpendingCapReached,
)


@pytest.mark.parametrize(("model", "price"), [
    ("gpt-4.1", (2.0, 8.0)), ("gpt-4.1-mini-2025-04-14", (0.4, 1.6)), ("gpt-4o-mini", (0.15, 0.6)),
    ("gemini-2.5-pro", (1.25, 10.0)), ("some-local-model", OPENAI_PRICES["*"])])
def test_openai_prices_match_the_longest_prefix(model: str, price: tuple[float, float]) -> None:
    assert PriceTable(OPENAI_PRICES).price(model) == price


def test_claude_prices_cover_dated_ids_and_unknown_models() -> None:
    table = PriceTable(ANTHROPIC_PRICES)
    assert table.price("claude-opus-4-1-20250805") == (15.0, 75.0)
    assert table.price("claude-opus-4-5-20251101") == (5.0, 25.0)
    assert table.price("claude-haiku-4-5") == (1.0, 5.0)
    assert table.price("claude-next") == ANTHROPIC_PRICES["*"]
    assert table.cost("claude-sonnet-4-5", 1_000_000, 1_000_000) == pytest.approx(18.0)


def test_overrides_replace_entries_and_the_default() -> None:
    table = PriceTable(ANTHROPIC_PRICES, {"*": (0.0, 0.0), "claude-sonnet-4": (1.0, 2.0)})
    assert table.price("claude-next") == (0.0, 0.0) and table.price("claude-sonnet-4-5") == (1.0, 2.0)
    with pytest.raises(ValueError):
        PriceTable(OPENAI_PRICES, {"gpt-4.1": (-1.0, 1.0)})


@pytest.mark.parametrize(("headers", "seconds"), [
    ({"retry-after": "12"}, 12.0), ({"Retry-After": "0.5"}, 0.5), ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
    ({"retry-after": "Wed, 21 Oct 2015 07:28:30 GMT"}, 30.0), ({"retry-after": "Wed, 21 Oct 2015 07:27:00 GMT"}, 0.0),
    ({"retry-after": "soon"}, None), ({"retry-after": "-3"}, None), ({}, None)])
def test_retry_after_reads_seconds_millis_and_dates(headers: dict[str, str], seconds: float | None) -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert retry_after_seconds(headers, now=now) == seconds


@pytest.mark.parametrize(("status", "kind"), [
    (429, RateLimited), (500, ProviderUnavailable), (503, ProviderUnavailable), (529, ProviderUnavailable),
    (408, ProviderUnavailable), (409, ProviderUnavailable), (400, ProviderRejected), (401, ProviderRejected),
    (402, ProviderRejected), (403, ProviderRejected), (404, ProviderRejected), (413, ProviderRejected)])
def test_status_codes_map_to_typed_errors(status: int, kind: type[Exception]) -> None:
    error = status_error("codex", status, {}, "Error code: 999 - something", secret="k")
    assert type(error) is kind and error.provider == "codex"
    assert str(error) == f"codex: HTTP {status}: something"


def test_redact_removes_the_key_and_anything_key_shaped() -> None:
    text = "bad key sk-live-abc123SECRET, other sk-ant-api03-zzzzzzzz, google AIzaSyA1234567890abcdefghijkl, mine"
    cleaned = redact(text, "mine")
    assert "SECRET" not in cleaned and "zzzz" not in cleaned and "AIzaSy" not in cleaned and "mine" not in cleaned
    assert cleaned.startswith("bad key ***")


@pytest.mark.parametrize("error", [
    RateLimited("claude", "HTTP 429", retry_after=3.0), ProviderRejected("codex", "HTTP 401"),
    SpendingCapReached(1.2, 1.0), NoProviderAvailable({"a": "ProviderUnavailable: HTTP 500"})])
def test_ai_errors_survive_pickling(error: Exception) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error) and vars(copy) == vars(error)
