"""In-memory report store: the file store's rules (ISO week names, plain JSON, one report per week), no files."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from typing import Any

from application.ports.report_store import ReportNotFound, canonical_report, check_week


class InMemoryReportStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reports: dict[str, tuple[dict[str, Any], str]] = {}

    def save(self, week: str, report: Mapping[str, Any], markdown: str) -> None:
        stored = (canonical_report(week, report), str(markdown))
        with self._lock:
            self._reports[week] = stored

    def weeks(self) -> list[str]:
        with self._lock:
            return sorted(self._reports)

    def load(self, week: str) -> dict[str, Any]:
        return copy.deepcopy(self._get(week)[0])

    def markdown(self, week: str) -> str:
        return self._get(week)[1]

    def _get(self, week: str) -> tuple[dict[str, Any], str]:
        check_week(week)
        with self._lock:
            found = self._reports.get(week)
        if found is None:
            raise ReportNotFound(f"no weekly report for {week}")
        return found
