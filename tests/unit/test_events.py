from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.events import (
    DomainEvent,
    StrategyDeselected,
    StrategyEvent,
    StrategyGenerated,
    SubaccountEvent,
    SubaccountFunded,
    UnknownEventType,
    event_class,
    event_from_payload,
)

ENVELOPE = {"event_id", "occurred_at", "aggregate_id"}


def concrete_events() -> list[type[DomainEvent]]:
    found: list[type[DomainEvent]] = []
    pending: list[type[DomainEvent]] = [DomainEvent]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls not in (DomainEvent, StrategyEvent, SubaccountEvent):
            found.append(cls)
    return sorted(found, key=lambda c: c.__name__)


EVENTS = concrete_events()

aware_times = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))]),
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


def values_for(hint: Any) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([values_for(arg) for arg in typing.get_args(hint)])
    if hint is type(None):
        return st.none()
    if hint is datetime:
        return aware_times
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(-(2**53), 2**53)
    if hint is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if hint is str:
        return st.text()
    if origin is dict:
        return st.dictionaries(st.text(max_size=8), json_values, max_size=4)
    if origin is tuple:
        return st.lists(values_for(typing.get_args(hint)[0]), max_size=3).map(tuple)
    raise AssertionError(f"no generator for {hint!r}: events must carry JSON-friendly values only")


CONSTRAINED: dict[tuple[str, str], st.SearchStrategy[Any]] = {
    ("SchedulerJobRan", "outcome"): st.sampled_from(["ok", "failed"]),
}
"""Fields an event checks on construction: values it accepts, so the round trip is what is tested."""


@st.composite
def instances(draw: st.DrawFn, cls: type[DomainEvent]) -> DomainEvent:
    hints = typing.get_type_hints(cls)
    values = {f.name: draw(CONSTRAINED.get((cls.__name__, f.name), values_for(hints[f.name])))
              for f in dataclasses.fields(cls) if f.name not in ENVELOPE}
    if {"started_at", "finished_at"} <= values.keys() and values["finished_at"] < values["started_at"]:
        values["started_at"], values["finished_at"] = values["finished_at"], values["started_at"]
    return cls(aggregate_id=draw(st.text(min_size=1)), occurred_at=draw(aware_times), **values)


def test_every_known_event_type_is_covered() -> None:
    names = {cls.__name__ for cls in EVENTS}
    assert {
        "StrategyGenerated",
        "BacktestCompleted",
        "StrategyTested",
        "StrategySelected",
        "StrategyDeselected",
        "StrategyDeployed",
        "StrategyRetired",
        "SubaccountFunded",
        "OrderPlaced",
        "OrderFilled",
        "TradeClosed",
        "PortfolioSnapshotTaken",
    } <= names


@pytest.mark.parametrize("cls", EVENTS, ids=lambda c: c.__name__)
@settings(max_examples=30)
@given(data=st.data())
def test_payload_round_trips_through_json(cls: type[DomainEvent], data: st.DataObject) -> None:
    event = data.draw(instances(cls))
    stored = json.loads(json.dumps(event.to_payload(), allow_nan=False))
    assert set(stored) == {f.name for f in dataclasses.fields(cls)} - ENVELOPE
    back = event_from_payload(
        cls.event_type(),
        stored,
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        aggregate_id=event.aggregate_id,
    )
    assert back == event and type(back) is cls


def test_stream_ids_name_the_aggregate_kind() -> None:
    assert StrategyDeselected(aggregate_id="s-1", reason="r").stream_id == "strategy-s-1"
    assert SubaccountFunded(aggregate_id="3", amount=1.0).stream_id == "subaccount-3"


def test_events_are_immutable_and_need_aware_times() -> None:
    event = StrategyDeselected(aggregate_id="s", reason="r")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.reason = "other"  # type: ignore[misc]
    with pytest.raises(DomainError):
        StrategyDeselected(aggregate_id="s", reason="r", occurred_at=datetime(2024, 1, 1))


def test_unknown_event_type_is_refused() -> None:
    assert event_class("StrategyGenerated") is StrategyGenerated
    with pytest.raises(UnknownEventType):
        event_class("NoSuchEvent")
