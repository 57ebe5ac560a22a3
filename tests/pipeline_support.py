"""Random-walk candles (no edge exists) and a ResearchPipeline wired on in-memory stores."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from adapters.inprocess.sandbox import InProcessSandbox
from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.offline_ai.composer import GrammarComposer
from adapters.vectorbt.engine import VectorbtBacktestEngine
from application.generate_strategies import GenerateStrategies
from application.generation_policy import GenerationPolicy
from application.pipeline_holdout import HoldoutEvaluator
from application.pipeline_selection import Scoring
from application.ports.batch_runner import BatchRunner as BatchRunnerLike
from application.register_strategy import RegisterStrategy
from application.research_pipeline import ResearchPipeline
from application.strategy_authoring import OfflineAuthor
from application.strategy_repository import StrategyRepository
from application.validation_policy import ValidationPolicy
from domain.backtest import Costs
from domain.candles import timeframe_delta
from domain.classification.portfolio import SelectionRules
from domain.classification.scorer import ScoreBounds, ScoreWeights
from entrypoints.pipeline_worker import evaluate_candidate
from tests.validation_support import validator

END = datetime(2026, 1, 1, tzinfo=UTC)


class RandomWalkCandles:
    """Geometric random walk per (symbol, timeframe): the future is independent of the past."""

    def __init__(self, days: int = 150, symbols: tuple[str, ...] = ("RW1",), seed: int = 11) -> None:
        self.days, self.symbols, self.seed = days, symbols, seed

    def load(self, symbol: str, timeframe: str) -> pd.DataFrame:
        step = timeframe_delta(timeframe)
        n = int(pd.Timedelta(days=self.days) / step)
        rng = np.random.default_rng([self.seed, sum(map(ord, symbol)), sum(map(ord, timeframe))])
        scale = 0.01 * np.sqrt(step / pd.Timedelta(hours=1))
        close = 100 * np.exp(np.cumsum(rng.normal(0, scale, n)))
        open_ = np.concatenate([[100.0], close[:-1]])
        wick = np.abs(rng.normal(0, scale / 2, n))
        index = pd.date_range(end=END - step, periods=n, freq=step, tz="UTC", name="timestamp")
        return pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * (1 + wick),
                             "low": np.minimum(open_, close) * (1 - wick), "close": close,
                             "volume": rng.lognormal(10, 0.5, n)}, index=index)

    def default_symbols(self, timeframe: str) -> list[str]:
        return list(self.symbols)


def pipeline(runner: BatchRunnerLike, store: InMemoryEventStore, *, isolation: str = "none",
             rules: SelectionRules | None = None, timeframes: tuple[str, ...] = ("1h", "4h"),
             gates_open: bool = False, search: bool = False) -> ResearchPipeline:
    """`gates_open`: validation lets everything through (to test what happens after the gates);
    `search`: walk-forward grid search (pipeline.walk_forward: optimise) instead of the default windows."""
    clock = ManualClock(END)
    repository = StrategyRepository(store)
    policy = ValidationPolicy(shuffle_iterations=100, prefix_max_bars=2000, walk_forward_search=search)
    if gates_open:
        policy = dataclasses.replace(policy, max_p_value=1.0, min_sharpe=-1e9, max_cv=1e9)
    costs = Costs()
    generate = GenerateStrategies(
        OfflineAuthor(GrammarComposer(), 2), validator(InProcessSandbox(), store, policy),
        RegisterStrategy(repository, clock), repository, store, clock,
        GenerationPolicy(strategy_types=("MOM", "REV", "TRN", "BRE", "VOL"), timeframes=timeframes))
    settings = {"isolation": isolation, "require": ["seccomp"],
                "limits": {"cpu_seconds": 60.0, "wall_seconds": 120.0, "memory_mb": 2048},
                "policy": dataclasses.asdict(policy), "costs": dataclasses.asdict(costs)}
    scoring = Scoring(ScoreWeights(), ScoreBounds(), rules or SelectionRules())
    ids = iter(f"run-{i}" for i in range(100))
    return ResearchPipeline(generate, runner, evaluate_candidate, repository, store, clock, scoring, settings,
                            HoldoutEvaluator(InProcessSandbox(), VectorbtBacktestEngine(), costs, repository),
                            new_id=lambda: next(ids))
