"""Weekly reports as files: `<folder>/2026-W48.json` and `2026-W48.md`, one pair per ISO week.

Each file is written to a temporary file in the same folder, synced, then renamed over its
name, so a reader (the API, a person) sees the old report or the new one, never a part. The
Markdown goes first and the JSON last: a week is listed once its JSON is there, so a crash
between the two leaves the old pair or a new Markdown beside the old JSON, never a listed week
without its report. Names come from check_week only, so nothing is written outside the folder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adapters.local.atomic_file import write_atomically
from application.ports.report_store import (
    InvalidReport,
    InvalidWeek,
    ReportNotFound,
    ReportStoreError,
    canonical_report,
    check_week,
)


class FileReportStore:
    def __init__(self, folder: Path | str) -> None:
        self._folder = Path(folder)

    @property
    def folder(self) -> Path:
        return self._folder

    def save(self, week: str, report: Mapping[str, Any], markdown: str) -> None:
        text = json.dumps(canonical_report(week, report), indent=2, allow_nan=False, ensure_ascii=False) + "\n"
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            write_atomically(self._folder / f"{week}.md", lambda f: f.write(markdown.encode("utf-8")))
            write_atomically(self._folder / f"{week}.json", lambda f: f.write(text.encode("utf-8")))
        except OSError as exc:
            raise ReportStoreError(f"cannot write the report for {week} under {self._folder}: {exc}") from exc

    def weeks(self) -> list[str]:
        if not self._folder.is_dir():
            return []
        return sorted(path.stem for path in self._folder.glob("*.json") if _is_week(path.stem))

    def load(self, week: str) -> dict[str, Any]:
        try:
            report: dict[str, Any] = json.loads(self._read(week, "json"))
        except json.JSONDecodeError as exc:
            raise InvalidReport(f"the stored report for {week} is not JSON: {exc}") from None
        if not isinstance(report, dict) or report.get("week") != week:
            raise InvalidReport(f"the file {week}.json holds no report for {week}")
        return report

    def markdown(self, week: str) -> str:
        return self._read(week, "md")

    def _read(self, week: str, suffix: str) -> str:
        path = self._folder / f"{check_week(week)}.{suffix}"
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ReportNotFound(f"no weekly report for {week}") from None
        except OSError as exc:
            raise ReportStoreError(f"cannot read {path}: {exc}") from exc


def _is_week(name: str) -> bool:
    try:
        check_week(name)
    except InvalidWeek:
        return False
    return True
