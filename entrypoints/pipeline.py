"""Wiring of the research pipeline: its runner, scoring rules and worker settings, from config."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from application.generation_policy import GenerationPolicy
from application.pipeline_holdout import HoldoutEvaluator
from application.pipeline_selection import Scoring
from application.ports.backtest_engine import BacktestEngine
from application.ports.batch_runner import BatchRunner
from application.ports.candle_source import CandleSource
from application.ports.clock import Clock
from application.ports.event_store import EventStore
from application.ports.strategy_sandbox import StrategySandbox
from application.register_strategy import RegisterStrategy
from application.research_pipeline import ResearchPipeline
from application.strategy_repository import StrategyRepository
from application.validate_strategy import ValidateStrategy
from application.validation_policy import ValidationPolicy
from domain.backtest import Costs
from domain.classification.portfolio import SelectionRules
from domain.classification.scorer import ScoreBounds, ScoreWeights
from entrypoints.generation import build_generation
from entrypoints.pipeline_worker import evaluate_candidate
from entrypoints.settings import Settings


def open_batch_runner(settings: Settings) -> Iterator[BatchRunner]:
    """`pipeline.runner: dask`: the Dask cluster at `pipeline.dask_scheduler` (docs/pipeline.md);
    else `backtesting.parallel_workers` local processes (one: everything in this process)."""
    runner: BatchRunner
    workers = settings.backtesting.parallel_workers
    if settings.pipeline.runner == "dask":
        from adapters.dask.runner import DaskRunner

        runner = DaskRunner(settings.pipeline.dask_scheduler)
    elif workers > 1:
        from adapters.local.process_pool import ProcessPoolRunner

        runner = ProcessPoolRunner(workers)
    else:
        from adapters.memory.batch_runner import InlineBatchRunner

        runner = InlineBatchRunner()
    try:
        yield runner
    finally:
        runner.close()


def scoring_from(settings: Settings) -> Scoring:
    c, b = settings.classification, settings.backtesting
    rules = SelectionRules(
        top_n=c.top_n, min_score=c.min_score, min_sharpe=b.min_sharpe, min_win_rate=b.min_win_rate,
        min_trades=b.min_trades, max_drawdown=b.max_drawdown, max_p_value=b.shuffle.max_p_value,
        min_deflated_sharpe=c.min_deflated_sharpe, max_per_type=c.max_per_type,
        max_per_timeframe=c.max_per_timeframe, max_correlation=c.max_correlation)
    w, bounds = c.weights, c.bounds
    total = w.edge + w.sharpe + w.consistency + w.stability  # config allows a rounding slack; the scorer does not
    return Scoring(ScoreWeights(w.edge / total, w.sharpe / total, w.consistency / total, w.stability / total),
                   ScoreBounds(bounds.edge, bounds.sharpe, bounds.consistency, bounds.stability), rules)


def worker_settings(settings: Settings, policy: ValidationPolicy, costs: Costs) -> dict[str, Any]:
    sandbox = settings.validation.sandbox
    return {"isolation": sandbox.isolation, "require": list(sandbox.require),
            "limits": {"cpu_seconds": sandbox.cpu_seconds, "wall_seconds": sandbox.wall_seconds,
                       "memory_mb": sandbox.memory_mb},
            "policy": dataclasses.asdict(dataclasses.replace(
                policy, walk_forward_search=settings.pipeline.walk_forward == "optimise")),
            "costs": dataclasses.asdict(costs)}


def build_pipeline(settings: Settings, choice: str, candles: CandleSource, validate: ValidateStrategy,
                   register: RegisterStrategy, repository: StrategyRepository, events: EventStore, clock: Clock,
                   policy: GenerationPolicy, runner: BatchRunner, sandbox: StrategySandbox, engine: BacktestEngine,
                   costs: Costs, validation_policy: ValidationPolicy,
                   strategy_type: str | None = None) -> ResearchPipeline:
    generate = build_generation(settings, choice, candles, validate, register, repository, events, clock, policy,
                                strategy_type)
    return ResearchPipeline(generate, runner, evaluate_candidate, repository, events, clock, scoring_from(settings),
                            worker_settings(settings, validation_policy, costs),
                            HoldoutEvaluator(sandbox, engine, costs, repository),
                            regime_filter=settings.classification.regime_filter)
