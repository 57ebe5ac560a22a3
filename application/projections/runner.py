"""Keeps read models caught up with the event store, incrementally or from zero."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from application.ports.event_store import EventStore, RecordedEvent
from application.ports.read_models import ReadModelStore, Upsert
from application.projections.base import Projection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CatchUpResult:
    events_seen: int
    position: int


class ProjectionRunner:
    """One read of the log feeds every projection that is behind; each batch commits atomically."""

    def __init__(self, store: EventStore, read_models: ReadModelStore,
                 projections: Sequence[Projection], batch_size: int = 2000) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._store = store
        self._read_models = read_models
        self._projections = tuple(projections)
        self._batch_size = batch_size
        self._lock = threading.Lock()

    def catch_up(self) -> CatchUpResult:
        with self._lock:
            checkpoints = {p.name: self._read_models.checkpoint(p.name) for p in self._projections}
            position = min(checkpoints.values(), default=0)
            seen = 0
            while True:
                batch = self._store.read_all(after_position=position, limit=self._batch_size)
                if not batch:
                    return CatchUpResult(seen, position)
                for projection in self._projections:
                    self._apply(projection, checkpoints, batch)
                position = batch[-1].global_position
                seen += len(batch)

    def rebuild(self) -> CatchUpResult:
        """Drop every read model and replay the whole log; gives the same rows as catch_up."""
        with self._lock:
            for projection in self._projections:
                self._read_models.reset(projection.name, projection.tables)
            log.info("projections reset", extra={"projections": [p.name for p in self._projections]})
        return self.catch_up()

    def run_until(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Catch-up subscription: poll for new events until `stop` is set."""
        while not stop.is_set():
            self.catch_up()
            stop.wait(poll_seconds)

    def _apply(self, projection: Projection, checkpoints: dict[str, int], batch: list[RecordedEvent]) -> None:
        done = checkpoints[projection.name]
        fresh = [e for e in batch if e.global_position > done]
        if not fresh:
            return
        changes: list[Upsert] = []
        for event in fresh:
            changes.extend(projection.changes(event))
        up_to = fresh[-1].global_position
        self._read_models.apply(projection.name, up_to, changes)
        checkpoints[projection.name] = up_to
