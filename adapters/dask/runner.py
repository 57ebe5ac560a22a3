"""The BatchRunner port on a Dask cluster (dask.distributed): the same batch, spread over machines.

`pipeline.runner: dask` and `pipeline.dask_scheduler: tcp://host:8786` move the research pipeline
from the local process pool to a cluster; the pipeline sees the same port and gets the same
outcomes (tested against the pool on a LocalCluster). Choices, and why:
- `shared` is pickled once here and scattered as bytes to every worker (`broadcast=True`); tasks
  name that one piece of data as a dependency, so it crosses the network once per worker, and a
  worker that joins later fetches it once from a peer. Workers unpickle it once each
  (adapters/dask/worker_call.py). While `shared` is the same object (by identity, as in the pool)
  later runs reuse the scattered copy.
- Every task is submitted at once; the scheduler's queue (`worker-saturation`) holds what the
  workers have no thread for, so cancelling (closing the iterator, KeyboardInterrupt, close())
  releases everything that has not started. A task already running on a worker thread cannot be
  interrupted there; it finishes and its result is dropped. The cluster's workers are not ours to
  stop.
- A worker that dies: the scheduler reruns its tasks on other workers, and gives a task up with
  KilledWorker once it was running on `distributed.scheduler.allowed-failures` + 1 workers that
  died (a scheduler setting: see docs/pipeline.md); that becomes the outcome "worker died".
  `retries=` on submit would not help here: Dask retries only tasks that raise, and the task
  function never raises by contract. What the scheduler cannot rerun is the scattered data once
  every worker holding it is gone: the tasks that needed it come back cancelled, and this runner
  scatters the data again and resubmits them, up to `max_lost` times per task.
- Results come back as they finish (`as_completed`, fetched as each completes), pickled by the
  worker so that an unpicklable result is an error outcome rather than a failed gather.
"""

from __future__ import annotations

import logging
import pickle
import uuid
from collections.abc import Callable, Generator, Sequence
from types import TracebackType
from typing import Any, TypeVar

from distributed import Client, Future, as_completed
from distributed.scheduler import KilledWorker

from adapters.dask.worker_call import run_task
from application.ports.batch_runner import WORKER_DIED, RunnerUnavailable, TaskOutcome, checked_tasks, error_line

T = TypeVar("T")
R = TypeVar("R")

logger = logging.getLogger(__name__)


class DaskUnavailable(RunnerUnavailable):
    """No Dask scheduler answered at the configured address, or it has no worker to send the
    shared data to."""


class DaskRunner:
    """Tasks on the cluster whose scheduler is at `address`; see the module docstring."""

    def __init__(self, address: str, *, connect_timeout: float = 10.0, max_lost: int = 3) -> None:
        if not address:
            raise ValueError("a Dask scheduler address is needed, e.g. tcp://127.0.0.1:8786")
        if max_lost < 0:
            raise ValueError(f"max_lost must be 0 or more, got {max_lost}")
        self.address = address
        self.connect_timeout = connect_timeout
        self.max_lost = max_lost
        self._client: Client | None = None
        self._shared: Any = None          # the object whose bytes are scattered; compared by identity
        self._blob: bytes | None = None
        self._token: str | None = None    # names `shared` on the workers across re-scatters
        self._scattered: Future[bytes] | None = None
        self._in_flight: dict[Future[bytes], tuple[str, Any]] = {}
        self._generation = 0              # bumped by close(), so an open run knows it was stopped
        self._running = False

    def run(self, fn: Callable[[Any, T], R], tasks: Sequence[tuple[str, T]], *,
            shared: Any = None) -> Generator[TaskOutcome[T, R], None, None]:
        checked = checked_tasks(tasks)
        try:
            pickle.dumps(fn)  # Dask's cloudpickle would ship a lambda by value; the port says module-level
        except Exception as exc:  # noqa: BLE001 - PicklingError, AttributeError, TypeError ...
            raise TypeError(f"fn must be a module-level function, so workers can import it: "
                            f"{error_line(exc)}") from None
        return self._outcomes(fn, checked, shared)

    def worker_threads(self) -> int:
        """Threads over all the cluster's workers now: how many tasks run at once."""
        return sum(self._connect().nthreads().values())

    def close(self) -> None:
        self._generation += 1
        self._running = False
        client, self._client = self._client, None
        if client is None:
            return
        self._cancel_in_flight(client)
        self._forget_shared()
        client.close()

    def __enter__(self) -> DaskRunner:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _outcomes(self, fn: Callable[[Any, T], R], tasks: list[tuple[str, T]],
                  shared: Any) -> Generator[TaskOutcome[T, R], None, None]:
        if self._running:
            raise RuntimeError("one run at a time per runner: finish or close the previous iterator")
        if not tasks:
            return
        self._running = True
        generation = self._generation
        try:
            yield from self._stream(fn, tasks, shared, generation)
        finally:
            if self._generation == generation:  # else close() has already cancelled everything
                self._running = False
                if self._client is not None:
                    self._cancel_in_flight(self._client)

    def _stream(self, fn: Callable[[Any, T], R], tasks: list[tuple[str, T]], shared: Any,
                generation: int) -> Generator[TaskOutcome[T, R], None, None]:
        client = self._connect()
        name = getattr(fn, "__name__", "task")
        token, data = self._shared_on(client, shared)
        futures = client.map(run_task, [task for _, task in tasks], key=[_key(name) for _ in tasks],
                             pure=False, fn=fn, token=token, shared=data)
        self._in_flight.update(zip(futures, tasks, strict=True))
        lost: dict[str, int] = {}
        finished = as_completed(futures, loop=client.loop, with_results=True, raise_errors=False)
        del futures
        for future, payload in finished:
            if self._generation != generation:
                return
            key, task = self._in_flight.pop(future)
            if isinstance(payload, bytes):
                yield _decoded(key, payload)
            elif isinstance(payload, tuple):  # (type, exception, traceback): the task erred
                exc = payload[1]
                yield TaskOutcome(key, None, WORKER_DIED if isinstance(exc, KilledWorker) else error_line(exc))
            else:  # cancelled under us: a dependency or the result went with a dead worker
                lost[key] = lost.get(key, 0) + 1
                if lost[key] > self.max_lost:
                    logger.error("task %s lost its data %d time(s) to dead workers; giving up", key, lost[key])
                    yield TaskOutcome(key, None, WORKER_DIED)
                    continue
                logger.debug("task %s lost with a dead worker (%s); resubmitting", key, error_line(payload))
                token, data = self._shared_on(client, shared)
                again = client.submit(run_task, task, key=_key(name), pure=False, fn=fn, token=token, shared=data)
                self._in_flight[again] = (key, task)
                finished.add(again)

    def _connect(self) -> Client:
        if self._client is None:
            try:
                self._client = Client(self.address, timeout=self.connect_timeout, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise DaskUnavailable(f"no Dask scheduler answered at {self.address}: {error_line(exc)}") from None
        return self._client

    def _shared_on(self, client: Client, shared: Any) -> tuple[str | None, Future[bytes] | None]:
        """The token and cluster copy of `shared`: scattered when new, and again when the cluster
        has lost every copy (pure data has nothing to recompute it from)."""
        if shared is None:
            return None, None
        if self._shared is not shared or self._blob is None:
            self._forget_shared()
            self._blob = pickle.dumps(shared, protocol=pickle.HIGHEST_PROTOCOL)
            self._shared, self._token = shared, uuid.uuid4().hex
        if self._scattered is None or self._scattered.status != "finished":
            if self._scattered is not None:
                logger.warning("the Dask cluster lost every copy of the shared data with its workers; sending it "
                               "again and resubmitting the tasks that needed it")
            try:
                self._scattered = client.scatter(self._blob, broadcast=True, hash=False)
            except TimeoutError:
                raise DaskUnavailable(f"no Dask worker is connected to the scheduler at {self.address} "
                                      f"(waited {self.connect_timeout:g} s)") from None
            logger.info("sent %d bytes of shared data to every Dask worker", len(self._blob))
        return self._token, self._scattered

    def _forget_shared(self) -> None:
        scattered, self._scattered = self._scattered, None
        self._shared = self._blob = self._token = None
        if scattered is not None:
            scattered.release()

    def _cancel_in_flight(self, client: Client) -> None:
        pending, self._in_flight = list(self._in_flight), {}
        if pending:
            client.cancel(pending)


def _key(name: str) -> str:
    """One Dask key per submission, all with the function's name as prefix: Dask groups tasks by
    prefix, and only a large group of like tasks is held in the scheduler's queue."""
    return f"{name}-{uuid.uuid4().hex}"


def _decoded(key: str, payload: bytes) -> TaskOutcome[Any, Any]:
    try:
        result, error = pickle.loads(payload)  # noqa: S301 - pickled by our own worker code
    except Exception as exc:  # noqa: BLE001 - e.g. a result class this process cannot import
        return TaskOutcome(key, None, error_line(exc))
    return TaskOutcome(key, result, error)
