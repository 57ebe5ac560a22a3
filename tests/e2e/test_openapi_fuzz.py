"""Schemathesis over the app's own OpenAPI document, in process (ASGI), on the paper venue and a scratch database.

Every operation gets valid and invalid requests, with the API key; no answer may be a 5xx, and each
must be what the document promises (status, content type, body schema). Jobs are queued and never
run (HeldTasks), so a fuzzed POST /pipeline-runs starts no research run; the venue is paper (no
HL_PRIVATE_KEY in the container's environment, live not requested) over the test's own database.
Examples are derandomized: the same requests every run, so a failure here is reproducible.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from dependency_injector import providers
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from entrypoints.api.app import create_app
from tests.api_keys import KEYED
from tests.e2e.execution_support import seed_selected, write_config
from tests.e2e.test_execution_api import container_for

EXAMPLES = int(os.environ.get("SIXBTC_FUZZ_EXAMPLES", "25"))
"""Per operation and mode; raise it for a deeper run by hand (the time budget grows with it)."""
ONLY = [label for label in os.environ.get("SIXBTC_FUZZ_ONLY", "").split(",") if label]
BUDGET_SECONDS = 90 * EXAMPLES / 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


class HeldTasks:
    """A TaskRunner that keeps what it is given: the job is recorded as queued and nothing runs."""

    def __init__(self) -> None:
        self.held: list[Callable[[], None]] = []

    def submit(self, task: Callable[[], None]) -> None:
        self.held.append(task)


@pytest.fixture
def fuzzed(database: dict[str, str], tmp_path: Path) -> Iterator[tuple[FastAPI, HeldTasks]]:
    container = container_for(write_config(tmp_path), database)
    assert container.exchange_mode() == "paper" and "HL_PRIVATE_KEY" not in container.environ()
    seed_selected(container.event_store(), 4)
    held = HeldTasks()
    container.task_runner.override(providers.Object(held))
    app = create_app(container, follow_projections=False)
    yield app, held
    shutdown_lifespans()
    container.shutdown_resources()
    container.unwire()


def fuzz(operation: Any, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, print_blob=False,
              phases=[Phase.explicit, Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        case.call_and_validate(headers=KEYED, checks=CHECKS)

    run()


def test_no_operation_answers_with_a_server_error_or_off_its_schema(fuzzed: tuple[FastAPI, HeldTasks]) -> None:
    app, held = fuzzed  # an operation with nothing to get wrong (GET /health) has no invalid request: Unsatisfiable
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    started, failures, fuzzed_operations = time.monotonic(), [], []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the document has an operation schemathesis cannot read: {result.err()}"
        operation = result.ok()
        if ONLY and operation.label not in ONLY:
            continue
        fuzzed_operations.append(operation.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz(operation, mode)
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, f"no valid request to {operation.label} could be built"
            except Exception as exc:
                causes = "".join(f"\n{cause}" for cause in getattr(exc, "exceptions", ()))
                failures.append(f"{mode.value} {operation.label}:\n{exc}{causes}")
    elapsed = time.monotonic() - started
    assert not failures, "\n\n".join(failures)
    assert ONLY or (len(fuzzed_operations) >= 20 and "POST /deployments" in fuzzed_operations)
    assert ONLY or held.held, "no fuzzed request started a job: the job endpoints were never passed"
    assert elapsed < BUDGET_SECONDS, f"the fuzz run took {elapsed:.0f}s"
