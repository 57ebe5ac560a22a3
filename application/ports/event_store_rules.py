"""Rules every event-store adapter applies before it writes, so all backends agree."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from application.ports.event_store import DuplicateEventId, EventStoreError, NewEvent, canonical_json


def prepare_batch(stream_id: str, events: Sequence[NewEvent]) -> list[NewEvent]:
    """Validate ids and payloads; return the events with payloads in their stored JSON form."""
    if not stream_id or not stream_id.strip():
        raise EventStoreError("stream id must be a non-empty string")
    seen: set[str] = set()
    prepared: list[NewEvent] = []
    for event in events:
        if not event.event_id:
            raise EventStoreError("event id must be a non-empty string")
        if event.event_id in seen:
            raise DuplicateEventId(f"event id {event.event_id} appears twice in one batch")
        seen.add(event.event_id)
        if not event.event_type:
            raise EventStoreError("event type must be a non-empty string")
        prepared.append(
            NewEvent(
                event_id=event.event_id,
                event_type=event.event_type,
                payload=canonical_json(event.payload, f"payload of {event.event_type} {event.event_id}"),
                metadata=canonical_json(event.metadata, f"metadata of {event.event_type} {event.event_id}"),
            )
        )
    return prepared


def is_retry(stream_id: str, events: Sequence[NewEvent], stored_streams: Mapping[str, str]) -> bool:
    """True when every event id is already stored in this stream (a resent batch).

    `stored_streams` maps the batch's already-stored event ids to the stream holding them.
    A batch that is only partly stored, or whose ids live in another stream, is an error:
    silently dropping part of it could lose facts.
    """
    if not stored_streams:
        return False
    elsewhere = sorted(eid for eid, sid in stored_streams.items() if sid != stream_id)
    if elsewhere:
        raise DuplicateEventId(f"event id {elsewhere[0]} is already stored in another stream")
    if len(stored_streams) != len(events):
        raise DuplicateEventId(
            f"{len(stored_streams)} of {len(events)} events in this batch are already stored; "
            "resend the whole original batch or new events only"
        )
    return True
