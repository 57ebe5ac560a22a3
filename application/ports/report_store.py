"""Report store port: each weekly report kept as JSON (for the API) and Markdown (for people), one per ISO week.

A report is named by its ISO week (2026-W48); saving a week replaces only that week's report (the
latest build of a week wins), and every adapter refuses a name that is not an ISO week, so a name
can never reach outside the store (no path, no "..") nor collide with another week's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol, runtime_checkable

from domain.errors import DomainError

_WEEK = re.compile(r"(\d{4})-W(\d{2})")


class InvalidWeek(DomainError):
    """Not an ISO week name such as 2026-W48 (a week that exists in its year)."""


class ReportStoreError(Exception):
    """Base of the errors a report store raises, whatever the backend."""


class ReportNotFound(ReportStoreError, LookupError):
    """No report is stored for this week."""


class InvalidReport(ReportStoreError):
    """A report that cannot be stored as plain JSON, or that names another week than the one it is saved as."""


def check_week(week: str) -> str:
    """The week name unchanged when it is an ISO week (2026-W53 exists, 2025-W53 does not)."""
    found = _WEEK.fullmatch(week) if isinstance(week, str) else None
    if found is None:
        raise InvalidWeek(f"{week!r} is not an ISO week name like 2026-W48")
    try:
        date.fromisocalendar(int(found[1]), int(found[2]), 1)
    except ValueError:
        raise InvalidWeek(f"{week!r} is not a week of {found[1]}") from None
    return week


def canonical_report(week: str, report: Mapping[str, Any]) -> dict[str, Any]:
    """The report as every store returns it (JSON round-tripped); refuses NaN and a mismatched week."""
    check_week(week)
    if report.get("week") != week:
        raise InvalidReport(f"the report is for week {report.get('week')!r}, not {week!r}")
    try:
        decoded: dict[str, Any] = json.loads(json.dumps(report, allow_nan=False, ensure_ascii=False))
    except (TypeError, ValueError) as exc:
        raise InvalidReport(f"the report for {week} is not plain JSON: {exc}") from None
    return decoded


@runtime_checkable
class ReportStore(Protocol):
    def save(self, week: str, report: Mapping[str, Any], markdown: str) -> None:
        """Store both forms of the week's report, replacing that week's only; a reader sees the old
        report or the new one, never a part of either."""
        ...

    def weeks(self) -> list[str]:
        """The weeks with a report, oldest first."""
        ...

    def load(self, week: str) -> dict[str, Any]:
        """The week's report as saved (JSON types); ReportNotFound when there is none."""
        ...

    def markdown(self, week: str) -> str:
        """The week's report for people; ReportNotFound when there is none."""
        ...
