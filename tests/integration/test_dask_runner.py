"""What only the Dask runner can get wrong: dead workers on a real LocalCluster, the shared data
lost with them, cancellation at the scheduler, the wiring from config, and the research pipeline
selecting exactly what the local process pool selects.

Worker deaths are real: a task that calls os._exit, or a SIGKILL from here to a worker process
(the cluster's nannies restart them; each test waits until both are back).
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from distributed import LocalCluster

from adapters.dask.runner import DaskRunner, DaskUnavailable
from adapters.local.process_pool import ProcessPoolRunner
from adapters.memory.event_store import InMemoryEventStore
from application.ports.batch_runner import WORKER_DIED, RunnerUnavailable, TaskOutcome
from application.research_pipeline import PipelineRequest
from domain.classification.portfolio import SelectionRules
from entrypoints.pipeline import open_batch_runner
from entrypoints.settings import load_settings
from tests import batch_tasks
from tests.batch_tasks import SharedProbe
from tests.dask_support import ALLOWED_FAILURES, cluster_of_two, kill_workers, wait_until_whole, worker_pids
from tests.pipeline_support import RandomWalkCandles, pipeline


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    yield from cluster_of_two()


@pytest.fixture
def dask(cluster: Any) -> Iterator[DaskRunner]:
    runner = DaskRunner(cluster.scheduler_address)
    yield runner
    runner.close()
    wait_until_whole(cluster)


def _by_key(outcomes: Iterable[TaskOutcome[Any, Any]]) -> dict[str, tuple[Any, str | None]]:
    seen: dict[str, tuple[Any, str | None]] = {}
    for outcome in outcomes:
        assert outcome.key not in seen, f"two outcomes for {outcome.key}"
        seen[outcome.key] = (outcome.result, outcome.error)
    return seen


def test_a_task_that_killed_its_worker_once_is_rerun_elsewhere_and_succeeds(dask: DaskRunner, tmp_path: Path) -> None:
    tasks = [(f"ok{n}", ("ok", "", n)) for n in range(8)]
    tasks.insert(3, ("crash", ("die once", str(tmp_path / "died"), 99)))

    outcomes = _by_key(dask.run(batch_tasks.crash_or_return, tasks))

    assert (tmp_path / "died").exists(), "the task never crashed, so nothing was tested"
    assert outcomes == {**{f"ok{n}": (n, None) for n in range(8)}, "crash": (99, None)}


def test_a_task_that_always_kills_its_worker_ends_as_worker_died(dask: DaskRunner, tmp_path: Path) -> None:
    attempts = tmp_path / "attempts"
    tasks = [(f"ok{n}", ("ok", "", n)) for n in range(8)]
    tasks.insert(2, ("killer", ("die", str(attempts), 0)))

    outcomes = _by_key(dask.run(batch_tasks.crash_or_return, tasks))

    assert outcomes.pop("killer") == (None, WORKER_DIED)
    assert attempts.read_text().count("attempt") == ALLOWED_FAILURES + 1  # the scheduler's allowed-failures
    assert outcomes == {f"ok{n}": (n, None) for n in range(8)}  # the tasks beside it were never blamed


def test_a_worker_killed_from_outside_mid_run_costs_nothing_but_time(dask: DaskRunner, cluster: Any) -> None:
    tasks = [(f"t{n}", ("ok", "", n)) for n in range(40)]
    before = worker_pids(cluster)
    outcomes: list[TaskOutcome[Any, Any]] = []
    for outcome in dask.run(batch_tasks.crash_or_return, tasks):
        outcomes.append(outcome)
        if len(outcomes) == 3:
            kill_workers({min(before)})

    with ProcessPoolRunner(workers=2) as pool:
        local = _by_key(pool.run(batch_tasks.crash_or_return, tasks))
    assert _by_key(outcomes) == local == {f"t{n}": (n, None) for n in range(40)}
    wait_until_whole(cluster)
    assert min(before) not in worker_pids(cluster), "the worker was not killed, so nothing was tested"


def test_losing_every_copy_of_the_shared_data_sends_it_again(dask: DaskRunner, cluster: Any, tmp_path: Path) -> None:
    """Scattered data has nothing to be recomputed from: when both workers die, the runner sends it
    again, and the new workers each unpickle it once."""
    shared = SharedProbe(str(tmp_path / "loads"), 100)
    before = worker_pids(cluster)
    outcomes: list[TaskOutcome[Any, Any]] = []
    tasks = [(f"t{n}", n) for n in range(30)]
    for outcome in dask.run(batch_tasks.add_shared_slowly, tasks, shared=shared):
        outcomes.append(outcome)
        if len(outcomes) == 2:
            kill_workers(before)

    assert {k: r[0] for k, (r, _) in _by_key(outcomes).items()} == {f"t{n}": n + 100 for n in range(30)}
    loads = shared.loads()
    assert set(loads) - before, "no new worker took over mid-run, so nothing was tested"
    assert len(loads) == len(set(loads)), "a worker unpickled the shared data twice"


def test_the_same_shared_object_is_sent_once_and_another_is_sent_again(dask: DaskRunner, tmp_path: Path) -> None:
    first = SharedProbe(str(tmp_path / "first"), 1)
    tasks = [(str(n), n) for n in range(6)]
    list(dask.run(batch_tasks.add_shared, tasks, shared=first))
    list(dask.run(batch_tasks.add_shared, tasks, shared=first))
    assert len(first.loads()) == len(set(first.loads())) <= 2

    second = SharedProbe(str(tmp_path / "second"), 2)
    assert {o.result[0] for o in dask.run(batch_tasks.add_shared, tasks, shared=second)} == {  # type: ignore[index]
        n + 2 for n in range(6)}
    assert 1 <= len(second.loads()) <= 2


def test_shared_data_a_worker_cannot_load_fails_each_task_without_killing_workers(dask: DaskRunner,
                                                                                  cluster: Any) -> None:
    before = worker_pids(cluster)
    outcomes = _by_key(dask.run(batch_tasks.square_or_fail, [("1", 1), ("2", 2)],
                                shared=batch_tasks.UnloadableShared()))
    assert set(outcomes.values()) == {(None, "SharedUnavailable: RuntimeError: this object cannot be rebuilt here")}
    assert worker_pids(cluster) == before


def test_a_lambda_is_refused_up_front(dask: DaskRunner) -> None:
    with pytest.raises(TypeError, match="module-level function"):
        dask.run(lambda shared, n: n, [("a", 1)])


def test_keyboard_interrupt_propagates_and_cancels_what_has_not_started(dask: DaskRunner, tmp_path: Path) -> None:
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    started_at = time.monotonic()

    with pytest.raises(KeyboardInterrupt):
        for _ in dask.run(batch_tasks.sleep_and_record, [(str(n), (str(tmp_path), 1.0)) for n in range(20)]):
            pass

    assert time.monotonic() - started_at < 3.0
    time.sleep(1.5)  # the two running tasks finish; a runner that kept going would start two more
    assert len(list(tmp_path.iterdir())) <= 4


def test_no_scheduler_at_the_address_is_a_clear_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free, and nothing listens on it once closed
    with DaskRunner(f"tcp://127.0.0.1:{port}", connect_timeout=1.0) as runner:
        with pytest.raises(DaskUnavailable, match=f"no Dask scheduler answered at tcp://127.0.0.1:{port}"):
            list(runner.run(batch_tasks.square_or_fail, [("1", 1)]))
    assert issubclass(DaskUnavailable, RunnerUnavailable)


def test_a_scheduler_without_workers_is_a_clear_error_too() -> None:
    with LocalCluster(n_workers=0, dashboard_address="127.0.0.1:0") as empty, \
            DaskRunner(empty.scheduler_address, connect_timeout=1.0) as runner:
        with pytest.raises(DaskUnavailable, match="no Dask worker is connected to the scheduler"):
            list(runner.run(batch_tasks.square_or_fail, [("1", 1)], shared={"candles": 1}))


def test_config_pipeline_runner_dask_runs_the_batch_on_the_cluster(cluster: Any, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("pipeline:\n  runner: dask\n  dask_scheduler: ${SIXBTC_DASK_SCHEDULER:-}\n")
    settings = load_settings(config, env={"SIXBTC_DASK_SCHEDULER": cluster.scheduler_address})
    opened = open_batch_runner(settings)
    runner = next(opened)
    try:
        assert isinstance(runner, DaskRunner)
        outcomes = _by_key(runner.run(batch_tasks.add_shared, [("a", 1)], shared=SharedProbe(str(tmp_path / "l"), 1)))
        assert outcomes["a"][0][1] in worker_pids(cluster)
    finally:
        with closing(opened):
            pass


LENIENT = SelectionRules(top_n=3, min_score=0, min_sharpe=-100, min_win_rate=0, min_trades=1, max_drawdown=1.0,
                         max_p_value=None, min_deflated_sharpe=None, max_correlation=1.0)


def _decisions(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Everything a decision says but the strategy id, which is new in every run."""
    return [(d["name"], d["selected"], d["score"], tuple(d["reasons"])) for d in report["decisions"]]


def test_the_pipeline_selects_on_dask_exactly_what_it_selects_on_the_local_pool(dask: DaskRunner) -> None:
    """Same seed, same candles: the same candidates, scores, reasons and selection, each candidate
    evaluated in the process sandbox a Dask worker starts just as a pool worker does."""
    request, candles = PipelineRequest(count=4, seed=5, days=45), RandomWalkCandles(days=75)
    with ProcessPoolRunner(workers=2) as pool:
        local = pipeline(pool, InMemoryEventStore(), isolation="process", rules=LENIENT,
                         gates_open=True).run(request, candles)
    on_dask = pipeline(dask, InMemoryEventStore(), isolation="process", rules=LENIENT,
                       gates_open=True).run(request, candles)

    assert local["candidates"] == on_dask["candidates"] == request.count
    assert local["selected"], "nothing selected, so the comparison says little"
    assert [s["name"] for s in on_dask["selected"]] == [s["name"] for s in local["selected"]]
    assert _decisions(on_dask) == _decisions(local)
    assert on_dask["passed"] == local["passed"]
