"""POST /deployments, POST /rotations, POST /strategies/{id}/stop: strategies on and off subaccounts.

Paper unless this server was started with `sixbtc api --live` (and the config and environment
agree). Writes are serialised per process (one subaccount manager at a time), and the read
models are caught up before answering, so GET /subaccounts right after shows the change.
Errors are problem responses (entrypoints/api/problems.py): 404 unknown strategy or subaccount,
409 refused by the lifecycle or the manager, 403 live refused, 503 venue unreachable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response

from application.deploy_strategies import DeploymentRequest
from entrypoints.api.execution_schemas import (
    DeploymentIn,
    DeploymentView,
    RotationIn,
    RotationView,
    StepView,
    StopIn,
    StopView,
)
from entrypoints.container import Container
from entrypoints.execution import projected
from entrypoints.execution_views import deployment_json, step_json, stop_json

router = APIRouter(tags=["execution"])
T = TypeVar("T")
PROBLEMS: dict[int | str, dict[str, Any]] = {
    403: {"description": "live trading refused: a lock is closed (the problem says which)"},
    404: {"description": "no such strategy or subaccount"},
    409: {"description": "refused: wrong status, nothing to stop, no free subaccount, or a concurrent change"},
    503: {"description": "the exchange or the database cannot be reached"},
}


def run_execution(request: Request, action: Callable[[Container], T]) -> T:
    """Run `action(container)` under the process's execution lock, then catch the read models up."""
    container = request.app.state.container
    with request.app.state.execution_lock:
        return projected(container.projection_runner().catch_up, lambda: action(container))


@router.post("/deployments", status_code=201, response_model=DeploymentView,
             responses={200: {"model": DeploymentView, "description": "a dry run: the plan, nothing recorded"},
                        **PROBLEMS},
             summary="Deploy SELECTED strategies to free subaccounts (200 and nothing recorded for a dry run)")
def deploy(body: DeploymentIn, request: Request, response: Response) -> DeploymentView:
    wanted = DeploymentRequest(plan=body.plan, dry_run=body.dry_run, strategy_ids=tuple(body.strategy_ids))
    report = run_execution(request, lambda c: c.subaccount_manager().deploy(wanted))
    if body.dry_run:
        response.status_code = 200
    else:
        response.headers["Location"] = "/subaccounts"
    return DeploymentView.model_validate(deployment_json(report))


@router.post("/rotations", status_code=201, response_model=RotationView, responses=PROBLEMS,
             summary="Stop a LIVE strategy and put a SELECTED one on its subaccount with the same capital")
def rotate(body: RotationIn, request: Request) -> RotationView:
    stopped, step = run_execution(request, lambda c: c.subaccount_manager().rotate(
        body.old_strategy_id, body.new_strategy_id, body.reason))
    return RotationView(stopped=StopView.model_validate(stop_json(stopped)),
                        deployed=StepView.model_validate(step_json(step)))


@router.post("/strategies/{strategy_id}/stop", response_model=StopView, responses=PROBLEMS,
             summary="Stop a LIVE strategy: cancel its orders, close its positions, free its subaccount, retire it")
def stop(strategy_id: str, body: StopIn, request: Request) -> StopView:
    report = run_execution(request, lambda c: c.subaccount_manager().stop(strategy_id, body.reason))
    return StopView.model_validate(stop_json(report))
