"""GET /subaccounts (from the read models, never an address) and POST /reconciliations (against the venue)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from entrypoints.api.deployments import PROBLEMS, run_execution
from entrypoints.api.execution_schemas import ReconciliationIn, ReconciliationsView, SubaccountView
from entrypoints.container import Container
from entrypoints.execution_views import reconciliation_json, subaccount_overview

router = APIRouter(tags=["execution"])


@router.get("/subaccounts", response_model=list[SubaccountView],
            summary="Each subaccount: free or active, its strategy, capital, account value and open positions")
def list_subaccounts(request: Request) -> list[SubaccountView]:
    container = request.app.state.container
    container.projection_runner().catch_up()
    rows = subaccount_overview(container.read_models(), container.settings().trading.subaccounts.count)
    return [SubaccountView.model_validate(row) for row in rows]


@router.post("/reconciliations", response_model=ReconciliationsView, responses=PROBLEMS,
             summary="Compare recorded positions and orders with the venue, record every difference, adopt the venue")
def reconcile(body: ReconciliationIn, request: Request) -> ReconciliationsView:
    def action(container: Container) -> ReconciliationsView:
        reconciler = container.reconciler()
        reports = [reconciler.reconcile(body.subaccount)] if body.subaccount is not None else reconciler.reconcile_all()
        mode = container.exchange().mode
        return ReconciliationsView.model_validate({"mode": mode,
                                                   "reconciliations": [reconciliation_json(r) for r in reports]})

    return run_execution(request, action)
