"""POST /validations starts a validation job (202 and its id); GET /validations/{id} reports it.

Code may be sent in the body: it runs only in the confined sandbox worker, never in the API
process. When config says `validation.sandbox.isolation: none` (trusted code only), code over
HTTP is refused and only stored strategies can be validated. Outcomes also land as events, in
the validation_results read model.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field, model_validator

from application.ports.jobs import JobNotFound
from application.validate_strategy import ValidationRequest
from entrypoints.api.job_views import JobView

router = APIRouter(tags=["validations"])

MAX_CODE_CHARS = 200_000


class ValidationIn(BaseModel):
    code: str | None = Field(None, max_length=MAX_CODE_CHARS, description="a strategy module's source code")
    origin: str = Field("<api>", max_length=200, description="a name for the code in messages (e.g. its file name)")
    strategy: str | None = Field(None, description="or: a stored strategy's name or id (see GET /strategies)")
    params: dict[str, Any] | None = Field(None, description="parameter overrides")
    symbols: list[str] = Field(default_factory=list, description="default: the data's or trading.symbols")
    timeframe: str | None = Field(None, description="default: the strategy's timeframe")
    days: int | None = Field(None, gt=0, description="the last N days of data; default backtesting.lookback_days")
    data: str | None = Field(None, description="Parquet candle file or folder on the server; default system.data_dir")
    walk_forward: bool = Field(False, description="also run the walk-forward optimiser")
    trials: int = Field(1, ge=1, description="strategies tried in this one's batch (deflated Sharpe)")
    sharpe_variance: float = Field(0.0, ge=0, description="variance of the batch's per-bar Sharpe ratios")

    @model_validator(mode="after")
    def _one_source(self) -> ValidationIn:
        if (self.code is None) == (self.strategy is None):
            raise ValueError("give either code or strategy, not both")
        return self


class ValidationJobView(JobView):
    """A validation job; `result` is the report, as `sixbtc validate --json`."""


@router.post("/validations", status_code=202, response_model=ValidationJobView, summary="Start a validation job")
def start_validation(body: ValidationIn, request: Request, response: Response) -> ValidationJobView:
    container = request.app.state.container
    settings = container.settings()
    if body.code is not None and settings.validation.sandbox.isolation == "none":
        raise HTTPException(422, "validation.sandbox.isolation is none on this server: code is not accepted "
                                 "over HTTP; validate a stored strategy instead")
    code, origin = (body.code, body.origin) if body.code is not None else _stored(container, str(body.strategy))
    validation = ValidationRequest(
        code=code, origin=origin, params=body.params, symbols=tuple(body.symbols), timeframe=body.timeframe,
        days=body.days or settings.backtesting.lookback_days, walk_forward=body.walk_forward, trials=body.trials,
        sharpe_variance=body.sharpe_variance,
    )
    try:
        candles = container.candle_files(body.data or settings.system.data_dir, settings.trading.symbols)
    except FileNotFoundError as exc:
        raise HTTPException(422, str(exc)) from None
    job = container.validation_jobs().start(validation, candles)
    response.headers["Location"] = f"/validations/{job.job_id}"
    return ValidationJobView.of(job)


@router.get("/validations/{job_id}", response_model=ValidationJobView, summary="A validation job's progress and result")
def get_validation(job_id: str, request: Request) -> ValidationJobView:
    try:
        job = request.app.state.container.validation_jobs().status(job_id)
    except JobNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return ValidationJobView.of(job)


def _stored(container: Any, wanted: str) -> tuple[str, str]:
    rows = container.read_models().rows("strategies", {"name": wanted}) or container.read_models().rows(
        "strategies", {"strategy_id": wanted})
    if not rows or not rows[0].get("code"):
        raise HTTPException(404, f"no stored strategy named {wanted!r} (nor with that id); see GET /strategies")
    return str(rows[0]["code"]), str(rows[0]["name"])

