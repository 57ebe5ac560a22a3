"""The scheduler entrypoint: jobs at candle closes plus the grace, one instance each, a clean stop."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from application.live_session import closed_bar, next_close
from entrypoints.live_runner import LiveRunner


class RecordingSession:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def start(self) -> list[Any]:
        self.calls.append("start")
        return []

    def on_candle_close(self, timeframe: str) -> list[Any]:
        self.calls.append(f"close {timeframe}")
        return []

    def check(self) -> list[Any]:
        self.calls.append("check")
        return []

    def rotate(self) -> list[Any]:
        self.calls.append("rotate")
        return []

    def stop(self) -> None:
        self.calls.append("stop")


def test_the_bar_that_just_closed_and_the_next_close() -> None:
    at = datetime(2024, 3, 1, 10, 0, 5, tzinfo=UTC)
    assert closed_bar(at, "1h") == datetime(2024, 3, 1, 9, tzinfo=UTC)
    assert closed_bar(at, "15m") == datetime(2024, 3, 1, 9, 45, tzinfo=UTC)
    assert closed_bar(at, "4h") == datetime(2024, 3, 1, 4, tzinfo=UTC)
    assert next_close(at, "1h") == datetime(2024, 3, 1, 11, tzinfo=UTC)


def test_jobs_fire_at_closes_plus_grace_and_the_stop_leaves_the_venue_as_configured() -> None:
    session = RecordingSession()
    caught: list[int] = []
    runner = LiveRunner(session, ["1h", "15m"], grace_seconds=7, check_minutes=15,  # type: ignore[arg-type]
                        catch_up=lambda: caught.append(1), rotation_hours=24)
    stop = threading.Event()
    seen: dict[str, str] = {}

    def watch() -> None:
        while not runner.next_runs():
            threading.Event().wait(0.01)
        seen.update(runner.next_runs())
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    runner.run(stop)
    assert session.calls[0] == "start" and session.calls[-1] == "stop"
    assert set(seen) == {"close-1h", "close-15m", "snapshots", "rotation"}
    for job in ("close-1h", "close-15m"):
        moment = seen[job]
        assert moment is not None and moment.second == 7 and moment.minute % 15 == 0
    assert seen["close-1h"] is not None and seen["close-1h"].minute == 0
    assert caught, "projections caught up"


def test_a_bad_schedule_is_refused() -> None:
    with pytest.raises(ValueError, match="timeframes"):
        LiveRunner(RecordingSession(), ["7m"], grace_seconds=5, check_minutes=15,  # type: ignore[arg-type]
                   catch_up=lambda: None)
    with pytest.raises(ValueError, match="grace"):
        LiveRunner(RecordingSession(), ["1h"], grace_seconds=75, check_minutes=15,  # type: ignore[arg-type]
                   catch_up=lambda: None)
