"""Notifications from the event store: each notifiable event reaches each target once.

Follows the log like the projection runner does (application/projections/runner.py): one read
feeds every target, and each target has its own checkpoint in the read-model store
(`notifications:<target>`), moved after every delivered message. So a restart resumes where it
stopped, and a target that is down holds back only itself: its failed message is logged and
tried again, first, on the next pass, while the other targets go on. Events older than
`max_age` when first seen (a first start over a long history, a long outage) are skipped and
counted, not sent late as if new.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from application.event_codec import decode
from application.notification_messages import NOTIFIED_TYPES, notification_for
from application.ports.clock import Clock
from application.ports.event_store import EventStore, RecordedEvent
from application.ports.notifier import KINDS, Notification, NotificationFailed, Notifier
from application.ports.read_models import ReadModelStore

log = logging.getLogger(__name__)

CHECKPOINT_PREFIX = "notifications:"


@dataclass
class DispatchResult:
    sent: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    """Target -> the (scrubbed) reason its pass stopped; its message is retried on the next pass."""
    skipped_stale: int = 0


class EventNotifications:
    def __init__(self, store: EventStore, read_models: ReadModelStore, targets: Mapping[str, Notifier],
                 clock: Clock, *, kinds: Collection[str] = KINDS, max_age: timedelta | None = None,
                 batch_size: int = 500) -> None:
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown notification kinds {unknown}; known: {list(KINDS)}")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._store = store
        self._read_models = read_models
        self._targets = dict(targets)
        self._clock = clock
        self._kinds = frozenset(kinds)
        self._max_age = max_age
        self._batch_size = batch_size
        self._lock = threading.Lock()

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(self._targets)

    def run_once(self) -> DispatchResult:
        """Catch every healthy target up with the log; never raises for a target that is down."""
        with self._lock:
            result = DispatchResult(sent={name: 0 for name in self._targets})
            done = {name: self._read_models.checkpoint(CHECKPOINT_PREFIX + name) for name in self._targets}
            position = min(done.values(), default=0)
            stale: set[str] = set()
            while len(result.failed) < len(self._targets):
                batch = self._store.read_all(after_position=position, limit=self._batch_size)
                if not batch:
                    break
                notes = [(e, self._notification(e, stale)) for e in batch]
                for name in self._targets:
                    if name not in result.failed:
                        self._feed(name, notes, done, result)
                position = batch[-1].global_position
            result.skipped_stale = len(stale)
            if stale:
                log.info("old events not notified", extra={"events": len(stale), "max_age": str(self._max_age)})
            return result

    def run_until(self, stop: threading.Event, poll_seconds: float = 5.0) -> None:
        while not stop.is_set():
            self.run_once()
            stop.wait(poll_seconds)

    def _notification(self, recorded: RecordedEvent, stale: set[str]) -> Notification | None:
        if recorded.event_type not in NOTIFIED_TYPES:
            return None
        note = notification_for(decode(recorded))
        if note is None or note.kind not in self._kinds:
            return None
        if self._max_age is not None and self._clock.now() - note.occurred_at > self._max_age:
            stale.add(recorded.event_id)
            return None
        return note

    def _feed(self, name: str, notes: list[tuple[RecordedEvent, Notification | None]], done: dict[str, int],
              result: DispatchResult) -> None:
        target = self._targets[name]
        fresh = [(e, n) for e, n in notes if e.global_position > done[name]]
        for recorded, note in fresh:
            if note is not None:
                try:
                    target.notify(note)
                except NotificationFailed as exc:
                    result.failed[name] = str(exc)
                    log.error("notification failed; it is retried on the next pass",
                              extra={"target": name, "event_id": recorded.event_id, "kind": note.kind,
                                     "position": recorded.global_position, "error": str(exc)})
                    return
                result.sent[name] += 1
                self._save(name, recorded.global_position, done)
        if fresh:
            self._save(name, fresh[-1][0].global_position, done)

    def _save(self, name: str, position: int, done: dict[str, int]) -> None:
        if position > done[name]:
            self._read_models.apply(CHECKPOINT_PREFIX + name, position, [])
            done[name] = position
