"""A two-worker Dask LocalCluster for the tests that need one, and ways to reach its workers.

Module-scoped where used (one start, ~2 s, per module): a cluster kept for the whole session would
leave its worker processes among the children that other modules' tests count.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

from distributed import Client, LocalCluster

from adapters.dask.local_cluster import local_cluster

WORKERS = 2
ALLOWED_FAILURES = 2
"""Each task may cost two dead workers and still be rerun: the local pool's default max_retries."""


def cluster_of_two() -> Iterator[LocalCluster]:
    with local_cluster(WORKERS, allowed_failures=ALLOWED_FAILURES) as cluster:
        yield cluster


def worker_pids(cluster: LocalCluster) -> set[int]:
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        return set(client.run(os.getpid).values())


def kill_workers(pids: set[int]) -> None:
    """SIGKILL, as the OOM killer would: no chance for the worker to say goodbye."""
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


def wait_until_whole(cluster: LocalCluster, timeout: float = 30.0) -> None:
    """Back to every worker after kills (their nannies restart them), so the next test starts equal."""
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        client.wait_for_workers(WORKERS, timeout=timeout)
