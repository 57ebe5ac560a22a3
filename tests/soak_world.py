"""The world a soak runs in: real candles, a config, the container `sixbtc run` would build on it.

Everything is the shipped wiring except what cannot be real offline: the clock is simulated, the
candle feed is fed from recorded Binance futures bars (not Hyperliquid's WebSocket), the history job
downloads from the local Binance fake (serving the same bars, up to the simulated now), and the
paper venue gets its size steps from the test (no meta call). Research runs the offline generator
on a small batch over a short lookback, so a day of research costs seconds on two cores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from dependency_injector import providers

from adapters.memory.clock import ManualClock
from adapters.memory.live_candles import MemoryLiveCandles
from adapters.parquet.loader import load_candles
from application.deploy_strategies import DeploymentRequest
from application.strategy_repository import StrategyRepository
from domain.candles import timeframe_delta
from domain.lifecycle import Strategy
from entrypoints.container import Container, build_container
from entrypoints.settings import load_settings
from tests.e2e.execution_support import INSTRUMENTS, REPO
from tests.fakes.binance_book import SHARED_OHLCV

SYMBOLS = ("BTC", "ETH", "SOL")
TIMEFRAMES = ("15m", "30m", "1h", "4h", "1d")
START = datetime(2026, 2, 9, tzinfo=UTC)
"""A Monday; the recorded futures bars go on to 2026-02-19, so a week and its history fit."""
FEED_ROWS = 1100
"""Bars kept per series, as the live feed keeps a bounded window (the trader looks back 1000)."""
_SOURCE = {"15m": "15m", "30m": "15m", "1h": "1h", "4h": "1h", "1d": "1h"}

FLIP = '''
import numpy as np
import pandas as pd
from domain.strategy import StrategyCore

class Flip(StrategyCore):
    """Long on every other bar, out on the others: a trade every two bars."""
    type = "MOM"
    timeframe = "{timeframe}"

    def signals(self, df):
        even = (pd.DatetimeIndex(df.index).as_unit("ns").asi8 // {period_ns}) % 2 == 0
        return pd.DataFrame({{"long_entry": even, "short_entry": np.zeros(len(df), dtype=bool), "exit": ~even,
                             "size": np.full(len(df), 1.0), "sl_pct": np.full(len(df), np.nan),
                             "tp_pct": np.full(len(df), np.nan)}}, index=df.index)
'''


@dataclass(frozen=True)
class SoakPlan:
    days: float = 7.0
    batch_size: int = 2
    lookback_days: int = 4
    workers: int = 1
    """backtesting.parallel_workers: 1 evaluates research candidates in this process, more in a pool."""
    start: datetime = START
    sample_every: timedelta = timedelta(days=1)
    rotation_hours: float | None = None
    """None: the shipped deployment.rotation_frequency_hours."""
    restarted: bool = False
    """True: every improvement-cycle job last ran just under one interval before the start (a restart),
    so each comes due within the first hour, however long its interval."""

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    def sample_times(self) -> list[datetime]:
        count = int((self.end - self.start) / self.sample_every)
        times = [self.start + k * self.sample_every for k in range(1, count + 1)]
        return times if times and times[-1] == self.end else [*times, self.end]


def market(plan: SoakPlan) -> dict[tuple[str, str], pd.DataFrame]:
    """Every configured series from the recorded futures bars (30m, 4h and 1d resampled), to the plan's end."""
    frames: dict[tuple[str, str], pd.DataFrame] = {}
    stop = pd.Timestamp(plan.end) + pd.Timedelta(days=1)
    for symbol in SYMBOLS:
        for timeframe in TIMEFRAMES:
            raw = load_candles(SHARED_OHLCV / f"BINANCEUSDM_{symbol}USDT_{_SOURCE[timeframe]}.parquet")
            raw = raw[raw.index < stop]
            if timeframe != _SOURCE[timeframe]:
                raw = raw.resample(timeframe_delta(timeframe), label="left", closed="left").agg(
                    {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}).dropna()
            frames[(symbol, timeframe)] = raw.iloc[-(FEED_ROWS + 2000):]
    return frames


def binance_frames(frames: Mapping[tuple[str, str], pd.DataFrame]) -> dict[tuple[str, str], pd.DataFrame]:
    return {(f"{symbol}USDT", timeframe): frame for (symbol, timeframe), frame in frames.items()}


def write_config(folder: Path, plan: SoakPlan, database_url: str, binance_url: str, health_port: int) -> Path:
    """The shipped config, pointed at this world, with the research batch and lookback kept small."""
    config: dict[str, Any] = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["system"]["data_dir"] = str(folder / "data")
    if "var_dir" in config["system"]:
        config["system"]["var_dir"] = str(folder / "var")
    config["database"]["url"] = database_url
    config["trading"].update(symbols=list(SYMBOLS), timeframes=list(TIMEFRAMES))
    config["trading"]["subaccounts"]["count"] = 3
    config["trading"]["data"]["binance_base_url"] = binance_url
    config["generation"]["batch_size"] = plan.batch_size
    config["backtesting"].update(lookback_days=plan.lookback_days, parallel_workers=plan.workers)
    config["backtesting"]["shuffle"]["iterations"] = 30
    config["monitoring"]["health_check"]["port"] = health_port
    if plan.rotation_hours is not None:
        config["deployment"]["rotation_frequency_hours"] = plan.rotation_hours
    config["logging"]["file"] = ""
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def soak_container(config: Path, clock: ManualClock) -> tuple[Container, MemoryLiveCandles]:
    settings = load_settings(config, env={}, dotenv_path=config.parent / "none.env")
    container = build_container(settings)
    feed = MemoryLiveCandles(clock=clock, max_rows=FEED_ROWS)
    container.clock.override(providers.Object(clock))
    container.live_candles.override(providers.Object(feed))
    container.instruments.override(providers.Object(INSTRUMENTS))
    container.environ.override(providers.Object({}))
    return container, feed


def deploy_flippers(container: Container, at: datetime) -> list[str]:
    """Three SELECTED strategies that trade every other bar, deployed to the paper test subaccounts."""
    repository = StrategyRepository(container.event_store())
    ids = []
    for rank, timeframe in enumerate(("15m", "30m", "1h"), start=1):
        code = FLIP.format(timeframe=timeframe, period_ns=timeframe_delta(timeframe).value)
        strategy = Strategy.generate(f"flip-{timeframe}", f"FLIP_{timeframe}", "MOM", timeframe, code, "soak", at=at)
        strategy.record_backtest(backtest_id=f"bt-{rank}", symbol="BTC", timeframe=timeframe, period_start=at,
                                 period_end=at + timedelta(days=90), total_trades=400, win_rate=0.5, sharpe=1.5,
                                 total_return=0.2, max_drawdown=0.1, expectancy=0.0, at=at)
        strategy.mark_tested(f"bt-{rank}", at=at)
        strategy.select(90.0 - rank, rank, at=at)
        repository.save(strategy)
        ids.append(strategy.id)
    container.subaccount_manager().deploy(DeploymentRequest(plan="test", strategy_ids=tuple(ids)))
    return ids


def restarted(container: Container, at: datetime) -> dict[str, datetime]:
    """A past run of every improvement-cycle job, each just under one interval before `at`, staggered by
    minutes: the process restarts with all of them due soon (entrypoints/scheduled_jobs.first_run_after)."""
    from application.scheduler_runs import JobRunLog
    from entrypoints.scheduled_jobs import cycle_jobs

    log, due = JobRunLog(container.event_store()), {}
    for k, job in enumerate(cycle_jobs(container), start=1):
        started = at - job.every + min(timedelta(minutes=7 * k), job.every / 2)
        log.record(job.job_id, started, started + timedelta(seconds=1), outcome="ok")
        due[job.job_id] = started + job.every
    return due
