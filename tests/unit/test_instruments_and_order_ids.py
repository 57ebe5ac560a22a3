from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.client_order_ids import client_order_id, is_client_order_id, order_intent_id
from domain.errors import InvalidOrder
from domain.instruments import Instrument

BTC = Instrument("BTC", 5)
ETH = Instrument("ETH", 4)
PEPE = Instrument("kPEPE", 0)


@pytest.mark.parametrize(("instrument", "size", "expected"), [
    (BTC, 0.0012345, 0.00123), (BTC, 0.00123, 0.00123), (ETH, 1.99999, 1.9999), (PEPE, 1234.9, 1234.0),
    (BTC, 0.1 + 0.2, 0.3),
])
def test_sizes_round_down_to_the_size_step(instrument: Instrument, size: float, expected: float) -> None:
    assert instrument.round_size(size) == expected
    assert instrument.is_valid_size(expected)


@pytest.mark.parametrize(("instrument", "price", "expected"), [
    (BTC, 65432.17, 65432.0), (BTC, 123456.0, 123456.0), (BTC, 123456.7, 123460.0), (ETH, 3012.345, 3012.3),
    (ETH, 0.5, 0.5), (PEPE, 0.0123456, 0.012346), (BTC, 1.234567, 1.2), (Instrument("X", 5), 0.1234567, 0.1),
])
def test_prices_land_on_the_grid(instrument: Instrument, price: float, expected: float) -> None:
    assert instrument.round_price(price) == expected
    assert instrument.is_valid_price(expected)


def test_bad_sizes_prices_and_instruments_are_refused() -> None:
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(InvalidOrder):
            BTC.round_size(bad)
        with pytest.raises(InvalidOrder):
            BTC.round_price(bad)
    with pytest.raises(InvalidOrder, match="sz_decimals"):
        Instrument("BAD", 7)
    with pytest.raises(InvalidOrder, match="rounds to"):
        Instrument("TINY", 6).round_price(1e-9)


def test_client_order_ids_come_from_the_intent_not_the_moment() -> None:
    bar = datetime(2024, 3, 1, 12, tzinfo=UTC)
    first = order_intent_id("s1", bar, "entry")
    assert first == order_intent_id("s1", bar.astimezone(UTC), "entry")
    assert is_client_order_id(first) and len(first) == 34
    others = {order_intent_id("s2", bar, "entry"), order_intent_id("s1", bar + timedelta(hours=1), "entry"),
              order_intent_id("s1", bar, "stop_loss")}
    assert first not in others and len(others) == 3
    assert client_order_id("a", "bc") != client_order_id("ab", "c")
    with pytest.raises(InvalidOrder):
        order_intent_id("s1", datetime(2024, 3, 1), "entry")
    with pytest.raises(InvalidOrder):
        client_order_id("s1", "")
