"""Scale-out on Dask: full evaluations per minute on a local Dask cluster of 1 and of 2 workers,
against the local process pool on as many, and what the Dask runner costs per task.

The evaluation is bench/pipeline.py's: one candidate through the process sandbox, both lookahead
checks, the backtest, 4 walk-forward windows, 100 shuffles and the score, on 20 symbols x 180 days
x 15m of real candles. The same candidates go through every runner; the candles reach each worker
once (the pool's initializer, Dask's scatter). Workers are warmed (imports, numba, the sandbox
process, the candles) by a first batch of two tasks per worker before timing; the time from
opening the runner (starting the cluster) to the end of that batch is "start + warm-up".
Overhead per task: tasks that do nothing (`tests.batch_tasks.square_or_fail`) with the same
shared candles, wall time x workers / tasks: what the runner itself costs a worker per task.
Target: Dask on 2 workers >= 1.7x Dask on 1 (on a 2-core machine the scheduler, the client and
each worker's sandbox process share those cores).

Run: `.venv/bin/python bench/scale_out.py [--candidates 16] [--noop-tasks 300]`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pipeline as pipeline_bench  # noqa: E402

from adapters.dask.local_cluster import local_cluster  # noqa: E402
from adapters.dask.runner import DaskRunner  # noqa: E402
from adapters.local.process_pool import ProcessPoolRunner  # noqa: E402
from application.ports.batch_runner import BatchRunner  # noqa: E402
from application.research_pipeline import EvaluationContext  # noqa: E402
from entrypoints.pipeline_worker import evaluate_candidate  # noqa: E402
from tests.batch_tasks import square_or_fail  # noqa: E402

TARGET = 1.7


@contextmanager
def pool(workers: int) -> Iterator[BatchRunner]:
    with ProcessPoolRunner(workers) as runner:
        yield runner


@contextmanager
def dask(workers: int) -> Iterator[BatchRunner]:
    with local_cluster(workers) as cluster, DaskRunner(cluster.scheduler_address) as runner:
        if runner.worker_threads() != workers:
            raise SystemExit(f"the cluster has {runner.worker_threads()} worker threads, expected {workers}")
        yield runner


def measure(runner: BatchRunner, workers: int, shared: EvaluationContext, count: int,
            noop_tasks: int, opened_at: float) -> dict[str, float]:
    list(runner.run(evaluate_candidate, pipeline_bench.tasks(2 * workers, 1000), shared=shared))  # warm every worker
    ready = time.perf_counter() - opened_at
    started = time.perf_counter()
    outcomes = list(runner.run(evaluate_candidate, pipeline_bench.tasks(count, 0), shared=shared))
    seconds = time.perf_counter() - started
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise SystemExit(f"evaluations crashed: {failed[0].error}")
    noops = [(str(n), 3 * n + 1) for n in range(noop_tasks)]
    list(runner.run(square_or_fail, noops[: 2 * workers], shared=shared))
    started = time.perf_counter()
    list(runner.run(square_or_fail, noops, shared=shared))
    noop_seconds = time.perf_counter() - started
    return {"per_minute": 60 * count / seconds, "seconds": seconds, "ready": ready,
            "overhead_ms": 1000 * noop_seconds * workers / noop_tasks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", type=int, default=16, help="evaluations timed per runner")
    parser.add_argument("--noop-tasks", type=int, default=300, help="empty tasks timed per runner")
    args = parser.parse_args()
    from rich.console import Console
    from rich.table import Table

    shared = pipeline_bench.context(search=False)
    runs: dict[tuple[str, int], dict[str, float]] = {}
    opened: dict[str, Callable[[int], AbstractContextManager[BatchRunner]]] = {"local pool": pool, "dask": dask}
    for workers in (1, 2):
        for name, open_runner in opened.items():
            opened_at = time.perf_counter()
            with open_runner(workers) as runner:
                runs[(name, workers)] = measure(runner, workers, shared, args.candidates, args.noop_tasks, opened_at)
    base = runs[("dask", 1)]["per_minute"]
    table = Table(title="bench/scale_out.py: full evaluations (every number measured in this run)")
    for column in ("runner", "workers", "evaluations / min", "seconds", "vs dask 1 worker",
                   "vs local pool, same workers", "overhead / task (ms)", "start + warm-up (s)", "target"):
        table.add_column(column)
    for (name, workers), run in sorted(runs.items(), key=lambda item: (item[0][1], item[0][0])):
        local = runs[("local pool", workers)]["per_minute"]
        target = ""
        if (name, workers) == ("dask", 2):
            ratio = run["per_minute"] / base
            target = f">= {TARGET}x dask 1 worker " + ("ok" if ratio >= TARGET else "MISSED")
        table.add_row(name, str(workers), f"{run['per_minute']:.1f}", f"{run['seconds']:.1f}",
                      f"{run['per_minute'] / base:.2f}", f"{run['per_minute'] / local:.2f}",
                      f"{run['overhead_ms']:.2f}", f"{run['ready']:.1f}", target)
    console = Console(width=max(Console().width, 150))
    console.print(f"{len(shared.symbols)} symbols x {len(next(iter(shared.frames.values())))} bars (15m), "
                  f"{args.candidates} offline candidates per runner, process sandbox, every stage; overhead: "
                  f"{args.noop_tasks} empty tasks per runner (wall time x workers / tasks)")
    console.print(table)


if __name__ == "__main__":
    main()
