"""The record of scheduled job runs: one SchedulerJobRan per run, appended to the job's own stream.

Each job has a stream of its own (scheduler-{job id}), written without a version check: runs of
different jobs never contend, and one job never overlaps itself (the scheduler sees to that).
"""

from __future__ import annotations

from datetime import datetime

from application.event_codec import decode, encode
from application.ports.event_store import EventStore
from domain.scheduler_events import SchedulerJobRan


class JobRunLog:
    def __init__(self, events: EventStore) -> None:
        self._events = events

    def record(self, job_id: str, started_at: datetime, finished_at: datetime, *, outcome: str,
               detail: str = "") -> SchedulerJobRan:
        event = SchedulerJobRan(aggregate_id=job_id, occurred_at=finished_at, job_id=job_id, started_at=started_at,
                                finished_at=finished_at, outcome=outcome, detail=detail)
        self._events.append(event.stream_id, [encode(event, correlation_id=event.event_id)], None)
        return event

    def runs(self, job_id: str) -> list[SchedulerJobRan]:
        """This job's runs, oldest first."""
        found = [decode(r) for r in self._events.read_stream(f"{SchedulerJobRan.stream_prefix}-{job_id}")]
        return [e for e in found if isinstance(e, SchedulerJobRan)]
