"""Rules every request obeys, whatever its endpoint: no NUL character in any path, query or body string.

PostgreSQL stores no NUL (U+0000) in text or JSONB, and Python source cannot hold one, so such a
value could only fail deeper down (a 500, or an emergency stop cut short while recording its
reason). It is refused here, as a 422 naming the field, by an app-level dependency that covers
endpoints added later too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

NUL = "\x00"
MESSAGE = "must not contain NUL (U+0000) characters"


async def refuse_nul(request: Request) -> None:
    found: list[tuple[str | int, ...]] = [
        ("path", name) for name, value in request.path_params.items() if NUL in str(value)]
    found += [("query", name) for name, value in request.query_params.multi_items() if NUL in value]
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        found += [("body", *where) for where in _nul_strings(await _json_body(request), ())]
    if found:
        raise RequestValidationError([{"loc": loc, "msg": MESSAGE, "type": "string_nul"} for loc in found])


async def _json_body(request: Request) -> Any:
    """The body as FastAPI will read it; one it cannot parse is FastAPI's own 422, not this rule's."""
    content_type = request.headers.get("content-type")
    if content_type is not None and "json" not in content_type:
        return None
    try:
        return json.loads(await request.body())
    except ValueError:
        return None


def _nul_strings(value: Any, where: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, str):
        if NUL in value:
            yield where or ("<root>",)
    elif isinstance(value, dict):
        for key, item in value.items():
            shown = key.replace(NUL, "\\u0000")
            if shown != key:
                yield (*where, shown)
            yield from _nul_strings(item, (*where, shown))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_strings(item, (*where, index))
