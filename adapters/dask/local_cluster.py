"""A Dask cluster on this machine, set up the way docs/pipeline.md tells a real one to be set up.

For the test suite, the scale-out bench and a one-machine trial of `pipeline.runner: dask`. The
scheduler runs in this process; each worker is its own process (with a nanny that restarts it if
it dies), one thread each, as the pipeline's CPU-bound evaluations want. The two scheduler
settings the runner relies on are set here as a real cluster's config would set them:
- `worker-saturation: 1.0`: a worker holds only the tasks it is running, so queued tasks stay
  cancellable at the scheduler, and a dying worker takes down only the task that killed it.
- `allowed-failures`: how many dead workers a task may cost before it ends as "worker died".
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import dask
from distributed import LocalCluster


@contextmanager
def local_cluster(workers: int, *, allowed_failures: int = 2,
                  log_level: int = logging.ERROR) -> Iterator[LocalCluster]:
    """`workers` processes; `log_level` for Dask's own loggers (errors still show)."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    settings = {"distributed.scheduler.allowed-failures": allowed_failures,
                "distributed.scheduler.worker-saturation": 1.0}
    with dask.config.set(settings):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address="127.0.0.1:0", silence_logs=log_level)
    try:
        yield cluster
    finally:
        cluster.close()
