"""The weekly reports: listed, read (JSON, or Markdown for people), and built now by POST.

The runner writes one every 7 days, `sixbtc report weekly` and POST /reports/weekly whenever asked;
all three go through the same report store, so what GET serves is what the files under
<system.var_dir>/reports/weekly/ hold. POST changes state, so it needs an API key (security.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Path, Request, Response
from fastapi.responses import PlainTextResponse

from application.ports.report_store import ReportNotFound, ReportStore
from entrypoints.api.report_schemas import WeeklyReportIndex, WeeklyReportView

router = APIRouter(tags=["reports"])
WEEK = Path(pattern=r"^\d{4}-W\d{2}$", description="ISO week, e.g. 2026-W48 (422 when it is not one)",
            examples=["2026-W48"])


class MarkdownResponse(PlainTextResponse):
    media_type = "text/markdown"


@router.get("/reports/weekly", response_model=WeeklyReportIndex, summary="The weeks with a weekly report")
def list_reports(request: Request) -> WeeklyReportIndex:
    weeks = _store(request).weeks()
    return WeeklyReportIndex(weeks=weeks, latest=weeks[-1] if weeks else None)


@router.post("/reports/weekly", status_code=201, response_model=WeeklyReportView,
             summary="Build the report of the 7 days ending now, store it under its week and return it")
def build_report(request: Request, response: Response) -> WeeklyReportView:
    report = request.app.state.container.weekly_reports().publish()
    response.headers["Location"] = f"/reports/weekly/{report.week}"
    return WeeklyReportView.model_validate(report.to_dict())


@router.get("/reports/weekly/latest", response_model=WeeklyReportView, summary="The newest weekly report",
            responses={404: {"description": "no weekly report has been written yet"}})
def latest_report(request: Request) -> WeeklyReportView:
    weeks = _store(request).weeks()
    if not weeks:
        raise HTTPException(404, "no weekly report has been written yet: `sixbtc report weekly` or "
                                 "POST /reports/weekly builds one, and `sixbtc run` every 7 days")
    return WeeklyReportView.model_validate(_load(request, weeks[-1]))


@router.get("/reports/weekly/{week}", response_model=WeeklyReportView, summary="One week's report",
            responses={404: {"description": "no report for this week"}})
def get_report(request: Request, week: str = WEEK) -> WeeklyReportView:
    return WeeklyReportView.model_validate(_load(request, week))


@router.get("/reports/weekly/{week}/markdown", response_class=MarkdownResponse,
            summary="One week's report as Markdown, for people", responses={404: {"description": "no report"}})
def get_markdown(request: Request, week: str = WEEK) -> MarkdownResponse:
    try:
        return MarkdownResponse(_store(request).markdown(week))
    except ReportNotFound as exc:
        raise HTTPException(404, str(exc)) from None


def _store(request: Request) -> ReportStore:
    store: ReportStore = request.app.state.container.report_store()
    return store


def _load(request: Request, week: str) -> dict[str, Any]:
    try:
        return _store(request).load(week)
    except ReportNotFound as exc:
        raise HTTPException(404, str(exc)) from None
