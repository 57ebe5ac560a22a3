"""The OpenAPI document says what the server does: the API key each operation needs, and problem bodies.

FastAPI documents 422 as its own `{"detail": [...]}` shape and knows nothing of the app-level key
check; this rewrites the generated document once so /docs has an Authorize button, a lock on each
operation that needs a key (the same `needs_key` rule the check uses), and every error response
as application/problem+json.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from entrypoints.api.security import API_KEYS_VARIABLE, HEADER, HOW_TO, SCHEME, needs_key

PROBLEM_TYPE = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "title": "Problem", "type": "object", "description": "RFC 9457 problem details",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldProblem"},
                       "description": "422 only: each invalid field"},
        },
    },
    "FieldProblem": {
        "title": "FieldProblem", "type": "object", "required": ["field", "message", "type"],
        "properties": {"field": {"type": "string", "description": "where: body.count, query.sort ..."},
                       "message": {"type": "string"}, "type": {"type": "string"}},
    },
}
KEY_RESPONSES = {
    "401": "no X-API-Key header, or a key this server does not accept",
    "403": f"this server has no API keys ({API_KEYS_VARIABLE} is not set)",
}
PROBLEM_CONTENT = {PROBLEM_TYPE: {"schema": PROBLEM_REF}}


def document_api(app: FastAPI, reads_need_key: bool) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _rewritten(generate(), reads_need_key)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _rewritten(schema: dict[str, Any], reads_need_key: bool) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})[SCHEME] = {
        "type": "apiKey", "in": "header", "name": HEADER,
        "description": f"A key from the server's {API_KEYS_VARIABLE}. Without one: {HOW_TO}.",
    }
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(PROBLEM_SCHEMAS)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if needs_key(method, path, reads_need_key):
                operation["security"] = [{SCHEME: []}]
                for status, description in KEY_RESPONSES.items():
                    responses.setdefault(status, {"description": description})
            if "422" in responses:
                responses["422"] = {"description": "invalid request: the problem lists each field and its message"}
            responses.setdefault("default", {"description": "any other error, as a problem"})
            for status, response in responses.items():
                if status == "default" or status[:1] in ("4", "5"):
                    response["content"] = PROBLEM_CONTENT
    return schema
