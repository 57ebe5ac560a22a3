"""The live loop's health port: /health, /ready and /metrics of the runner process, on 127.0.0.1.

The scheduler and the candle feed live in the `sixbtc run` process, so only that process can
say whether they are healthy; a small uvicorn server in a thread serves the operations routes
there (not the whole API: no writes, no lifespan that would shut the runner's resources down).
The socket is bound here, before the thread starts, so a port in use fails `sixbtc run` at once
with a clear message instead of a log line from a background thread.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from entrypoints.api import health, operations
from entrypoints.container import Container
from entrypoints.job_timings import JobTimings
from entrypoints.runtime import Scheduler
from entrypoints.version import VERSION

log = logging.getLogger(__name__)
HOST = "127.0.0.1"


class HealthPortUnavailable(Exception):
    """The configured port cannot be bound (in use, or not allowed)."""


def operations_app(container: Container) -> FastAPI:
    app = FastAPI(title="SixBTC live loop", version=VERSION,
                  description="Liveness, readiness and Prometheus metrics of the `sixbtc run` process.")
    app.state.container = container
    app.state.started_at = container.clock().now()
    app.include_router(health.router)
    app.include_router(operations.router)
    return app


class HealthServer:
    def __init__(self, app: FastAPI, port: int, host: str = HOST, start_timeout: float = 10.0) -> None:
        self._app = app
        self._address = (host, port)
        self._start_timeout = start_timeout
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("health server not started")
        return int(self._socket.getsockname()[1])

    def __enter__(self) -> HealthServer:
        try:
            self._socket = socket.create_server(self._address)
        except OSError as exc:
            raise HealthPortUnavailable(
                f"cannot serve health checks on {self._address[0]}:{self._address[1]}: {exc.strerror or exc}; "
                "change monitoring.health_check.port or set monitoring.health_check.enabled: false") from None
        config = uvicorn.Config(self._app, log_config=None, lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name="health-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self._start_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                port = self.port
                self.__exit__(None, None, None)
                raise HealthPortUnavailable(f"the health server on port {port} did not start")
            time.sleep(0.01)
        log.info("health server listening", extra={"host": self._address[0], "port": self.port})
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server, self._thread, self._socket = None, None, None


class Starting:
    """The scheduler's stand-in until the loop is built: /ready says not ready, not "no scheduler here"."""

    running = False

    def __init__(self) -> None:
        self.timings = JobTimings()


class RunnerHealth:
    def __init__(self, container: Container, server: HealthServer | None) -> None:
        self._container = container
        self.server = server

    def attach(self, scheduler: Scheduler) -> None:
        """The loop's feed and scheduler, for /ready and /metrics (the feed is already started by then)."""
        settings = self._container.settings()
        runtime = self._container.runtime()
        runtime.attach_feed(self._container.live_candles(), settings.trading.symbols, settings.trading.timeframes)
        runtime.attach_scheduler(scheduler)


@contextmanager
def runner_health(container: Container) -> Iterator[RunnerHealth]:
    """Served from before the loop is built, so a port in use fails before the feed loads its history."""
    runtime = container.runtime()
    runtime.attach_scheduler(Starting())
    config = container.settings().monitoring.health_check
    try:
        if not config.enabled:
            yield RunnerHealth(container, None)
            return
        with HealthServer(operations_app(container), config.port) as server:
            yield RunnerHealth(container, server)
    finally:
        runtime.detach()
