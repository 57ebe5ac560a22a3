"""GET /ui: the web dashboard, one page drawn in the browser with Plotly.js from read-only JSON.

The page and its assets come from this package (plotly.js from the `plotly` Python package), so
the dashboard works with no internet. Strategies and subaccounts (with their open positions) come
from GET /strategies and GET /subaccounts; the rest from /ui/data/....
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from application.ports.event_store import EventStoreError
from application.ports.jobs import Job, JobNotFound
from application.ports.read_models import ReadModelStore
from entrypoints.api.dashboard_schemas import EquityCurveView, PipelineRunSummary, SystemStatusView, TradeView
from entrypoints.dashboard_views import equity_curves, pipeline_runs, recent_trades, strategy_counts
from entrypoints.execution_views import subaccount_overview
from entrypoints.logging_setup import scrub
from entrypoints.version import VERSION

router = APIRouter(tags=["dashboard"])
STATIC = Path(__file__).with_name("ui_static")
ASSET_CACHE = "public, max-age=3600"


@cache
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(STATIC), autoescape=select_autoescape(["html", "j2"]))


@cache
def plotly_js() -> Path:
    """plotly.min.js as shipped inside the `plotly` package (the same file plotly.offline embeds)."""
    path = Path(str(files("plotly") / "package_data" / "plotly.min.js"))
    if not path.is_file():
        raise FileNotFoundError(f"plotly {version('plotly')} ships no package_data/plotly.min.js at {path}")
    return path


def _assets() -> dict[str, tuple[Path, str]]:
    return {"plotly.min.js": (plotly_js(), "text/javascript"),
            "dashboard.js": (STATIC / "dashboard.js", "text/javascript"),
            "dashboard.css": (STATIC / "dashboard.css", "text/css")}


@router.get("/ui", response_class=HTMLResponse, include_in_schema=False)
def page(request: Request) -> HTMLResponse:
    settings = request.app.state.container.settings()
    html = _templates().get_template("dashboard.html.j2").render(
        name=settings.system.name, refresh_seconds=settings.monitoring.dashboard.refresh_seconds, version=VERSION,
        plotly_version=version("plotly"))
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


@router.get("/ui/assets/{name}", include_in_schema=False)
def asset(name: str) -> FileResponse:
    found = _assets().get(name)
    if found is None:
        raise HTTPException(404, f"no dashboard asset {name!r}")
    path, media_type = found
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": ASSET_CACHE})


def _caught_up(request: Request) -> ReadModelStore:
    """The read models after applying any event not yet projected, as GET /subaccounts does."""
    container = request.app.state.container
    container.projection_runner().catch_up()
    read_models: ReadModelStore = container.read_models()
    return read_models


@router.get("/ui/data/status", response_model=SystemStatusView,
            summary="System status for the dashboard header: mode, database, strategies and positions")
def status(request: Request, response: Response) -> SystemStatusView:
    container = request.app.state.container
    settings = container.settings()
    now = container.clock().now()
    common = {"mode": container.exchange_mode(), "version": VERSION, "generated_at": now,
              "uptime_seconds": (now - request.app.state.started_at).total_seconds(),
              "refresh_seconds": settings.monitoring.dashboard.refresh_seconds}
    try:
        head = container.event_store().head_position()
        read_models = _caught_up(request)
    except EventStoreError as exc:
        response.status_code = 503
        return SystemStatusView(status="degraded", database="unreachable", events_stored=None,
                                detail=scrub(str(exc)), **common)
    overview = subaccount_overview(read_models, settings.trading.subaccounts.count)
    return SystemStatusView(
        status="ok", database="reachable", events_stored=head, strategies=strategy_counts(read_models),
        active_subaccounts=sum(1 for s in overview if s["status"] == "active"),
        open_positions=sum(len(s["positions"]) for s in overview), **common)


@router.get("/ui/data/equity", response_model=list[EquityCurveView],
            summary="Equity and drawdown per subaccount, from its performance snapshots")
def equity(request: Request, max_points: int = Query(1000, ge=10, le=20000,
                                                      description="thin each curve to at most this many points")
           ) -> list[EquityCurveView]:
    return [EquityCurveView.model_validate(c) for c in equity_curves(_caught_up(request), max_points)]


@router.get("/ui/data/trades", response_model=list[TradeView], summary="The latest closed trades, newest first")
def trades(request: Request, limit: int = Query(50, ge=1, le=1000)) -> list[TradeView]:
    return [TradeView.model_validate(t) for t in recent_trades(_caught_up(request), limit)]


@router.get("/ui/data/pipeline-runs", response_model=list[PipelineRunSummary],
            summary="The latest research runs, newest first, with their progress")
def runs(request: Request, limit: int = Query(20, ge=1, le=200)) -> list[PipelineRunSummary]:
    container = request.app.state.container
    jobs = container.pipeline_jobs()

    def job_of(run_id: str) -> Job | None:
        try:
            found: Job = jobs.status(run_id)
        except JobNotFound:
            return None
        return found

    rows = pipeline_runs(_caught_up(request), container.event_store(), job_of, limit)
    return [PipelineRunSummary.model_validate(r) for r in rows]
