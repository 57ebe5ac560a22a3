"""API keys on the REST API (every write needs one, reads only when config says so, no key ever echoed), and
the problems for requests refused before an endpoint runs (422 per field, NUL characters, HTTP errors)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastapi.routing
import pytest
from dependency_injector import providers
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.testclient import TestClient

from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.read_models import InMemoryReadModels
from entrypoints.api.app import create_app
from entrypoints.api.security import API_KEYS_VARIABLE, HEADER, SCHEME, ApiKeys, guard
from entrypoints.container import Container, build_container
from entrypoints.settings import ConfigError, load_settings
from tests.api_keys import KEYED, TEST_API_KEY
from tests.e2e.execution_support import T0

REPO = Path(__file__).resolve().parents[2]
SECOND_KEY = "second-key-0123456789abcdef"


def container_with(tmp_path: Path, *, reads_need_key: bool = False) -> Container:
    text = (REPO / "config" / "config.yaml").read_text()
    if reads_need_key:
        text = text.replace("require_key_for_reads: false", "require_key_for_reads: true")
    config = tmp_path / "config.yaml"
    config.write_text(text)
    container = build_container(load_settings(config, env={}, dotenv_path=tmp_path / "none.env"))
    container.event_store.override(providers.Singleton(InMemoryEventStore))
    container.read_models.override(providers.Singleton(InMemoryReadModels))
    container.clock.override(providers.Object(ManualClock(T0)))
    return container


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    container = container_with(tmp_path)
    yield create_app(container, follow_projections=False)
    container.unwire()


def endpoints(app: FastAPI) -> list[Any]:
    """Every endpoint as served; FastAPI 0.16x keeps included routers lazily, behind iter_route_contexts."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = list(contexts(app.routes)) if contexts else list(app.routes)
    return [route for route in routes if hasattr(route, "dependant")]


def writes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, concrete path) of every state-changing operation the app serves."""
    found = []
    for route in endpoints(app):
        path = re.sub(r"\{[^}]+\}", "some-id", route.path)
        found += [(method, path) for method in sorted(route.methods) if method not in ("GET", "HEAD")]
    return found


def calls(dependant: Dependant) -> set[Any]:
    return {dependant.call} | {c for sub in dependant.dependencies for c in calls(sub)}


def is_problem(response: Any, status: int, title: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert (body["status"], body["title"]) == (status, title)
    return body


def test_every_route_carries_the_key_check(app: FastAPI) -> None:
    routes = endpoints(app)
    assert len(routes) >= 18 and len(writes(app)) >= 9, "the endpoints were not found"
    unguarded = [route.path for route in routes if guard not in calls(route.dependant)]
    assert unguarded == []


def test_every_write_refuses_a_missing_or_wrong_key_with_401(app: FastAPI) -> None:
    with TestClient(app) as client:
        for method, path in writes(app):
            missing = is_problem(client.request(method, path, json={}), 401, "API key required")
            assert HEADER in missing["detail"], path
            wrong = client.request(method, path, json={}, headers={HEADER: "not-the-key-at-all-000"})
            assert "not-the-key-at-all-000" not in wrong.text
            is_problem(wrong, 401, "Invalid API key")


def test_a_valid_key_passes_and_any_configured_key_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(API_KEYS_VARIABLE, f" {TEST_API_KEY} , {SECOND_KEY},")
    container = container_with(tmp_path)
    with TestClient(create_app(container, follow_projections=False)) as client:
        for key in (TEST_API_KEY, SECOND_KEY):
            answer = client.post("/deployments", json={"plan": "nope"}, headers={HEADER: key})
            is_problem(answer, 422, "Invalid request")  # past the key check, stopped by validation


def test_without_configured_keys_writes_are_403_and_say_how_to_set_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(API_KEYS_VARIABLE)
    container = container_with(tmp_path)
    with TestClient(create_app(container, follow_projections=False), headers=KEYED) as client:
        refused = is_problem(client.post("/emergency-stop", json={"all": True}), 403, "API keys not configured")
        assert API_KEYS_VARIABLE in refused["detail"] and HEADER in refused["detail"]
        assert client.get("/strategies").status_code == 200


def test_reads_are_open_by_default(app: FastAPI) -> None:
    with TestClient(app) as client:
        assert client.get("/strategies").status_code == 200
        assert client.get("/subaccounts").status_code == 200


def test_reads_need_a_key_when_configured_but_health_stays_open(tmp_path: Path) -> None:
    container = container_with(tmp_path, reads_need_key=True)
    with TestClient(create_app(container, follow_projections=False)) as client:
        is_problem(client.get("/strategies"), 401, "API key required")
        is_problem(client.get("/strategies", headers={HEADER: "wrong-key-wrong-key"}), 401, "Invalid API key")
        assert client.get("/strategies", headers=KEYED).status_code == 200
        assert client.get("/health").status_code == 200 and client.get("/ready").status_code != 401
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/openapi.json").json()["paths"]["/strategies"]["get"]["security"] == [{SCHEME: []}]


def test_the_openapi_document_declares_the_key_and_problem_bodies(app: FastAPI) -> None:
    with TestClient(app) as client:
        spec = client.get("/openapi.json").json()
        assert client.get("/docs").status_code == 200  # Swagger UI draws Authorize from securitySchemes
    scheme = spec["components"]["securitySchemes"][SCHEME]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", HEADER)
    post = spec["paths"]["/deployments"]["post"]
    assert post["security"] == [{SCHEME: []}] and {"401", "403", "422"} <= set(post["responses"])
    assert "security" not in spec["paths"]["/strategies"]["get"]
    problem = post["responses"]["422"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"} and "HTTPValidationError" not in spec["components"][
        "schemas"]


def test_a_bad_body_is_a_422_problem_naming_each_field_without_echoing_values(app: FastAPI) -> None:
    with TestClient(app, headers=KEYED) as client:
        secretish = "sk-ant-looks-like-a-key-0000000000"
        body = is_problem(client.post("/deployments", json={"plan": secretish, "strategy_ids": 5}), 422,
                          "Invalid request")
        fields = {e["field"] for e in body["errors"]}
        assert fields == {"body.plan", "body.strategy_ids"}
        assert body["detail"].startswith("2 invalid fields: ") and "body.plan: " in body["detail"]
        assert secretish not in client.post("/deployments", json={"plan": secretish}).text
        query = is_problem(client.get("/strategies", params={"sort": "bogus"}), 422, "Invalid request")
        assert [e["field"] for e in query["errors"]] == ["query.sort"]
        broken = is_problem(client.post("/deployments", content=b"{not json", headers={"content-type":
                                                                                       "application/json"}),
                            422, "Invalid request")
        assert broken["errors"][0]["type"] == "json_invalid"


def test_http_errors_are_problems_too(app: FastAPI) -> None:
    with TestClient(app, headers=KEYED) as client:
        missing = is_problem(client.get("/backtests/nope"), 404, "Not Found")
        assert "nope" in missing["detail"]
        is_problem(client.get("/no-such-route"), 404, "Not Found")
        not_allowed = client.delete("/strategies")
        is_problem(not_allowed, 405, "Method Not Allowed")
        assert not_allowed.headers["allow"] == "GET"


def test_short_keys_are_refused_at_start_without_quoting_them() -> None:
    with pytest.raises(ConfigError) as refused:
        ApiKeys.from_environ({API_KEYS_VARIABLE: f"{TEST_API_KEY},tiny-key"})
    assert "tiny-key" not in str(refused.value) and "1 of its 2 keys" in str(refused.value)
    keys = ApiKeys.from_environ({API_KEYS_VARIABLE: TEST_API_KEY})
    assert keys.count == 1 and keys.accepts(TEST_API_KEY) and not keys.accepts(TEST_API_KEY + "x")
    assert ApiKeys.from_environ({}).count == 0


def test_nul_characters_are_refused_in_path_query_and_body(app: FastAPI) -> None:
    """PostgreSQL answered these with a 500 (found by probing what schemathesis had not drawn)."""
    with TestClient(app, headers=KEYED) as client:
        for method, path, body, field in (
                ("GET", "/strategies/a%00b", None, "path.strategy_id"),
                ("GET", "/strategies?status=%00", None, "query.status"),
                ("POST", "/strategies/x%00/stop", {"reason": "x"}, "path.strategy_id"),
                ("POST", "/deployments", {"strategy_ids": ["a\x00b"]}, "body.strategy_ids.0"),
                ("POST", "/emergency-stop", {"all": True, "reason": "a\x00b"}, "body.reason"),
                ("POST", "/validations", {"code": "x = 1\x00"}, "body.code")):
            refused = is_problem(client.request(method, path, json=body), 422, "Invalid request")
            assert [(e["field"], e["type"]) for e in refused["errors"]] == [(field, "string_nul")], path
