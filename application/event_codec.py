"""Domain events <-> stored events. The envelope (aggregate, time, causality) goes in metadata."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from application.ports.event_store import NewEvent, RecordedEvent
from domain.events import DomainEvent, event_from_payload


def encode(event: DomainEvent, *, correlation_id: str | None = None, causation_id: str | None = None) -> NewEvent:
    return NewEvent(
        event_id=event.event_id,
        event_type=event.event_type(),
        payload=event.to_payload(),
        metadata={
            "aggregate_id": event.aggregate_id,
            "occurred_at": event.occurred_at.isoformat(),
            "correlation_id": correlation_id or event.event_id,
            "causation_id": causation_id,
        },
    )


def decode(recorded: RecordedEvent) -> DomainEvent:
    meta = recorded.metadata
    occurred = meta.get("occurred_at")
    return event_from_payload(
        recorded.event_type,
        recorded.payload,
        event_id=recorded.event_id,
        occurred_at=datetime.fromisoformat(occurred) if occurred else recorded.recorded_at,
        aggregate_id=str(meta.get("aggregate_id") or recorded.stream_id.split("-", 1)[-1]),
    )


def encode_chain(events: Sequence[DomainEvent], *, correlation_id: str | None = None) -> list[NewEvent]:
    """Encode events written together: each is caused by the one before it."""
    encoded: list[NewEvent] = []
    causation = None
    for event in events:
        encoded.append(encode(event, correlation_id=correlation_id, causation_id=causation))
        causation = event.event_id
    return encoded
