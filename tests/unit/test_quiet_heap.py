"""Full collections happen between bars, not inside one: what QuietHeap and LiveRunner promise."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from entrypoints.live_runner import LiveRunner
from entrypoints.quiet_heap import QuietHeap


class Cycle:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def unfrozen_after() -> Iterator[None]:
    yield
    gc.unfreeze()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_survivors_are_frozen_and_frozen_cycles_are_collected_at_the_next_full_settle() -> None:
    clock = Clock()
    heap = QuietHeap(full_every_s=3600, clock=clock)
    kept = Cycle()
    alive = weakref.ref(kept)
    heap.settle()
    assert gc.get_freeze_count() > 0 and heap.full == 1
    del kept
    clock.now = 60
    heap.settle()
    assert alive() is not None, "a frozen object is left out of the quick settles"
    assert heap.full == 1
    clock.now = 3600
    heap.settle()
    assert alive() is None and heap.full == 2


def test_garbage_made_since_the_last_settle_is_collected_by_the_next_quick_one() -> None:
    clock = Clock()
    heap = QuietHeap(full_every_s=3600, clock=clock)
    heap.settle()
    made = Cycle()
    gone = weakref.ref(made)
    del made
    clock.now = 1
    heap.settle()
    assert gone() is None and heap.full == 1


def test_overlapping_iterations_settle_once_when_the_last_ends() -> None:
    heap = QuietHeap()
    with heap.iteration():
        with heap.iteration():
            pass
        assert heap.settled == 0, "another close job is still deciding"
    assert heap.settled == 1
    with pytest.raises(RuntimeError), heap.iteration():
        raise RuntimeError("a failed iteration")
    assert heap.settled == 2


def test_release_hands_every_object_back_to_the_collector() -> None:
    heap = QuietHeap()
    heap.settle()
    heap.release()
    assert gc.get_freeze_count() == 0


class Session:
    def __init__(self, heap: QuietHeap) -> None:
        self.heap = heap
        self.settled_at: dict[str, int] = {}

    def start(self) -> list[Any]:
        self.settled_at["start"] = self.heap.settled
        return []

    def on_candle_close(self, timeframe: str) -> list[Any]:
        self.settled_at["close"] = self.heap.settled
        return []

    def check(self) -> list[Any]:
        return []

    def stop(self) -> None:
        self.settled_at["stop"] = self.heap.settled


def test_the_runner_settles_before_the_first_decision_and_after_each_close() -> None:
    heap = QuietHeap()
    session = Session(heap)
    runner = LiveRunner(session, ["1h"], grace_seconds=5, check_minutes=15,  # type: ignore[arg-type]
                        catch_up=lambda: None, heap=heap)
    with runner.scheduled() as scheduler:
        assert heap.settled == 1 and gc.get_freeze_count() > 0
        job = scheduler.get_job("close-1h")
        job.func(*job.args)
        assert heap.settled == 2
    assert session.settled_at == {"start": 0, "close": 1, "stop": 2}
    assert gc.get_freeze_count() == 0, "a stopped loop leaves the collector as it found it"
