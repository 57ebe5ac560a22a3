"""/metrics and /ready on PostgreSQL, with data made the real way: a paper deployment, a bar decided by
the live trader, and the live loop (as `sixbtc run` builds it) taking snapshots on its health port.

The candle feed is in memory (a WebSocket would need the internet) and the clock is manual, so ages and
freshness are exact; the scheduler runs for real, its snapshot job every 1.2 seconds.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from adapters.inprocess.sandbox import InProcessSandbox
from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.live_candles import MemoryLiveCandles
from application.deploy_strategies import DeploymentRequest
from application.ports.event_store import EventStoreUnavailable
from application.strategy_repository import StrategyRepository
from domain.candles import timeframe_delta
from domain.lifecycle import Strategy
from domain.risk import RiskPolicy
from entrypoints.api.app import create_app
from entrypoints.cli.run_commands import build_runner
from entrypoints.container import Container
from entrypoints.health_server import runner_health
from entrypoints.live_runner import LiveRunner, live_strategies
from tests.e2e.execution_support import T0, write_config
from tests.e2e.test_execution_api import container_for
from tests.execution_support import ALWAYS_LONG

BROKEN = ALWAYS_LONG.replace("n = len(df)", "raise ZeroDivisionError('bad strategy')")
SYMBOLS, TIMEFRAMES = ("BTC", "ETH", "SOL"), ("15m", "30m", "1h", "4h", "1d")
PRICES = {"BTC": 60000.0, "ETH": 3000.0, "SOL": 150.0}
NOW = T0 + timedelta(hours=1, seconds=5)
"""Five seconds after the 00:00 hourly bar closed."""
SERIES = ("sixbtc_equity_usd", "sixbtc_pnl_usd", "sixbtc_drawdown_ratio", "sixbtc_open_positions",
          "sixbtc_orders_sent_total", "sixbtc_orders_refused_total", "sixbtc_errors_total",
          "sixbtc_last_candle_age_seconds", "sixbtc_scheduler_job_duration_seconds_bucket",
          "sixbtc_scheduler_job_runs_total", "sixbtc_scheduler_job_misfires_total",
          "sixbtc_pipeline_strategies_evaluated_total", "sixbtc_pipeline_runs_total")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def feed(clock: ManualClock) -> MemoryLiveCandles:
    """Every configured series up to its bar forming at NOW, and the minute bar the paper venue fills at."""
    candles = MemoryLiveCandles(clock=clock)
    for symbol in SYMBOLS:
        price = PRICES[symbol]
        for timeframe in TIMEFRAMES:
            period = timeframe_delta(timeframe)
            forming = pd.Timestamp(NOW).floor(period)
            for k in range(30, -1, -1):
                candles.append(symbol, timeframe, (forming - k * period).to_pydatetime(), price, price * 1.001,
                               price * 0.999, price)
        candles.append(symbol, "1m", NOW.replace(second=0), price, price, price, price)
    return candles


def seed(container: Container) -> list[str]:
    repository = StrategyRepository(container.event_store())
    ids = []
    for rank, code in enumerate((ALWAYS_LONG, ALWAYS_LONG, BROKEN), start=1):
        strategy = Strategy.generate(f"strategy-{rank:02d}", f"MOM_{rank}", "MOM", "1h", code, "test", at=T0)
        strategy.record_backtest(backtest_id=f"bt-{rank}", symbol="BTC", timeframe="1h", period_start=T0,
                                 period_end=T0 + timedelta(days=90), total_trades=40, win_rate=0.5, sharpe=1.5,
                                 total_return=0.2, max_drawdown=0.1, expectancy=0.01, at=T0)
        strategy.mark_tested(f"bt-{rank}", at=T0)
        strategy.select(90.0 - rank, rank, at=T0)
        repository.save(strategy)
        ids.append(strategy.id)
    return ids


@pytest.fixture
def world(database: dict[str, str], tmp_path: Path) -> Iterator[tuple[Container, list[str], int]]:
    port = free_port()
    config = write_config(tmp_path)
    text = config.read_text().replace("check_interval_minutes: 15", "check_interval_minutes: 0.02")
    config.write_text(text.replace("    port: 8080", f"    port: {port}"))
    container = container_for(config, database)
    clock = ManualClock(NOW)
    container.clock.override(providers.Object(clock))
    container.live_candles.override(providers.Object(feed(clock)))
    container.strategy_sandbox.override(providers.Object(InProcessSandbox()))
    container.risk_policy.override(providers.Object(RiskPolicy(max_position_size=0.5, max_open_positions=1)))
    ids = seed(container)
    container.subaccount_manager().deploy(DeploymentRequest(plan="test"))
    catch_up = container.projection_runner().catch_up
    decisions = container.live_trader().on_bar_close(live_strategies(container.read_models(), catch_up)(), T0)
    assert {d.action for d in decisions} >= {"entered", "refused", "failed"}, decisions
    catch_up()
    yield container, ids, port
    container.shutdown_resources()
    container.unwire()


def scrape(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found.setdefault(s.name, []).append((s.labels, s.value))
    return found


def wait_for(condition: Any, seconds: float = 15.0) -> None:
    deadline = threading.Event()
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        deadline.wait(0.05)
    raise AssertionError("timed out")


def test_the_runner_serves_health_ready_and_every_metric_on_its_port(
        world: tuple[Container, list[str], int]) -> None:
    container, ids, port = world
    runner = build_runner(container)
    stop = threading.Event()

    def loop() -> None:
        with runner_health(container) as health:
            health.attach(runner)
            runner.run(stop)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        wait_for(lambda: runner.running and runner.timings.snapshot().get("snapshots", None) is not None
                 and runner.timings.snapshot()["snapshots"].runs >= 1)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/health").json()["status"] == "ok"
        ready = httpx.get(f"{base}/ready")
        assert ready.status_code == 200, ready.text
        assert {c["name"]: c["ok"] for c in ready.json()["checks"]} == {
            "database": True, "candles": True, "scheduler": True}
        served = httpx.get(f"{base}/metrics")
        assert served.status_code == 200 and served.headers["content-type"].startswith("text/plain")
        found = scrape(served.text)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()

    for name in SERIES:
        assert found.get(name), f"{name} missing from /metrics"
    by_subaccount = {labels["subaccount"]: (labels["strategy_id"], v) for labels, v in found["sixbtc_equity_usd"]}
    assert [by_subaccount[n][0] for n in ("1", "2", "3")] == ids
    assert {by_subaccount[str(n)][0] for n in range(4, 11)} == {""}, "free subaccounts have equity, no strategy"
    assert all(90.0 < by_subaccount[n][1] < 110.0 for n in ("1", "2", "3"))  # 100 USDC test capital
    assert {labels["kind"] for labels, _ in found["sixbtc_pnl_usd"]} == {"realized", "unrealized", "daily"}
    assert all(0.0 <= v < 0.1 for _, v in found["sixbtc_drawdown_ratio"])
    positions = {labels["subaccount"]: v for labels, v in found["sixbtc_open_positions"]}
    assert positions == {"1": 1.0, "2": 0.0, "3": 0.0}  # one open position allowed across subaccounts
    sent = {(labels["strategy_id"], labels["kind"]): v for labels, v in found["sixbtc_orders_sent_total"]}
    assert sent[(ids[0], "market")] == 1.0
    refused = {(labels["strategy_id"], labels["source"]) for labels, v in found["sixbtc_orders_refused_total"]}
    assert (ids[1], "risk") in refused
    errors = {(labels["source"], labels["strategy_id"]): v for labels, v in found["sixbtc_errors_total"]}
    assert errors[("decision", ids[2])] == 1.0 and errors[("scheduler", "")] == 0.0
    ages = {(labels["symbol"], labels["timeframe"]): v for labels, v in found["sixbtc_last_candle_age_seconds"]}
    assert len(ages) == len(SYMBOLS) * len(TIMEFRAMES) and ages[("BTC", "1h")] == 5.0
    assert ages[("BTC", "15m")] == 5.0 and ages[("BTC", "1d")] == 3605.0
    jobs = {labels["job"]: v for labels, v in found["sixbtc_scheduler_job_duration_seconds_count"]}
    assert jobs["snapshots"] >= 1 and {f"close-{tf}" for tf in TIMEFRAMES} <= set(jobs)
    assert found["sixbtc_scheduler_running"] == [({}, 1.0)]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/health")  # the port closes with the loop


def test_ready_names_what_is_not_ready(world: tuple[Container, list[str], int]) -> None:
    container, _, _ = world
    runtime = container.runtime()
    clock = container.clock()
    settings = container.settings()
    with TestClient(create_app(container, follow_projections=False)) as client:
        answered = client.get("/ready")
        assert answered.status_code == 200, answered.text  # the API process: no feed, no scheduler of its own
        assert "no scheduler in this process" in answered.text

        runtime.attach_feed(container.live_candles(), settings.trading.symbols, settings.trading.timeframes)
        assert client.get("/ready").status_code == 200
        clock.advance(timedelta(hours=3))  # the feed stops: over two periods without a closed 1h bar
        stale = client.get("/ready")
        assert stale.status_code == 503 and stale.headers["content-type"].startswith("application/problem+json")
        body = stale.json()
        assert body["title"] == "Not ready" and body["detail"].startswith("candles: stale: BTC 15m")
        assert "BTC 4h" not in body["detail"] and "BTC 1h" in body["detail"]

        runtime.detach()
        runtime.attach_scheduler(LiveRunner(object(), ["1h"], grace_seconds=5,  # type: ignore[arg-type]
                                            check_minutes=15, catch_up=lambda: None))
        stopped = client.get("/ready")
        assert stopped.status_code == 503 and "scheduler: the live loop's scheduler is not running" in stopped.text

        runtime.detach()
        container.event_store.override(providers.Singleton(DownStore))
        down = client.get("/ready")
        assert down.status_code == 503
        assert down.json()["detail"].startswith("database: cannot reach PostgreSQL at db.example:5432")
        assert {c["name"]: c["ok"] for c in down.json()["checks"]} == {
            "database": False, "candles": True, "scheduler": True}
        container.event_store.reset_override()
        paths = client.get("/openapi.json").json()["paths"]
        assert {"/ready", "/metrics", "/health"} <= set(paths)
        assert "503" in paths["/ready"]["get"]["responses"]


def test_the_api_scrape_serves_the_read_models_without_a_feed_or_scheduler(
        world: tuple[Container, list[str], int]) -> None:
    container, ids, _ = world
    container.emergency_stops().check_all()  # snapshots, as the loop's snapshot job takes them
    container.projection_runner().catch_up()
    with TestClient(create_app(container, follow_projections=False)) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    found = scrape(response.text)
    assert found["sixbtc_database_up"] == [({}, 1.0)]
    assert {labels["strategy_id"] for labels, _ in found["sixbtc_equity_usd"]} == {*ids, ""}
    assert "sixbtc_scheduler_running" not in found and "sixbtc_last_candle_age_seconds" not in found


class DownStore(InMemoryEventStore):
    def head_position(self) -> int:
        raise EventStoreUnavailable("cannot reach PostgreSQL at db.example:5432, database 'sixbtc': refused")
