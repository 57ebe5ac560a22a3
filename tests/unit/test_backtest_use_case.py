"""RunBacktest and BacktestJobs on in-memory adapters, with the reference loop as the engine."""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adapters.inprocess.sandbox import InProcessSandbox
from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.job_store import InMemoryJobStore
from adapters.memory.read_models import InMemoryReadModels
from adapters.threads.runner import InlineTaskRunner
from application.backtest import BacktestRequest, RunBacktest
from application.backtest_jobs import BacktestJobs
from application.ports.jobs import JobNotFound
from application.ports.strategy_sandbox import SandboxRejection
from application.projections.read_models import ALL_PROJECTIONS
from application.projections.runner import ProjectionRunner
from application.register_strategy import RegisterStrategy
from application.strategy_repository import StrategyNotFound, StrategyRepository
from domain.backtest import BacktestRun, Costs, InsufficientData, InvalidMarketData
from domain.errors import InvalidStrategy
from domain.metrics import METRIC_NAMES
from tests import reference_simulator

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "strategies"
NOW = datetime(2026, 1, 2, tzinfo=UTC)
COSTS = Costs()


class ReferenceEngine:
    def run(self, candles, signals, *, timeframe, costs, funding=None) -> BacktestRun:  # type: ignore[no-untyped-def]
        return reference_simulator.simulate(dict(candles), dict(signals), costs, timeframe, funding)


class Candles:
    """Random-walk candles per symbol, any timeframe; NaN where a test puts one."""

    def __init__(self, bars: int = 3000) -> None:
        self.bars = bars
        self.holes: dict[str, int] = {}

    def load(self, symbol: str, timeframe: str) -> pd.DataFrame:
        rng = np.random.default_rng(sum(map(ord, symbol)))
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, self.bars)))
        open_ = np.concatenate([[100.0], close[:-1]])
        index = pd.date_range("2025-01-01", periods=self.bars, freq=pd.Timedelta(timeframe), tz="UTC")
        frame = pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.002,
                              "low": np.minimum(open_, close) * 0.998, "close": close, "volume": 1.0}, index=index)
        if symbol in self.holes:
            frame.iloc[self.holes[symbol], 3] = np.nan
        return frame

    def default_symbols(self, timeframe: str) -> list[str]:
        return ["BTC", "ETH"]


@pytest.fixture
def store() -> InMemoryEventStore:
    return InMemoryEventStore()


@pytest.fixture
def read_models() -> InMemoryReadModels:
    return InMemoryReadModels()


@pytest.fixture
def backtest(store: InMemoryEventStore, read_models: InMemoryReadModels) -> RunBacktest:
    repository = StrategyRepository(store)
    ids = (f"bt-{i}" for i in itertools.count(1))
    return RunBacktest(ReferenceEngine(), repository, RegisterStrategy(repository, ManualClock(NOW)),
                       InProcessSandbox(), read_models, ManualClock(NOW), COSTS, new_id=lambda: next(ids))


def code(name: str) -> str:
    return (EXAMPLES / name).read_text()


def test_a_strategy_file_is_registered_backtested_and_recorded(backtest: RunBacktest, store: InMemoryEventStore,
                                                               read_models: InMemoryReadModels) -> None:
    report = backtest.execute(BacktestRequest(code=code("mom_ema_cross.py"), origin="mom.py"), Candles())
    assert report.symbols == ("BTC", "ETH") and report.timeframe == "1h" and not report.slow_path
    assert set(METRIC_NAMES) <= set(report.metrics) and report.metrics["total_trades"] == len(report.run.trades) > 0
    assert [e.event_type for e in store.read_all()] == ["StrategyGenerated", "BacktestCompleted"]
    ProjectionRunner(store, read_models, ALL_PROJECTIONS).catch_up()
    (row,) = read_models.rows("backtest_results")
    assert (row["backtest_id"], row["symbol"], row["strategy_id"]) == ("bt-1", "BTC,ETH", report.strategy_id)
    assert set(METRIC_NAMES) <= set(row["metrics"]) and set(row["metrics"]["per_symbol"]) == {"BTC", "ETH"}
    assert row["sharpe"] == report.metrics["sharpe_ratio"] and row["total_trades"] == report.metrics["total_trades"]
    as_json = report.to_json_dict()
    assert len(as_json["trades"]) == report.metrics["total_trades"]
    assert set(as_json["trades"][0]) >= {"symbol", "side", "entry_time", "entry_price", "exit_time", "exit_price",
                                         "pnl", "exit_reason"}


def test_a_stored_strategy_is_found_by_name_or_id(backtest: RunBacktest, store: InMemoryEventStore,
                                                  read_models: InMemoryReadModels) -> None:
    first = backtest.execute(BacktestRequest(code=code("rev_rsi_bands.py")), Candles(), )
    ProjectionRunner(store, read_models, ALL_PROJECTIONS).catch_up()
    by_name = backtest.execute(BacktestRequest(strategy=first.strategy_name, symbols=("SOL",), days=10), Candles())
    by_id = backtest.execute(BacktestRequest(strategy=first.strategy_id, params={"period": 7}), Candles())
    assert by_name.strategy_id == by_id.strategy_id == first.strategy_id
    assert by_name.symbols == ("SOL",) and by_name.period_end - by_name.period_start == pd.Timedelta(days=10)
    assert by_id.params["period"] == 7
    assert len(StrategyRepository(store).get(first.strategy_id).backtests) == 3
    with pytest.raises(StrategyNotFound, match="nope"):
        backtest.execute(BacktestRequest(strategy="nope"), Candles())


def test_an_old_style_strategy_takes_the_slow_path_and_says_so(backtest: RunBacktest,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    old = '''
from domain.strategy import Signal, StrategyCore


class Cross(StrategyCore):
    type = "MOM"
    timeframe = "1h"
    legacy_window = 50

    def generate_signal(self, df):
        if len(df) > 20 and df["close"].iloc[-1] > df["close"].iloc[-20:].mean() * 1.01:
            return Signal("long", 0.5, stop_loss=float(df["close"].iloc[-1]) * 0.97)
        return Signal("close", 1.0) if len(df) > 20 else None
'''
    with caplog.at_level(logging.WARNING):
        report = backtest.execute(BacktestRequest(code=old, symbols=("BTC",)), Candles(bars=400))
    assert report.slow_path and report.metrics["total_trades"] > 0
    assert "slow path" in caplog.text


def test_bad_input_is_refused_with_a_clear_reason(backtest: RunBacktest) -> None:
    holes = Candles()
    holes.holes["ETH"] = 7
    with pytest.raises(InvalidMarketData, match=r"ETH: close is nan at 2025-01-01 07:00:00\+00:00"):
        backtest.execute(BacktestRequest(code=code("mom_ema_cross.py")), holes)
    with pytest.raises(InsufficientData, match="needs more than 49 bars"):
        backtest.execute(BacktestRequest(code=code("mom_ema_cross.py")), Candles(bars=40))
    broken = code("mom_ema_cross.py").replace('"size": 0.5', '"size": 2.0')
    with pytest.raises(SandboxRejection, match="column 'size'") as refused:
        backtest.execute(BacktestRequest(code=broken), Candles())
    assert refused.value.kind == "contract"
    with pytest.raises(InvalidStrategy, match="not both"):
        BacktestRequest(code="x", strategy="y")


def test_jobs_report_progress_and_the_result(backtest: RunBacktest) -> None:
    clock = ManualClock(NOW)
    jobs = BacktestJobs(InMemoryJobStore(), InlineTaskRunner(), lambda: backtest, clock, new_id=lambda: "job-1")
    job = jobs.start(BacktestRequest(code=code("bre_donchian.py"), symbols=("BTC",)), Candles())
    done = jobs.status(job.job_id)
    assert (done.status, done.progress, done.error) == ("done", 1.0, None)
    assert done.result is not None and done.result["metrics"]["total_trades"] == len(done.result["trades"])
    with pytest.raises(JobNotFound):
        jobs.status("job-2")


def test_a_failing_job_is_marked_failed_with_its_reason(backtest: RunBacktest) -> None:
    jobs = BacktestJobs(InMemoryJobStore(), InlineTaskRunner(), lambda: backtest, ManualClock(NOW))
    job = jobs.start(BacktestRequest(strategy="missing"), Candles())
    failed = jobs.status(job.job_id)
    assert failed.status == "failed" and failed.error is not None and "missing" in failed.error


def test_the_job_store_forgets_the_oldest_finished_jobs_beyond_its_limit() -> None:
    store = InMemoryJobStore(keep=2)
    for name in ("a", "b"):
        store.create(name, "backtest", NOW)
        store.update(name, NOW, status="done")
    store.create("c", "backtest", NOW)
    assert store.get("b").status == "done" and store.get("c").status == "queued"
    with pytest.raises(JobNotFound):
        store.get("a")
