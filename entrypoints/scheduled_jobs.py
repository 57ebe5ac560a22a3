"""The improvement cycle's jobs for the live loop, each from its config key.

- research, every `generation.frequency_hours`: one research run of `generation.batch_size`
  candidates on the cached candles (as `sixbtc pipeline` runs it; the offline generator when no AI
  provider has a key), so what is new is validated, backtested, scored and selected or not;
- history, daily: the incremental candle download of `sixbtc data download` for
  `trading.symbols` x `trading.timeframes` over `backtesting.lookback_days` (only missing bars);
- classification, every `classification.frequency_hours`: every strategy that passed the gates
  (TESTED or SELECTED, from any research run) re-ranked in each symbol's current regime on the
  same cached candles, into the top `classification.top_n` (application/rerank_strategies.py), so
  deployment and rotation always take from a current ranking. A research run ranks its own batch
  when it completes and, when it selected any, re-ranks everything at once the same way, so SELECTED
  never exceeds `classification.top_n` until the next hour.
- weekly-report, every 7 days: the weekly report of `sixbtc report weekly` (each live strategy
  against its backtest, their correlation, every rotation and stop with its reason), written under
  `<system.var_dir>/reports/weekly/` and served by GET /reports/weekly (application/weekly_report.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from application.download_history import DownloadHistory
from application.research_pipeline import PipelineRequest
from application.scheduler_runs import JobRunLog
from entrypoints.cli.pipeline_commands import GATE_DAYS
from entrypoints.container import Container
from entrypoints.live_runner import ScheduledJob, first_run_after
from entrypoints.settings import Settings

log = logging.getLogger(__name__)

HISTORY_EVERY = timedelta(days=1)
WEEKLY_REPORT_EVERY = timedelta(days=7)


def cycle_jobs(container: Container) -> list[ScheduledJob]:
    """The jobs, each first due one interval after its last recorded run: a restart never postpones them."""
    generation = container.settings().generation
    runs, now = JobRunLog(container.event_store()), container.clock().now()

    def job(job_id: str, name: str, action: Callable[[], None], every: timedelta) -> ScheduledJob:
        past = runs.runs(job_id)
        return ScheduledJob(job_id, name, action, every,
                            first_run_after(past[-1].started_at if past else None, every, now))

    return [
        job("research", "generate, validate, backtest and select a batch", research_job(container),
            timedelta(hours=generation.frequency_hours)),
        job("history", "incremental candle history download", history_job(container), HISTORY_EVERY),
        job("classification", "re-rank every tested strategy in the current regimes", classification_job(container),
            timedelta(hours=container.settings().classification.frequency_hours)),
        job("weekly-report", "weekly report: live against backtest, correlation, rotations and stops",
            weekly_report_job(container), WEEKLY_REPORT_EVERY),
    ]


def research_request(settings: Settings, now: datetime) -> PipelineRequest:
    """The seed is the run's start in seconds: the offline generator writes a new batch each time."""
    return PipelineRequest(count=settings.generation.batch_size, seed=int(now.timestamp()),
                           days=settings.backtesting.lookback_days, holdout_days=settings.pipeline.holdout_days)


def research_job(container: Container) -> Callable[[], None]:
    def run() -> None:
        settings = container.settings()
        candles = container.gate_candles(settings.system.data_dir, GATE_DAYS)
        use_case = container.research_pipeline(choice="auto", candles=candles, strategy_type=None)
        report = use_case.run(research_request(settings, container.clock().now()), candles)
        container.projection_runner().catch_up()
        log.info("research run", extra={"run_id": report.get("run_id"), "candidates": report.get("candidates"),
                                        "passed": report.get("passed"), "selected": len(report.get("selected", []))})
        if report.get("selected"):
            classification_job(container)()  # the batch's picks join the whole ranking now, not within the hour
    return run


def history_job(container: Container) -> Callable[[], None]:
    def run() -> None:
        settings = container.settings()
        download = DownloadHistory(container.binance_history(), container.candle_cache(), container.clock())
        results = download.execute(list(settings.trading.symbols), list(settings.trading.timeframes),
                                   float(settings.backtesting.lookback_days))
        log.info("history download", extra={"series": len(results), "rows_added": sum(r.rows_added for r in results),
                                            "gaps_left": sum(r.gaps_left for r in results)})
    return run


def classification_job(container: Container) -> Callable[[], None]:
    def run() -> None:
        settings = container.settings()
        candles = container.gate_candles(settings.system.data_dir, GATE_DAYS)
        report = container.rerank_strategies().run(candles)
        container.projection_runner().catch_up()
        log.info("classification run", extra={"ranking_id": report.ranking_id, "pool": report.pool,
                                              "selected": len(report.selected), "changed": report.changed,
                                              "unrankable": len(report.unrankable)})
    return run


def weekly_report_job(container: Container) -> Callable[[], None]:
    def run() -> None:
        report = container.weekly_reports().publish()
        log.info("weekly report", extra={"week": report.week, "strategies": len(report.strategies),
                                         "changes": len(report.changes)})
    return run
