"""Notifier port: tell a human (a chat, an incident webhook) that something happened.

A notification is built from one stored event, so its id is the event's: a receiver that sees
the same id twice (a retry after a lost answer) can drop the copy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

NotificationKind = Literal["emergency_stop", "rotation", "deployment", "error"]
Severity = Literal["info", "warning", "critical"]
PlainValue = str | int | float | bool | None

KINDS: tuple[NotificationKind, ...] = ("emergency_stop", "rotation", "deployment", "error")
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")


class NotificationFailed(Exception):
    """The target did not take the notification; the message never carries a token or secret URL."""


@dataclass(frozen=True)
class Notification:
    notification_id: str
    kind: NotificationKind
    title: str
    text: str
    severity: Severity
    occurred_at: datetime
    fields: Mapping[str, PlainValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, got {self.severity!r}")
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware")
        for key, value in self.fields.items():
            if not isinstance(value, str | int | float | bool | type(None)):
                raise ValueError(f"field {key!r} is {type(value).__name__}, not a plain value")

    def as_dict(self) -> dict[str, object]:
        """The JSON shape every webhook receives."""
        return {"id": self.notification_id, "kind": self.kind, "title": self.title, "text": self.text,
                "severity": self.severity, "occurred_at": self.occurred_at.isoformat(),
                "fields": dict(self.fields)}


@runtime_checkable
class Notifier(Protocol):
    def notify(self, notification: Notification) -> None:
        """Deliver it or raise NotificationFailed; returning means the target accepted it."""
        ...
