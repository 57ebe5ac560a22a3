"""FastAPI application factory. Nothing happens on import; `create_app(container)` wires it."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from application.ports.event_store import EventStoreUnavailable
from domain.errors import DomainError
from entrypoints.api import (
    backtests,
    deployments,
    emergency_stops,
    generation,
    health,
    operations,
    pipeline_runs,
    reports,
    strategies,
    subaccounts,
    ui,
    validations,
)
from entrypoints.api.input_rules import refuse_nul
from entrypoints.api.openapi_docs import document_api
from entrypoints.api.problems import add_execution_handlers, problem
from entrypoints.api.request_problems import add_request_handlers
from entrypoints.api.security import ApiAccess, ApiKeys, guard
from entrypoints.container import Container
from entrypoints.secret_registry import register_secrets
from entrypoints.version import VERSION


def create_app(container: Container, *, follow_projections: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.started_at = container.clock().now()
        stop = threading.Event()
        follower = None
        if follow_projections:
            follower = threading.Thread(
                target=container.projection_runner().run_until, args=(stop,), name="projections", daemon=True
            )
            follower.start()
        yield
        stop.set()
        if follower is not None:
            follower.join(timeout=5)
        container.strategy_sandbox.shutdown()  # the sandbox and pool workers go with the app
        container.batch_runner.shutdown()
        container.exchange.shutdown()
        container.live_candles.shutdown()

    app = FastAPI(
        title=container.settings().system.name,
        version=VERSION,
        description="AI strategy factory for crypto perpetual futures: strategies, results, health, and "
                    "deployment to Hyperliquid subaccounts (paper unless the server was started with --live).",
        lifespan=lifespan,
        dependencies=[Depends(guard), Depends(refuse_nul)],  # every route, however added
    )
    register_secrets(container.settings(), container.environ())
    reads_need_key = container.settings().monitoring.api.require_key_for_reads
    app.state.api_access = ApiAccess(ApiKeys.from_environ(container.environ()), reads_need_key)
    document_api(app, reads_need_key)
    app.state.container = container
    app.state.execution_lock = threading.Lock()
    app.include_router(health.router)
    app.include_router(operations.router)
    app.include_router(generation.router)
    app.include_router(strategies.router)
    app.include_router(backtests.router)
    app.include_router(validations.router)
    app.include_router(pipeline_runs.router)
    app.include_router(deployments.router)
    app.include_router(emergency_stops.router)
    app.include_router(subaccounts.router)
    app.include_router(reports.router)
    app.include_router(ui.router)
    add_execution_handlers(app)
    add_request_handlers(app)

    @app.exception_handler(EventStoreUnavailable)
    async def store_down(_: Request, exc: EventStoreUnavailable) -> JSONResponse:
        return problem(503, "Database unavailable", str(exc))

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return problem(422, type(exc).__name__, str(exc))

    return app
