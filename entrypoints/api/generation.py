"""POST /strategies/generate starts a generation job; GET /strategies/generate/{id} reports it.

The job runs `sixbtc generate`'s use case: each strategy goes through the gate in the sandbox
and is stored as a StrategyGenerated event with its provenance (see GET /strategies).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from application.generate_strategies import GenerationRequest
from application.ports.jobs import JobNotFound
from domain.strategy import TIMEFRAMES
from entrypoints.api.job_views import JobView
from entrypoints.generation import NoUsableProvider

router = APIRouter(tags=["generation"])
GATE_DAYS = 730


class GenerateIn(BaseModel):
    count: int = Field(10, ge=1, le=1000, description="strategies to generate")
    strategy_type: str | None = Field(None, max_length=10, description="MOM, REV, TRN, BRE, VOL or PAT; default rotate")
    timeframe: Literal[TIMEFRAMES] | None = Field(None, description="default: rotate over trading.timeframes")  # type: ignore[valid-type]
    provider: Literal["auto", "offline", "anthropic", "openai"] = "auto"
    seed: int = Field(0, ge=0, description="offline composer seed: the same seed repeats the run")
    data: str | None = Field(None, description="candle folder on the server for the gate; default system.data_dir")


class GenerationJobView(JobView):
    """A generation job; `result` is the run's report (as `sixbtc generate --json`)."""


@router.post("/strategies/generate", status_code=202, response_model=GenerationJobView,
             summary="Start a strategy generation job")
def start_generation(body: GenerateIn, request: Request, response: Response) -> GenerationJobView:
    container = request.app.state.container
    settings = container.settings()
    candles = container.gate_candles(body.data or settings.system.data_dir, GATE_DAYS)
    strategy_type = body.strategy_type.upper() if body.strategy_type else None
    try:
        use_case = container.generate_strategies(choice=body.provider, candles=candles, strategy_type=strategy_type)
    except NoUsableProvider as exc:
        raise HTTPException(422, str(exc)) from None
    wanted = GenerationRequest(count=body.count, strategy_type=strategy_type, timeframe=body.timeframe, seed=body.seed)
    job = container.generation_jobs().start(lambda progress: use_case.execute(
        wanted, candles, lambda done, total, label: progress(done / total, f"{label} ({done}/{total})")).to_json_dict())
    response.headers["Location"] = f"/strategies/generate/{job.job_id}"
    return GenerationJobView.of(job)


@router.get("/strategies/generate/{job_id}", response_model=GenerationJobView, summary="A generation job's progress")
def get_generation(job_id: str, request: Request) -> GenerationJobView:
    try:
        job = request.app.state.container.generation_jobs().status(job_id)
    except JobNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return GenerationJobView.of(job)
