"""Typed errors -> RFC 9457 problem responses, one status per kind; details scrubbed of secrets.

Starlette picks the handler of the most specific class in an exception's MRO, so the execution
errors below win over the DomainError -> 422 fallback registered by the app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from application.deploy_strategies import DeploymentRefused
from application.emergency_stops import EmergencyStopIncomplete
from application.ports.event_store import EventStoreUnavailable, WrongExpectedVersion
from application.ports.exchange import (
    ExchangeError,
    ExchangeUnavailable,
    OrderRejected,
    OrderStateUnknown,
    UnknownSubaccount,
)
from application.stop_strategy import NotDeployed, StopIncomplete
from application.strategy_repository import StrategyNotFound
from domain.errors import DomainError, IllegalTransition
from entrypoints.execution import LiveTradingRefused
from entrypoints.logging_setup import scrub

EXECUTION_STATUS: dict[type[Exception], int] = {
    DeploymentRefused: 409,
    NotDeployed: 409,
    IllegalTransition: 409,
    StopIncomplete: 409,
    WrongExpectedVersion: 409,
    StrategyNotFound: 404,
    UnknownSubaccount: 404,
    LiveTradingRefused: 403,
    ExchangeUnavailable: 503,
    OrderStateUnknown: 503,
    OrderRejected: 422,
    ExchangeError: 502,
}
"""ExchangeError itself (a venue answer we could not use) is a bad gateway; WrongExpectedVersion
means another writer changed the same subaccount or strategy first: try again."""


def problem(status: int, title: str, detail: str, *, headers: Mapping[str, str] | None = None,
            **members: Any) -> JSONResponse:
    """RFC 9457 problem details; `members` are extension members (already free of secrets)."""
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": scrub(detail), **members},
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


def status_of(exc: Exception) -> int:
    """The status the app gives this error alone: the most specific kind in its MRO, as Starlette picks."""
    known = {**EXECUTION_STATUS, EventStoreUnavailable: 503, DomainError: 422}
    return next((known[kind] for kind in type(exc).__mro__ if kind in known), 500)


def add_execution_handlers(app: FastAPI) -> None:
    for kind, status in EXECUTION_STATUS.items():
        app.add_exception_handler(kind, _handler(status))
    app.add_exception_handler(EmergencyStopIncomplete, _incomplete)


async def _incomplete(_: Request, exc: Exception) -> JSONResponse:
    """The kill switch cut short: the first failure's own status, the detail naming what was done."""
    assert isinstance(exc, EmergencyStopIncomplete)  # registered for this type only
    return problem(status_of(exc.failures[0][1]), type(exc).__name__, str(exc))


def _handler(status: int) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        return problem(status, type(exc).__name__, str(exc))

    return handle
