"""POST /backtests starts a backtest job (202 and its id); GET /backtests/{id} reports progress and result.

Only stored strategies can be backtested here (their code runs in the sandbox worker, never in
this process); code sent over HTTP goes through POST /validations, which stores it. Register a
file with `sixbtc backtest FILE` (or the pipeline) first. Results also land as BacktestCompleted
events, in the backtest_results read model.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from application.backtest import BacktestRequest
from application.ports.jobs import JobNotFound
from entrypoints.api.job_views import JobView

router = APIRouter(tags=["backtests"])


class BacktestIn(BaseModel):
    strategy: str = Field(description="a stored strategy's name or id (see GET /strategies)")
    params: dict[str, Any] | None = Field(None, description="parameter overrides")
    symbols: list[str] = Field(default_factory=list, description="default: the data's or trading.symbols")
    timeframe: str | None = Field(None, description="default: the strategy's timeframe")
    days: int | None = Field(None, gt=0, description="the last N days of data; default backtesting.lookback_days")
    data: str | None = Field(None, description="Parquet candle file or folder on the server; default system.data_dir")
    funding: str | None = Field(None, description="funding-rate Parquet file or folder on the server")


class BacktestJobView(JobView):
    """A backtest job; `result` is the metrics and every trade."""


@router.post("/backtests", status_code=202, response_model=BacktestJobView, summary="Start a backtest job")
def start_backtest(body: BacktestIn, request: Request, response: Response) -> BacktestJobView:
    container = request.app.state.container
    settings = container.settings()
    backtest = BacktestRequest(
        strategy=body.strategy, params=body.params, symbols=tuple(body.symbols), timeframe=body.timeframe,
        days=body.days or settings.backtesting.lookback_days,
    )
    try:
        candles = container.candle_files(body.data or settings.system.data_dir, settings.trading.symbols)
        funding = container.funding_files(body.funding) if body.funding else None
    except FileNotFoundError as exc:
        raise HTTPException(422, str(exc)) from None
    job = container.backtest_jobs().start(backtest, candles, funding)
    response.headers["Location"] = f"/backtests/{job.job_id}"
    return BacktestJobView.of(job)


@router.get("/backtests/{job_id}", response_model=BacktestJobView, summary="A backtest job's progress and result")
def get_backtest(job_id: str, request: Request) -> BacktestJobView:
    try:
        job = request.app.state.container.backtest_jobs().status(job_id)
    except JobNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return BacktestJobView.of(job)

