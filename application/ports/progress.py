"""Progress port: long jobs report how far they are, without knowing who (if anyone) watches."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, total: int) -> None:
        """The job has `total` units of work (bars to download, strategies to test ...)."""
        ...

    def advance(self, n: int) -> None:
        """`n` more units are done."""
        ...

    def finish(self) -> None:
        """The job ended, finished or failed; called exactly once after start()."""
        ...
