"""The Rich progress adapter: the bar reaches the total, and a piped console gets one clean line."""

from __future__ import annotations

import io

from rich.console import Console

from adapters.console.progress import RichProgress


def test_bar_counts_to_total_and_prints_one_line_when_not_a_terminal() -> None:
    out = io.StringIO()
    progress = RichProgress("Downloading BTC", console=Console(file=out, width=100))
    progress.start(10)
    progress.advance(4)
    progress.advance(6)
    progress.finish()

    assert (progress.completed, progress.total) == (10, 10)
    assert out.getvalue().count("\n") == 1
    assert "Downloading BTC" in out.getvalue() and "10/10" in out.getvalue()
    assert "\x1b[" not in out.getvalue()


def test_a_second_start_begins_a_fresh_bar() -> None:
    progress = RichProgress(console=Console(file=io.StringIO()))
    progress.start(5)
    progress.advance(5)
    progress.start(3)
    progress.advance(1)
    progress.finish()
    progress.finish()  # harmless twice: a failing job and its caller may both finish
    assert (progress.completed, progress.total) == (1, 3)
