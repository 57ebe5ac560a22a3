"""Prometheus metrics, read at scrape time from the read models, the log's running counts and the runtime.

Nothing is kept in prometheus_client's global registry: each container gets its own registry
holding one collector, so two apps in a process (tests) never share or double-register series.
A database that does not answer does not fail the scrape: `sixbtc_database_up` says 0 and the
series it would have fed are left out, while the scheduler's and the feed's are still served.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from application.ports.clock import Clock
from application.ports.event_store import EventStoreError
from application.ports.read_models import ReadModelStore
from application.projections.live_stats import LiveStats, LiveStatsView
from entrypoints.job_timings import BUCKETS
from entrypoints.logging_setup import scrub
from entrypoints.runtime import ProcessRuntime

log = logging.getLogger(__name__)

STRATEGY = ["strategy_id", "subaccount"]
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The classic text format, what generate_latest writes and every Prometheus version reads (newer
prometheus_client versions name 1.0.0 as their latest, which only Prometheus 3 negotiates)."""


class SixbtcCollector(Collector):
    def __init__(self, stats: LiveStats, read_models: ReadModelStore, runtime: ProcessRuntime, clock: Clock) -> None:
        self._stats = stats
        self._read_models = read_models
        self._runtime = runtime
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("sixbtc_database_up", "1 when the event store and read models answered this scrape")
        errors = CounterMetricFamily("sixbtc_errors", "Failures: strategy decisions (from the log) and scheduled jobs",
                                     labels=["source", *STRATEGY])
        try:
            view = self._stats.catch_up()
            positions = self._read_models.rows("subaccount_positions")
            subaccounts = self._read_models.rows("subaccounts")
        except EventStoreError as exc:
            log.warning("metrics without the database", extra={"error": scrub(str(exc))})
            up.add_metric([], 0)
            yield up
        else:
            up.add_metric([], 1)
            yield up
            yield from _portfolio(view)
            yield _open_positions(positions, subaccounts)
            yield from _orders(view)
            yield from _pipeline(view)
            for (strategy, number), count in sorted(view.decision_errors.items()):
                errors.add_metric(["decision", strategy, str(number)], count)
        yield from self._scheduler(errors)
        yield errors
        yield from self._candles()

    def _scheduler(self, errors: CounterMetricFamily) -> Iterator[Metric]:
        scheduler = self._runtime.scheduler
        if scheduler is None:
            return
        running = GaugeMetricFamily("sixbtc_scheduler_running", "1 while the live loop's scheduler takes jobs")
        running.add_metric([], 1 if scheduler.running else 0)
        durations = HistogramMetricFamily("sixbtc_scheduler_job_duration_seconds", "Wall time of each scheduled job",
                                          labels=["job"])
        runs = CounterMetricFamily("sixbtc_scheduler_job_runs", "Scheduled job runs by outcome",
                                   labels=["job", "outcome"])
        misfires = CounterMetricFamily("sixbtc_scheduler_job_misfires", "Scheduled runs missed (the previous one ran "
                                       "late or the process was busy)", labels=["job"])
        failed = 0
        for job, stats in sorted(scheduler.timings.snapshot().items()):
            buckets = [(_le(b), float(n)) for b, n in zip(BUCKETS, stats.buckets, strict=True)]
            durations.add_metric([job], [*buckets, ("+Inf", float(stats.runs))], sum_value=stats.seconds)
            runs.add_metric([job, "ok"], stats.runs - stats.errors)
            runs.add_metric([job, "error"], stats.errors)
            misfires.add_metric([job], stats.misfires)
            failed += stats.errors
        errors.add_metric(["scheduler", "", ""], failed)
        yield from (running, durations, runs, misfires)

    def _candles(self) -> Iterator[Metric]:
        feed = self._runtime.feed
        if feed is None:
            return
        age = GaugeMetricFamily("sixbtc_last_candle_age_seconds", "Seconds since the newest closed candle of the live "
                                "feed closed (absent: none yet)", labels=["symbol", "timeframe"])
        now = self._clock.now()
        for symbol, timeframe in feed.series:
            seconds = feed.newest_close_age(symbol, timeframe, now)
            if seconds is not None:
                age.add_metric([symbol, timeframe], seconds)
        yield age


def _portfolio(view: LiveStatsView) -> Iterator[Metric]:
    equity = GaugeMetricFamily("sixbtc_equity_usd", "Subaccount equity at its latest snapshot", labels=STRATEGY)
    pnl = GaugeMetricFamily("sixbtc_pnl_usd", "PnL at the latest snapshot", labels=[*STRATEGY, "kind"])
    drawdown = GaugeMetricFamily("sixbtc_drawdown_ratio", "Drawdown from peak equity (0.1 = 10%)", labels=STRATEGY)
    taken = GaugeMetricFamily("sixbtc_snapshot_timestamp_seconds", "When the latest snapshot was taken",
                              labels=STRATEGY)
    for number, snap in sorted(view.snapshots.items()):
        labels = [snap.strategy_id or "", str(number)]
        equity.add_metric(labels, snap.equity)
        pnl.add_metric([*labels, "realized"], snap.realized_pnl)
        pnl.add_metric([*labels, "unrealized"], snap.unrealized_pnl)
        pnl.add_metric([*labels, "daily"], snap.daily_pnl)
        drawdown.add_metric(labels, snap.drawdown)
        taken.add_metric(labels, snap.taken_at.timestamp())
    yield from (equity, pnl, drawdown, taken)


def _open_positions(positions: list[dict[str, Any]], subaccounts: list[dict[str, Any]]) -> Metric:
    """From the positions read model (what is held now), with a zero for every active subaccount."""
    counts: dict[tuple[str, str], int] = {
        (str(r.get("strategy_id") or ""), str(r["subaccount"])): 0
        for r in subaccounts if r.get("status") == "active"}
    for row in positions:
        if row.get("direction") and row.get("size"):
            key = (str(row.get("strategy_id") or ""), str(row["subaccount"]))
            counts[key] = counts.get(key, 0) + 1
    family = GaugeMetricFamily("sixbtc_open_positions", "Open positions per subaccount", labels=STRATEGY)
    for labels, count in sorted(counts.items()):
        family.add_metric(list(labels), count)
    return family


def _orders(view: LiveStatsView) -> Iterator[Metric]:
    sent = CounterMetricFamily("sixbtc_orders_sent", "Orders sent to the venue (market, stop_loss, take_profit)",
                               labels=[*STRATEGY, "kind"])
    for (strategy, number, kind), count in sorted(view.orders_sent.items()):
        sent.add_metric([strategy, str(number), kind], count)
    refused = CounterMetricFamily("sixbtc_orders_refused", "Orders rejected by the venue, or signals refused by the "
                                  "risk policy", labels=[*STRATEGY, "source"])
    for (strategy, number, source), count in sorted(view.orders_refused.items()):
        refused.add_metric([strategy, str(number), source], count)
    yield from (sent, refused)


def _pipeline(view: LiveStatsView) -> Iterator[Metric]:
    evaluated = CounterMetricFamily("sixbtc_pipeline_strategies_evaluated", "Candidates evaluated by research "
                                    "pipeline runs, by outcome", labels=["outcome"])
    for outcome in ("passed", "failed"):
        evaluated.add_metric([outcome], view.evaluated.get(outcome, 0))
    runs = CounterMetricFamily("sixbtc_pipeline_runs", "Research pipeline runs started and completed",
                               labels=["status"])
    for status in ("started", "completed"):
        runs.add_metric([status], view.runs.get(status, 0))
    throughput = GaugeMetricFamily("sixbtc_pipeline_throughput_strategies_per_minute", "Candidates per minute of "
                                   "the latest pipeline run, from its start to its last evaluation", labels=["run_id"])
    latest = view.latest_run
    rate = latest.per_minute() if latest else None
    if latest is not None and rate is not None:
        throughput.add_metric([latest.run_id], rate)
    yield from (evaluated, runs, throughput)


def _le(bound: float) -> str:
    return repr(float(bound))


def collector_registry(stats: LiveStats, read_models: ReadModelStore, runtime: ProcessRuntime,
                       clock: Clock) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SixbtcCollector(stats, read_models, runtime, clock))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
