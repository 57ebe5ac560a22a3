"""What a projection is: a pure function from one stored event to row changes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from application.event_codec import decode
from application.ports.event_store import RecordedEvent
from application.ports.read_models import Upsert

Handler = Callable[[Any, RecordedEvent], list[Upsert]]


@dataclass(frozen=True)
class Projection:
    name: str
    tables: tuple[str, ...]
    handlers: dict[str, Handler] = field(default_factory=dict)

    def changes(self, recorded: RecordedEvent) -> list[Upsert]:
        handler = self.handlers.get(recorded.event_type)
        if handler is None:
            return []
        return handler(decode(recorded), recorded)
