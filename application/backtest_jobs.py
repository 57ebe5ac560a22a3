"""Use case: backtests as jobs (POST /backtests); the result is also a BacktestCompleted event."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from application.backtest import BacktestRequest, RunBacktest
from application.job_queue import JobQueue
from application.ports.candle_source import CandleSource, FundingSource
from application.ports.clock import Clock
from application.ports.jobs import Job, JobStore, TaskRunner

KIND = "backtest"


class BacktestJobs:
    def __init__(self, jobs: JobStore, runner: TaskRunner, backtest: Callable[[], RunBacktest], clock: Clock,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self._queue = JobQueue(KIND, jobs, runner, clock, new_id)
        self._backtest = backtest

    def start(self, request: BacktestRequest, candles: CandleSource, funding: FundingSource | None = None) -> Job:
        return self._queue.start(lambda progress: self._backtest().execute(request, candles, funding,
                                                                           progress).to_json_dict())

    def status(self, job_id: str) -> Job:
        return self._queue.status(job_id)
