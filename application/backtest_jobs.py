"""Use case: run backtests as jobs, so an HTTP request returns at once and is polled for progress.

The job's state lives in a JobStore; its result is also a BacktestCompleted event (recorded by
RunBacktest), so it outlives the job. A failing backtest marks its job failed with the reason;
an unexpected error is logged with its traceback as well, never dropped.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from application.backtest import BacktestRequest, RunBacktest
from application.ports.candle_source import CandleSource, FundingSource
from application.ports.clock import Clock
from application.ports.jobs import Job, JobStore, TaskRunner
from application.ports.market_data import MarketDataError
from domain.errors import DomainError

logger = logging.getLogger(__name__)

KIND = "backtest"


class BacktestJobs:
    def __init__(self, jobs: JobStore, runner: TaskRunner, backtest: Callable[[], RunBacktest], clock: Clock,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self._jobs = jobs
        self._runner = runner
        self._backtest = backtest
        self._clock = clock
        self._new_id = new_id

    def start(self, request: BacktestRequest, candles: CandleSource, funding: FundingSource | None = None) -> Job:
        job = self._jobs.create(self._new_id(), KIND, self._clock.now())
        self._runner.submit(lambda: self._run(job.job_id, request, candles, funding))
        return job

    def status(self, job_id: str) -> Job:
        return self._jobs.get(job_id)

    def _run(self, job_id: str, request: BacktestRequest, candles: CandleSource,
             funding: FundingSource | None) -> None:
        def progress(fraction: float, stage: str) -> None:
            self._jobs.update(job_id, self._clock.now(), status="running", progress=fraction, stage=stage)

        progress(0.0, "starting")
        try:
            report = self._backtest().execute(request, candles, funding, progress)
        except (DomainError, MarketDataError, LookupError, OSError, ValueError) as exc:
            logger.warning("backtest job %s failed: %s", job_id, exc)
            self._jobs.update(job_id, self._clock.now(), status="failed", stage="failed",
                              error=f"{type(exc).__name__}: {exc}")
            return
        except Exception as exc:
            logger.exception("backtest job %s failed unexpectedly", job_id)
            self._jobs.update(job_id, self._clock.now(), status="failed", stage="failed",
                              error=f"internal error: {type(exc).__name__}: {exc}")
            raise
        self._jobs.update(job_id, self._clock.now(), status="done", progress=1.0, stage="done",
                          result=report.to_json_dict())
