"""POST /emergency-stop: the kill switch (every subaccount) or one subaccount, flattened now.

Orders are cancelled, positions closed, and the strategy on each subaccount stopped and RETIRED
with the reason; a subaccount no strategy holds is flattened too. Paper unless the server was
started with `sixbtc api --live`. With `all`, one subaccount the venue refuses does not keep the
others open: every one is tried, and the problem's detail names the ones done and the ones not
(entrypoints/api/problems.py gives it the status of the first failure's cause).
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from entrypoints.api.deployments import PROBLEMS, run_execution
from entrypoints.api.execution_schemas import EmergencyStopIn, EmergencyStopView
from entrypoints.container import Container
from entrypoints.execution_views import emergency_json

router = APIRouter(tags=["execution"])


@router.post("/emergency-stop", response_model=EmergencyStopView, responses=PROBLEMS,
             summary="Flatten every subaccount (all) or one, stop and retire its strategy: the kill switch")
def emergency_stop(body: EmergencyStopIn, request: Request) -> EmergencyStopView:
    def action(container: Container) -> EmergencyStopView:
        stops = container.emergency_stops()
        number = body.subaccount  # the body holds exactly one of all and subaccount
        outcomes = stops.stop_all(body.reason) if number is None else [stops.stop(number, body.reason)]
        return EmergencyStopView.model_validate(emergency_json(container.exchange().mode, body.reason, outcomes))

    return run_execution(request, action)
