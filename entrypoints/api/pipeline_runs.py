"""POST /pipeline-runs starts a research run as a job; GET /pipeline-runs/{id} reports its progress and result.

The job's id is the run's id: while this process runs it, GET shows the job's progress; later (or
from another process) it shows the pipeline_runs read model.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from application.ports.jobs import JobNotFound
from application.research_pipeline import PipelineRequest
from domain.strategy import TIMEFRAMES
from entrypoints.api.job_views import JobView
from entrypoints.generation import NoUsableProvider

router = APIRouter(tags=["pipeline"])
GATE_DAYS = 730


class PipelineIn(BaseModel):
    count: int = Field(20, ge=1, le=5000, description="candidates to generate")
    seed: int = Field(0, ge=0)
    symbols: list[str] = Field(default_factory=list, description="default: the data's or trading.symbols")
    days: int | None = Field(None, gt=0, description="lookback; default backtesting.lookback_days")
    holdout_days: int | None = Field(None, ge=0, description="default pipeline.holdout_days")
    strategy_type: str | None = Field(None, max_length=10)
    timeframe: Literal[TIMEFRAMES] | None = None  # type: ignore[valid-type]
    provider: Literal["auto", "offline", "anthropic", "openai"] = "auto"
    data: str | None = Field(None, description="candle folder on the server; default system.data_dir")


class PipelineRunView(JobView):
    """A research run; `result` as `sixbtc pipeline --json` (run_id, candidates, passed, selected ...)."""


@router.post("/pipeline-runs", status_code=202, response_model=PipelineRunView, summary="Start a research run")
def start_run(body: PipelineIn, request: Request, response: Response) -> PipelineRunView:
    container = request.app.state.container
    settings = container.settings()
    candles = container.gate_candles(body.data or settings.system.data_dir, GATE_DAYS)
    strategy_type = body.strategy_type.upper() if body.strategy_type else None
    try:
        use_case = container.research_pipeline(choice=body.provider, candles=candles, strategy_type=strategy_type)
    except NoUsableProvider as exc:
        raise HTTPException(422, str(exc)) from None
    wanted = PipelineRequest(
        count=body.count, seed=body.seed, symbols=tuple(body.symbols),
        days=body.days or settings.backtesting.lookback_days,
        holdout_days=settings.pipeline.holdout_days if body.holdout_days is None else body.holdout_days,
        strategy_type=strategy_type, timeframe=body.timeframe)
    run_id = str(uuid.uuid4())
    job = container.pipeline_jobs().start(lambda progress: use_case.run(
        wanted, candles, lambda done, total, label: progress(done / max(total, 1), label), run_id=run_id),
        job_id=run_id)
    response.headers["Location"] = f"/pipeline-runs/{run_id}"
    return PipelineRunView.of(job)


@router.get("/pipeline-runs/{run_id}", response_model=PipelineRunView, summary="A research run's progress and result")
def get_run(run_id: str, request: Request) -> PipelineRunView:
    container = request.app.state.container
    try:
        return PipelineRunView.of(container.pipeline_jobs().status(run_id))
    except JobNotFound:
        pass  # not run by this process: the read model knows finished and interrupted runs
    container.projection_runner().catch_up()
    rows = container.read_models().rows("pipeline_runs", {"run_id": run_id})
    if not rows:
        raise HTTPException(404, f"no pipeline run {run_id!r}")
    return _from_row(rows[0])


def _from_row(row: dict[str, Any]) -> PipelineRunView:
    done = row["status"] == "completed"
    return PipelineRunView(id=row["run_id"], status="done" if done else "running", progress=1.0 if done else 0.0,
                           stage=row["status"] if done else "interrupted or running elsewhere (resume it with "
                           f"sixbtc pipeline --resume {row['run_id']})", created_at=row["started_at"],
                           updated_at=row["updated_at"], result=row.get("report"), error=None)
