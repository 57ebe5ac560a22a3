"""Where in the log a time begins: a few one-event reads instead of reading the whole history.

The event store port orders events by position and stamps each with the time it was stored; the
stamps follow the positions (appends take one lock in turn), up to the time an append waited for
that lock, so a caller that wants every event from a time on asks for a little earlier and filters
what it reads by the events' own times.
"""

from __future__ import annotations

from datetime import datetime

from application.ports.event_store import EventStore


def position_before(store: EventStore, since: datetime) -> int:
    """A position after which reading (`read_all(after_position=...)`) finds every event stored at or after `since`.

    The largest position whose events up to it were all stored before `since` (0 for none), found
    by bisection on positions, which may have gaps: about log2(head) reads of one event each.
    """
    low, high = 0, store.head_position()
    while low < high:
        middle = (low + high + 1) // 2
        found = store.read_all(after_position=middle - 1, limit=1)
        if not found or found[0].recorded_at >= since:
            high = middle - 1
        else:
            low = min(found[0].global_position, high)
    return low
