"""One suite for every BatchRunner adapter, then what only a process pool can get wrong.

The inline runner stands in for the pool in use-case tests, so it must give the same outcomes; the
Dask runner runs on a LocalCluster of two worker processes (what only Dask can get wrong:
tests/integration/test_dask_runner.py).
Worker-side facts (which process ran a task, how often `shared` was unpickled, which tasks
started) are read from files the tasks leave under tmp_path; the order of outcomes is never
assumed.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any, TypeVar

import psutil  # type: ignore[import-untyped]
import pytest

from adapters.dask.runner import DaskRunner
from adapters.local.process_pool import ProcessPoolRunner
from adapters.memory.batch_runner import InlineBatchRunner
from application.ports.batch_runner import WORKER_DIED, BatchRunner, TaskOutcome
from tests import batch_tasks
from tests.batch_tasks import SharedProbe
from tests.dask_support import cluster_of_two


def _children() -> set[int]:
    """Child processes of the test process, but multiprocessing's resource tracker, which lives
    as long as the interpreter by design."""
    return {c.pid for c in psutil.Process().children(recursive=True)
            if not any("resource_tracker" in part for part in _cmdline(c))}


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return list(process.cmdline())
    except psutil.Error:  # it exited while we looked
        return []


T = TypeVar("T")
R = TypeVar("R")


def _by_key(outcomes: Iterable[TaskOutcome[T, R]]) -> dict[str, TaskOutcome[T, R]]:
    seen: dict[str, TaskOutcome[T, R]] = {}
    for outcome in outcomes:
        assert outcome.key not in seen, f"two outcomes for {outcome.key}"
        seen[outcome.key] = outcome
    return seen


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[Any]:
    yield from cluster_of_two()


@pytest.fixture(params=["inline", "process_pool", "dask"])
def runner(request: pytest.FixtureRequest) -> Iterator[BatchRunner]:
    adapter: BatchRunner
    if request.param == "dask":
        adapter = DaskRunner(request.getfixturevalue("dask_cluster").scheduler_address)
    else:
        adapter = InlineBatchRunner() if request.param == "inline" else ProcessPoolRunner(workers=2)
    yield adapter
    adapter.close()


# --- the contract ---

def test_every_task_gets_its_result_and_shared_reaches_each_worker_once(
        runner: BatchRunner, tmp_path: Path) -> None:
    shared = SharedProbe(str(tmp_path / "loads"), 100)
    outcomes = _by_key(runner.run(batch_tasks.add_shared, [(f"t{n}", n) for n in range(20)], shared=shared))

    assert set(outcomes) == {f"t{n}" for n in range(20)}
    assert all(o.ok for o in outcomes.values())
    assert {k: o.result[0] for k, o in outcomes.items()} == {f"t{n}": n + 100 for n in range(20)}  # type: ignore[index]
    loads = shared.loads()
    workers = {o.result[1] for o in outcomes.values()} - {os.getpid()}  # type: ignore[index]
    assert max(Counter(loads).values(), default=0) <= 1, "shared was sent to a worker more than once"
    assert workers <= set(loads), "a worker ran tasks without having received shared"


def test_an_exception_becomes_an_error_outcome_and_the_rest_finish(runner: BatchRunner) -> None:
    outcomes = _by_key(runner.run(batch_tasks.square_or_fail, [(str(n), n) for n in range(1, 11)]))

    errors = {k: o.error for k, o in outcomes.items() if not o.ok}
    assert errors == {str(n): f"ValueError: no multiples of 3 please ({n})" for n in (3, 6, 9)}
    assert {k: o.result for k, o in outcomes.items() if o.ok} == {
        str(n): n * n for n in range(1, 11) if n % 3}
    assert all(o.result is None for o in outcomes.values() if not o.ok)


def test_duplicate_keys_are_refused_before_anything_runs(runner: BatchRunner, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="duplicate task keys"):
        runner.run(batch_tasks.sleep_and_record, [("a", (str(tmp_path), 0.0)), ("a", (str(tmp_path), 0.0))])
    assert list(tmp_path.iterdir()) == []


def test_an_empty_batch_yields_nothing(runner: BatchRunner) -> None:
    assert list(runner.run(batch_tasks.square_or_fail, [])) == []


def test_closing_the_iterator_early_starts_no_further_task(runner: BatchRunner, tmp_path: Path) -> None:
    tasks = [(f"t{n}", (str(tmp_path), 0.05)) for n in range(50)]
    started_at = time.monotonic()
    with closing(runner.run(batch_tasks.sleep_and_record, tasks)) as outcomes:
        for count, _ in enumerate(outcomes, start=1):
            if count == 3:
                break
    assert time.monotonic() - started_at < 2.0, "closing waited for tasks nobody wants"
    time.sleep(0.1)  # a cancel reaches a cluster's workers a moment later: a task handed over just before starts
    started = len(list(tmp_path.iterdir()))
    time.sleep(0.3)  # at two workers x 0.05 s, a runner that kept going would start ~12 more here

    assert len(list(tmp_path.iterdir())) == started
    assert 3 <= started <= 3 + 2 + 1  # the three read, plus at most what was in flight


def test_the_runner_works_again_after_an_early_close(runner: BatchRunner, tmp_path: Path) -> None:
    with closing(runner.run(batch_tasks.sleep_and_record, [(f"t{n}", (str(tmp_path), 0.05)) for n in range(10)])) as it:
        next(it)
    outcomes = _by_key(runner.run(batch_tasks.square_or_fail, [("1", 1), ("2", 2)]))
    assert {k: o.result for k, o in outcomes.items()} == {"1": 1, "2": 4}


# --- the process pool only ---

@pytest.fixture
def pool() -> Iterator[ProcessPoolRunner]:
    runner = ProcessPoolRunner(workers=2)
    yield runner
    runner.close()


def test_a_task_that_killed_its_worker_once_is_retried_and_succeeds(pool: ProcessPoolRunner, tmp_path: Path) -> None:
    tasks = [(f"ok{n}", ("ok", "", n)) for n in range(8)]
    tasks.insert(3, ("crash", ("die once", str(tmp_path / "died"), 99)))

    outcomes = _by_key(pool.run(batch_tasks.crash_or_return, tasks))

    assert (tmp_path / "died").exists(), "the task never crashed, so nothing was tested"
    assert {k: (o.result, o.error) for k, o in outcomes.items()} == {
        **{f"ok{n}": (n, None) for n in range(8)}, "crash": (99, None)}


@pytest.mark.parametrize("max_retries", [0, 2])
def test_a_task_that_always_kills_its_worker_ends_as_worker_died(tmp_path: Path, max_retries: int) -> None:
    """With max_retries=0 the tasks that were in flight beside the killer died with it once
    too; they must not be given up on for a crash that was not theirs."""
    attempts = tmp_path / "attempts"
    tasks = [(f"ok{n}", ("ok", "", n)) for n in range(8)]
    tasks.insert(2, ("killer", ("die", str(attempts), 0)))

    with ProcessPoolRunner(workers=2, max_retries=max_retries) as pool:
        outcomes = _by_key(pool.run(batch_tasks.crash_or_return, tasks))

    assert outcomes["killer"].error == WORKER_DIED
    assert outcomes["killer"].result is None
    tries = attempts.read_text().count("attempt")
    if max_retries:
        assert tries == 1 + max_retries  # the first try, then max_retries
    else:
        assert tries in (1, 2)  # once more alone if it first died in company
    assert {k: o.result for k, o in outcomes.items() if k != "killer"} == {f"ok{n}": n for n in range(8)}
    assert all(o.ok for k, o in outcomes.items() if k != "killer")


def test_the_pool_is_kept_for_the_same_shared_object_and_replaced_for_another(
        pool: ProcessPoolRunner, tmp_path: Path) -> None:
    first = SharedProbe(str(tmp_path / "first"), 1)
    tasks = [(str(n), n) for n in range(6)]
    pids_1 = {o.result[1] for o in pool.run(batch_tasks.add_shared, tasks, shared=first)}  # type: ignore[index]
    pids_2 = {o.result[1] for o in pool.run(batch_tasks.add_shared, tasks, shared=first)}  # type: ignore[index]
    assert pids_2 <= set(first.loads()) and len(first.loads()) <= 2, "the same shared object restarted workers"

    second = SharedProbe(str(tmp_path / "second"), 2)
    outcomes = list(pool.run(batch_tasks.add_shared, tasks, shared=second))
    assert {o.result[0] for o in outcomes} == {n + 2 for n in range(6)}  # type: ignore[index]
    assert {o.result[1] for o in outcomes}.isdisjoint(pids_1 | pids_2)  # type: ignore[index]
    assert len(second.loads()) >= 1


def test_no_worker_process_is_left_after_close_or_early_close(tmp_path: Path) -> None:
    before = _children()
    pool = ProcessPoolRunner(workers=2)
    list(pool.run(batch_tasks.square_or_fail, [(str(n), n) for n in range(1, 5)]))
    assert len(_children() - before) == 2, "the idle pool should still be there between runs"
    pool.close()
    assert _children() - before == set()

    with closing(pool.run(batch_tasks.sleep_and_record, [(str(n), (str(tmp_path), 0.5)) for n in range(8)])) as it:
        next(it)
    assert _children() - before == set()


def test_keyboard_interrupt_propagates_and_stops_the_workers(pool: ProcessPoolRunner, tmp_path: Path) -> None:
    before = _children()
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    started_at = time.monotonic()

    with pytest.raises(KeyboardInterrupt):
        for _ in pool.run(batch_tasks.sleep_and_record, [(str(n), (str(tmp_path), 1.0)) for n in range(20)]):
            pass

    assert time.monotonic() - started_at < 3.0
    assert _children() - before == set()
    assert len(list(tmp_path.iterdir())) <= 4


def test_a_lambda_is_refused_up_front(pool: ProcessPoolRunner) -> None:
    with pytest.raises(TypeError, match="module-level function"):
        pool.run(lambda shared, n: n, [("a", 1)])


def test_shared_data_a_worker_cannot_load_fails_each_task_without_killing_workers(pool: ProcessPoolRunner) -> None:
    outcomes = _by_key(pool.run(batch_tasks.square_or_fail, [("1", 1), ("2", 2)],
                                shared=batch_tasks.UnloadableShared()))
    assert {o.error for o in outcomes.values()} == {
        "SharedUnavailable: RuntimeError: this object cannot be rebuilt here"}
