"""Notifications kept in a list: the test double of every chat and webhook, and a demo's inbox.

`go_down` makes it refuse like an unreachable target, so retry paths run against real code.
"""

from __future__ import annotations

import threading

from application.ports.notifier import Notification, NotificationFailed


class InMemoryNotifier:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent: list[Notification] = []
        self._down: str | None = None
        self.attempts = 0

    @property
    def sent(self) -> list[Notification]:
        with self._lock:
            return list(self._sent)

    def notify(self, notification: Notification) -> None:
        with self._lock:
            self.attempts += 1
            if self._down is not None:
                raise NotificationFailed(f"in-memory notifier is down: {self._down}")
            self._sent.append(notification)

    def go_down(self, reason: str) -> None:
        with self._lock:
            self._down = reason

    def come_back(self) -> None:
        with self._lock:
            self._down = None
