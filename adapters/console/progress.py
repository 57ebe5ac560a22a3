"""The Progress port drawn as a Rich progress bar on the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class RichProgress:
    """One bar per job. On a console that is not a terminal (pipes, CI logs) Rich draws no live
    bar and prints the final line once, so scripted runs get a summary instead of escape codes."""

    def __init__(self, description: str = "Downloading candles", console: Console | None = None,
                 transient: bool = False) -> None:
        self._description = description
        self._console = console
        self._transient = transient
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self.total = 0
        self.completed = 0

    def start(self, total: int) -> None:
        if self._bar is not None:
            self.finish()
        self._bar = Progress(
            TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TimeRemainingColumn(), console=self._console, transient=self._transient)
        self._bar.start()
        self.total, self.completed = max(0, total), 0
        self._task = self._bar.add_task(self._description, total=self.total)

    def advance(self, n: int) -> None:
        self.completed += n
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, n)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.stop()
        self._bar = None
        self._task = None
