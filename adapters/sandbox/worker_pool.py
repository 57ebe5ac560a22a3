"""Confined workers shared by the callers of one ProcessSandbox: one caller per worker at a time.

A worker computes one request at a time, so with one worker the signals of the live loop's
strategies queue behind each other (and behind a validation run's) even on a machine with
cores to spare. The pool starts workers only when every started one is busy, up to `size`:
a caller that never overlaps another keeps using one warm worker, and overlapping callers
get one each. A caller prefers a free worker that already holds its candles (the live loop
sends each bar's candles to a worker once, then names them by their key).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from adapters.sandbox.wire import WireError
from adapters.sandbox.worker_process import SandboxLimits, WorkerDied, WorkerProcess
from application.ports.strategy_sandbox import SandboxRejection

logger = logging.getLogger(__name__)


class WorkerPool:
    """`require` names the kernel layers a worker must report, else it is killed unused."""

    def __init__(self, limits: SandboxLimits, require: tuple[str, ...], size: int) -> None:
        if size < 1:
            raise ValueError(f"a sandbox needs at least one worker, got {size}")
        self.limits = limits
        self.size = size
        self._require = require
        self._free = threading.Condition()
        self._idle: list[WorkerProcess] = []
        """Most recently used last."""
        self._busy: set[WorkerProcess] = set()
        self._starting = 0
        self._retired: set[WorkerProcess] = set()
        """Busy when the pool was closed: killed as they come back."""
        self.last: WorkerProcess | None = None
        """The worker the latest lease used (its home and pid, for tests and logs)."""

    @contextmanager
    def lease(self, data_key: str | None = None) -> Iterator[WorkerProcess]:
        """A worker to oneself until the block ends; one the block's error leaves in doubt is killed
        (the block raises `Broken`)."""
        worker = self._acquire(data_key)
        broken = False
        try:
            yield worker
        except Broken:
            broken = True
            raise
        finally:
            self._release(worker, broken)

    def close(self) -> None:
        """Kill the free workers now and the busy ones when they come back; the pool stays usable."""
        with self._free:
            idle, self._idle = self._idle, []
            self._retired |= self._busy
            self.last = None
        for worker in idle:
            worker.kill()

    def _acquire(self, data_key: str | None) -> WorkerProcess:
        with self._free:
            while True:
                for worker in [w for w in self._idle if not w.alive]:
                    self._idle.remove(worker)
                    worker.kill()
                if self._idle:
                    holding = [w for w in self._idle if data_key is not None and data_key in w.sent_data]
                    worker = holding[-1] if holding else self._idle[-1]
                    self._idle.remove(worker)
                    self._busy.add(worker)
                    self.last = worker
                    return worker
                if len(self._busy) + self._starting < self.size:
                    self._starting += 1
                    break
                self._free.wait()
        try:
            worker = self._start()
        except BaseException:
            with self._free:
                self._starting -= 1
                self._free.notify()
            raise
        with self._free:
            self._starting -= 1
            self._busy.add(worker)
            self.last = worker
        return worker

    def _release(self, worker: WorkerProcess, broken: bool) -> None:
        with self._free:
            self._busy.discard(worker)
            retired = worker in self._retired
            self._retired.discard(worker)
            keep = not broken and not retired and worker.alive
            if keep:
                self._idle.append(worker)
            elif self.last is worker:
                self.last = None
            self._free.notify()
        if not keep:
            worker.kill()

    def _start(self) -> WorkerProcess:
        try:
            worker = WorkerProcess(self.limits)
        except (WorkerDied, WireError) as exc:
            raise SandboxRejection("crash", f"the sandbox worker did not start: {exc}") from None
        missing = [layer for layer in self._require if not worker.layers.get(layer)]
        if missing:
            worker.kill()
            raise SandboxRejection("crash", f"the sandbox needs {', '.join(missing)} and this machine "
                                            "does not provide it: untrusted code will not run here")
        logger.info("sandbox worker started", extra={"sandbox_layers": worker.layers, "sandbox_workers": self.size})
        return worker


class Broken(Exception):
    """Raised inside a lease: the worker's state is in doubt (it died, overran, ran out of memory,
    or sent something malformed); the pool kills it and the next lease gets a fresh one."""

    def __init__(self, rejection: SandboxRejection) -> None:
        super().__init__(str(rejection))
        self.rejection = rejection
