"""Problems for requests refused before an endpoint runs: bad input (422), HTTP errors, missing keys, crashes.

Every error response of the API is then application/problem+json. A 422 lists each field with
its message and never the value sent (it may be a key pasted in the wrong place); a 500 says
nothing of the exception, whose traceback the server logs (scrubbed) instead.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from entrypoints.api.problems import problem
from entrypoints.api.security import ApiKeyRefused
from entrypoints.logging_setup import scrub


def add_request_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(ApiKeyRefused, _refused)
    app.add_exception_handler(Exception, _crashed)


def field_problems(errors: Any) -> list[dict[str, str]]:
    """`body.count: Input should be ...` for each error, as pydantic located it (no input echoed)."""
    return [{"field": ".".join(str(part) for part in error.get("loc", ())) or "request",
             "message": scrub(str(error.get("msg", "invalid"))), "type": str(error.get("type", "invalid"))}
            for error in errors]


async def _invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # registered for this type only
    fields = field_problems(exc.errors())
    listed = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    count = f"{len(fields)} invalid field{'s' if len(fields) != 1 else ''}"
    return problem(422, "Invalid request", f"{count}: {listed}", errors=fields)


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    phrase = _phrase(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) else phrase
    return problem(exc.status_code, phrase, detail, headers=exc.headers)


async def _refused(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiKeyRefused)
    return problem(exc.status, exc.title, exc.detail)


async def _crashed(_: Request, __: Exception) -> JSONResponse:
    """Starlette re-raises after this answer, so the server logs the traceback (through scrub())."""
    return problem(500, "Internal Server Error", "an unexpected error; the server log has the details")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
