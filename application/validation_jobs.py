"""Use case: validations as jobs (POST /validations); the outcome is also a validation event."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from application.job_queue import JobQueue
from application.ports.candle_source import CandleSource
from application.ports.clock import Clock
from application.ports.jobs import Job, JobStore, TaskRunner
from application.validate_strategy import ValidateStrategy, ValidationRequest

KIND = "validation"


class ValidationJobs:
    def __init__(self, jobs: JobStore, runner: TaskRunner, validate: Callable[[], ValidateStrategy], clock: Clock,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self._queue = JobQueue(KIND, jobs, runner, clock, new_id)
        self._validate = validate

    def start(self, request: ValidationRequest, candles: CandleSource) -> Job:
        return self._queue.start(lambda progress: self._validate().execute(request, candles,
                                                                           progress).to_json_dict())

    def status(self, job_id: str) -> Job:
        return self._queue.status(job_id)
