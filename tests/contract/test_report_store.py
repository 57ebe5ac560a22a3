"""The ReportStore contract, run against every adapter: memory and files; then what only files promise."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

from adapters.memory.report_store import InMemoryReportStore
from adapters.reports.files import FileReportStore
from application.ports.report_store import InvalidReport, InvalidWeek, ReportNotFound, ReportStore, ReportStoreError


@pytest.fixture(params=["memory", "files"])
def reports(request: pytest.FixtureRequest, tmp_path: Path) -> ReportStore:
    if request.param == "memory":
        return InMemoryReportStore()
    return FileReportStore(tmp_path / "var" / "reports" / "weekly")


def report(week: str, **extra: Any) -> dict[str, Any]:
    return {"week": week, "strategies": [{"strategy_id": "s1", "daily_returns": (0.01, None)}], **extra}


def test_a_saved_report_loads_back_as_json_with_its_markdown(reports: ReportStore) -> None:
    reports.save("2026-W48", report("2026-W48", note="ünïcode"), "# 2026-W48\n")
    assert reports.load("2026-W48") == {"week": "2026-W48", "note": "ünïcode",
                                        "strategies": [{"strategy_id": "s1", "daily_returns": [0.01, None]}]}
    assert reports.markdown("2026-W48") == "# 2026-W48\n"


def test_weeks_are_listed_oldest_first_across_years(reports: ReportStore) -> None:
    assert reports.weeks() == []
    for week in ("2026-W10", "2025-W52", "2026-W01", "2026-W53"):
        reports.save(week, report(week), f"# {week}\n")
    assert reports.weeks() == ["2025-W52", "2026-W01", "2026-W10", "2026-W53"]


def test_saving_a_week_again_replaces_that_week_only(reports: ReportStore) -> None:
    reports.save("2026-W47", report("2026-W47", n=1), "old 47")
    reports.save("2026-W48", report("2026-W48", n=1), "old 48")
    reports.save("2026-W48", report("2026-W48", n=2), "new 48")
    assert (reports.load("2026-W48")["n"], reports.markdown("2026-W48")) == (2, "new 48")
    assert (reports.load("2026-W47")["n"], reports.markdown("2026-W47")) == (1, "old 47")
    assert reports.weeks() == ["2026-W47", "2026-W48"]


def test_an_unknown_week_is_not_found(reports: ReportStore) -> None:
    reports.save("2026-W48", report("2026-W48"), "x")
    with pytest.raises(ReportNotFound, match="2026-W49"):
        reports.load("2026-W49")
    with pytest.raises(ReportNotFound):
        reports.markdown("2026-W01")


@pytest.mark.parametrize("week", ["2026-48", "2026-W5", "2026-W00", "2025-W53", "../2026-W48", "2026-W48.json",
                                  "2026-W48\x00", "latest", ""])
def test_a_name_that_is_not_an_iso_week_is_refused_everywhere(reports: ReportStore, week: str) -> None:
    with pytest.raises(InvalidWeek):
        reports.save(week, report(week), "x")
    with pytest.raises(InvalidWeek):
        reports.load(week)
    with pytest.raises(InvalidWeek):
        reports.markdown(week)
    assert reports.weeks() == []


def test_a_report_for_another_week_or_not_plain_json_is_refused_and_nothing_stored(reports: ReportStore) -> None:
    with pytest.raises(InvalidReport, match="2026-W47"):
        reports.save("2026-W48", report("2026-W47"), "x")
    with pytest.raises(InvalidReport, match="plain JSON"):
        reports.save("2026-W48", report("2026-W48", sharpe=math.nan), "x")
    with pytest.raises(InvalidReport):
        reports.save("2026-W48", report("2026-W48", when=object()), "x")
    assert reports.weeks() == []


def test_a_loaded_report_is_the_callers_own_copy(reports: ReportStore) -> None:
    reports.save("2026-W48", report("2026-W48"), "x")
    reports.load("2026-W48")["strategies"].clear()
    assert reports.load("2026-W48")["strategies"]


# --- files only ---------------------------------------------------------------------------------


def test_files_are_named_by_week_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    folder = tmp_path / "reports" / "weekly"
    FileReportStore(folder).save("2026-W48", report("2026-W48"), "# report\n")
    assert sorted(p.name for p in folder.iterdir()) == ["2026-W48.json", "2026-W48.md"]
    assert json.loads((folder / "2026-W48.json").read_text())["week"] == "2026-W48"
    assert (folder / "2026-W48.md").read_text() == "# report\n"


def test_a_write_that_fails_leaves_the_old_report_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FileReportStore(tmp_path)
    store.save("2026-W48", report("2026-W48", n=1), "old")

    def refuse(_: object, __: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ReportStoreError, match="disk full"):
        store.save("2026-W48", report("2026-W48", n=2), "new")
    monkeypatch.undo()
    assert (store.load("2026-W48")["n"], store.markdown("2026-W48")) == (1, "old")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-W48.json", "2026-W48.md"]


def test_other_files_in_the_folder_are_not_weeks(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text("{}")
    (tmp_path / ".2026-W47.json.abc.tmp").write_text("{")
    (tmp_path / "2026-W47.json").write_text(json.dumps(report("2026-W46")))
    store = FileReportStore(tmp_path)
    assert store.weeks() == ["2026-W47"]
    with pytest.raises(InvalidReport, match="no report for 2026-W47"):
        store.load("2026-W47")
