"""The sandbox's worker pool, on stand-in workers: a worker per overlapping caller up to the size,
the one already holding the caller's candles first, and a worker left in doubt never reused."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from adapters.sandbox.worker_pool import Broken, WorkerPool
from adapters.sandbox.worker_process import SandboxLimits
from application.ports.strategy_sandbox import SandboxRejection


class StandIn:
    started = 0

    def __init__(self, layers: dict[str, Any] | None = None) -> None:
        StandIn.started += 1
        self.number = StandIn.started
        self.alive = True
        self.killed = False
        self.sent_data: set[str] = set()
        self.layers = layers if layers is not None else {"seccomp": True}

    def kill(self) -> None:
        self.alive = False
        self.killed = True


def _pool(size: int, monkeypatch: pytest.MonkeyPatch, layers: dict[str, Any] | None = None) -> WorkerPool:
    monkeypatch.setattr("adapters.sandbox.worker_pool.WorkerProcess", lambda limits: StandIn(layers))
    return WorkerPool(SandboxLimits(), ("seccomp",), size)


def test_a_caller_alone_keeps_one_worker_and_overlapping_callers_get_one_each(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = _pool(3, monkeypatch)
    seen = []
    for _ in range(3):
        with pool.lease() as worker:
            seen.append(worker)
    assert len(set(map(id, seen))) == 1
    with pool.lease() as first, pool.lease() as second, pool.lease() as third:
        assert len({id(first), id(second), id(third)}) == 3
    assert StandIn.started >= 3


def test_a_caller_beyond_the_size_waits_for_a_worker_to_come_back(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = _pool(1, monkeypatch)
    got: list[Any] = []
    with pool.lease() as busy:
        waiter = threading.Thread(target=lambda: got.append(pool.lease().__enter__()))
        waiter.start()
        waiter.join(0.2)
        assert waiter.is_alive() and got == [], "no second worker beyond the size"
    waiter.join(5)
    assert got == [busy]


def test_a_free_worker_that_holds_the_candles_is_preferred(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = _pool(2, monkeypatch)
    with pool.lease() as other, pool.lease() as holder:
        holder.sent_data.add("bar-1")
    assert pool._idle[-1] is other, "the other one came back last"
    with pool.lease("bar-1") as worker:
        assert worker is holder
    with pool.lease("bar-2") as worker:
        assert worker is holder, "no one holds bar-2: the one used last"


def test_a_worker_left_in_doubt_is_killed_and_the_next_caller_gets_a_fresh_one(monkeypatch: pytest.MonkeyPatch,
                                                                                 ) -> None:
    pool = _pool(1, monkeypatch)
    with pytest.raises(Broken), pool.lease() as doubtful:
        raise Broken(SandboxRejection("crash", "it died"))
    assert doubtful.killed
    with pool.lease() as fresh:
        assert fresh is not doubtful and fresh.alive
    fresh.alive = False  # died while idle
    with pool.lease() as replaced:
        assert replaced is not fresh and fresh.killed


def test_close_kills_free_workers_now_and_busy_ones_when_they_come_back(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = _pool(2, monkeypatch)
    with pool.lease() as busy, pool.lease() as idle:
        pass
    with pool.lease() as again:
        assert again is busy, "the one used last"
        pool.close()
        assert idle.killed and not busy.killed
    assert busy.killed
    with pool.lease() as after:
        assert after not in (idle, busy) and after.alive


def test_a_worker_without_the_required_layers_is_killed_unused(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = _pool(1, monkeypatch, layers={"seccomp": False})
    with pytest.raises(SandboxRejection, match="needs seccomp"), pool.lease():
        pass
    with pytest.raises(SandboxRejection, match="needs seccomp"), pool.lease():
        pass  # the failed start gave its place back
    with pytest.raises(ValueError, match="at least one worker"):
        WorkerPool(SandboxLimits(), (), 0)
