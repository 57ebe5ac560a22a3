"""Callers that arrive while a read is in flight share its answer, or its failure; later callers
read anew."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from adapters.hyperliquid.single_flight import SingleFlight


def test_callers_during_a_fetch_share_it_and_the_next_caller_fetches_again() -> None:
    flight: SingleFlight[dict[str, int]] = SingleFlight()
    started, release = threading.Event(), threading.Event()
    fetches: list[int] = []

    def slow() -> dict[str, int]:
        fetches.append(1)
        started.set()
        release.wait(5)
        return {"n": len(fetches)}

    with ThreadPoolExecutor(6) as pool:
        leader = pool.submit(flight.call, slow)
        assert started.wait(5)
        followers = [pool.submit(flight.call, slow) for _ in range(5)]
        until(lambda: flight.shared == 5)
        release.set()
        answers = [leader.result(5)] + [f.result(5) for f in followers]
    assert len(fetches) == 1
    assert all(a is answers[0] for a in answers)
    assert flight.call(lambda: {"n": 99}) == {"n": 99}


def test_a_failed_fetch_fails_every_caller_that_waited_and_is_not_kept() -> None:
    flight: SingleFlight[int] = SingleFlight()
    started, release = threading.Event(), threading.Event()

    def broken() -> int:
        started.set()
        release.wait(5)
        raise TimeoutError("venue did not answer")

    with ThreadPoolExecutor(3) as pool:
        leader = pool.submit(flight.call, broken)
        assert started.wait(5)
        follower = pool.submit(flight.call, lambda: 1)
        until(lambda: flight.shared == 1)
        release.set()
        for outcome in (leader, follower):
            with pytest.raises(TimeoutError, match="did not answer"):
                outcome.result(5)
    assert flight.call(lambda: 7) == 7


def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.001)
