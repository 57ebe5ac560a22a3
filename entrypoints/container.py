"""The composition root: the only place adapters are chosen and wired.

Tests override providers (`container.event_store.override(...)`) with in-memory adapters.
Nothing is created on import: the database starts when something first asks for it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from dependency_injector import containers, providers

from adapters.candle_files.source import FileCandleSource, FileFundingSource
from adapters.clock.system import SystemClock
from adapters.memory.job_store import InMemoryJobStore
from adapters.postgres.event_store import PostgresEventStore
from adapters.postgres.read_models import PostgresReadModels
from adapters.reports.files import FileReportStore
from adapters.threads.runner import ThreadTaskRunner
from application.backtest import RunBacktest
from application.backtest_jobs import BacktestJobs
from application.deploy_strategies import SubaccountManager
from application.emergency_stops import EmergencyStops
from application.job_queue import JobQueue
from application.live_trader import LiveTrader
from application.open_position import PositionOpener
from application.ports.backtest_engine import BacktestEngine
from application.ports.strategy_sandbox import StrategySandbox
from application.projections.live_stats import LiveStats
from application.projections.read_models import ALL_PROJECTIONS
from application.projections.runner import ProjectionRunner
from application.reconcile_subaccount import Reconciler
from application.register_strategy import RegisterStrategy
from application.rerank_strategies import RerankStrategies
from application.stop_strategy import StrategyStopper
from application.strategy_repository import StrategyRepository
from application.subaccount_ledger import SubaccountLedger
from application.validate_strategy import ValidateStrategy
from application.validation_jobs import ValidationJobs
from application.validation_policy import ValidationPolicy
from application.weekly_report import WeeklyReports
from domain.backtest import Costs
from domain.risk import RiskPolicy
from entrypoints import execution, generation, market_data, notifications, pipeline
from entrypoints.database import open_database
from entrypoints.metrics import collector_registry
from entrypoints.runtime import ProcessRuntime
from entrypoints.settings import Settings


def risk_policy_from(settings: Settings) -> RiskPolicy:
    risk = settings.risk
    return RiskPolicy(
        risk_per_trade=risk.risk_per_trade,
        max_position_size=risk.max_position_size,
        max_open_positions=risk.max_open_positions,
        max_drawdown=risk.max_drawdown_emergency,
        max_daily_loss=risk.max_daily_loss,
        strategy_degradation=settings.deployment.emergency_stop.strategy_degradation,
    )


def backtest_costs_from(settings: Settings) -> Costs:
    b = settings.backtesting
    return Costs(fee_rate=b.fee_rate, slippage=b.slippage, initial_capital=b.initial_capital)


def vectorbt_engine() -> BacktestEngine:
    """Imported on first use: vectorbt takes seconds to import, and most commands never backtest.

    A few threads let one backtest's symbols run side by side on spare cores.
    """
    from adapters.vectorbt.engine import VectorbtBacktestEngine

    return VectorbtBacktestEngine(threads=min(4, os.cpu_count() or 1))


def validation_policy_from(settings: Settings) -> ValidationPolicy:
    b, v = settings.backtesting, settings.validation
    return ValidationPolicy(
        shuffle_iterations=b.shuffle.iterations, max_p_value=b.shuffle.max_p_value, seed=v.seed,
        cut_points=v.lookahead.cut_points, prefix_max_bars=v.lookahead.max_bars,
        walk_forward_windows=b.walk_forward.windows, walk_forward_train_ratio=b.walk_forward.train_ratio,
        min_sharpe=b.min_sharpe, max_cv=v.max_parameter_cv, max_parameters=b.optimization.max_parameters,
        max_combinations=b.optimization.max_combinations,
    )


def open_strategy_sandbox(settings: Settings) -> Iterator[StrategySandbox]:
    """Generated code runs in a confined worker process unless config says the code is trusted."""
    config = settings.validation.sandbox
    sandbox: StrategySandbox
    if config.isolation == "none":
        from adapters.inprocess.sandbox import InProcessSandbox

        sandbox = InProcessSandbox()
    else:
        from adapters.sandbox.process_sandbox import ProcessSandbox
        from adapters.sandbox.worker_process import SandboxLimits

        limits = SandboxLimits(cpu_seconds=config.cpu_seconds, wall_seconds=config.wall_seconds,
                               memory_mb=config.memory_mb)
        sandbox = ProcessSandbox(limits, require=tuple(config.require))
    try:
        yield sandbox
    finally:
        sandbox.close()


def weekly_report_folder(settings: Settings) -> str:
    return os.path.join(settings.system.var_dir, "reports", "weekly")


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    database = providers.Resource(open_database, settings)

    event_store = providers.Singleton(PostgresEventStore, database)
    read_models = providers.Singleton(PostgresReadModels, database)

    risk_policy = providers.Singleton(risk_policy_from, settings)
    projection_runner = providers.Singleton(
        ProjectionRunner, event_store, read_models, providers.Object(ALL_PROJECTIONS)
    )
    strategy_repository = providers.Factory(StrategyRepository, event_store)
    register_strategy = providers.Factory(RegisterStrategy, strategy_repository, clock)

    backtest_costs = providers.Singleton(backtest_costs_from, settings)
    backtest_engine = providers.Singleton(vectorbt_engine)
    strategy_sandbox = providers.Resource(open_strategy_sandbox, settings)
    candle_files = providers.Factory(FileCandleSource)
    funding_files = providers.Factory(FileFundingSource)
    run_backtest = providers.Factory(
        RunBacktest, engine=backtest_engine, repository=strategy_repository, register=register_strategy,
        sandbox=strategy_sandbox, read_models=read_models, clock=clock, costs=backtest_costs,
    )
    validation_policy = providers.Singleton(validation_policy_from, settings)
    validate_strategy = providers.Factory(
        ValidateStrategy, sandbox=strategy_sandbox, engine=backtest_engine, register=register_strategy,
        events=event_store, clock=clock, costs=backtest_costs, policy=validation_policy,
    )
    gate_candles = providers.Factory(generation.gate_candles, settings)
    generation_policy = providers.Singleton(generation.generation_policy_from, settings)
    generate_strategies = providers.Factory(
        generation.build_generation, settings=settings, validate=validate_strategy, register=register_strategy,
        repository=strategy_repository, events=event_store, clock=clock, policy=generation_policy,
    )
    batch_runner = providers.Resource(pipeline.open_batch_runner, settings)
    research_pipeline = providers.Factory(
        pipeline.build_pipeline, settings=settings, validate=validate_strategy, register=register_strategy,
        repository=strategy_repository, events=event_store, clock=clock, policy=generation_policy,
        runner=batch_runner, sandbox=strategy_sandbox, engine=backtest_engine, costs=backtest_costs,
        validation_policy=validation_policy,
    )
    rerank_strategies = providers.Factory(
        RerankStrategies, repository=strategy_repository, events=event_store, read_models=read_models, clock=clock,
        scoring=providers.Callable(pipeline.scoring_from, settings),
        regime_filter=settings.provided.classification.regime_filter, catch_up=projection_runner.provided.catch_up,
    )
    job_store = providers.Singleton(InMemoryJobStore)
    task_runner = providers.Singleton(ThreadTaskRunner, max_workers=settings.provided.backtesting.parallel_workers)
    backtest_jobs = providers.Singleton(BacktestJobs, job_store, task_runner, run_backtest.provider, clock)
    validation_jobs = providers.Singleton(ValidationJobs, job_store, task_runner, validate_strategy.provider, clock)
    generation_jobs = providers.Singleton(JobQueue, "generation", job_store, task_runner, clock)
    pipeline_jobs = providers.Singleton(JobQueue, "pipeline", job_store, task_runner, clock)

    candle_cache = providers.Singleton(market_data.candle_cache, settings)
    binance_history = providers.Resource(market_data.binance_history, settings)
    live_candles = providers.Resource(market_data.live_candles, settings, clock)
    symbol_universe = providers.Factory(market_data.symbol_universe, settings, binance_history)

    # Monitoring: what this process runs (the live loop attaches its feed and scheduler), the log's
    # running counts, and one Prometheus registry per container (entrypoints/metrics.py).
    runtime = providers.Singleton(ProcessRuntime)
    live_stats = providers.Singleton(LiveStats, event_store)
    metrics_registry = providers.Singleton(collector_registry, live_stats, read_models, runtime, clock)

    # Execution. Paper unless the entrypoint overrides live_requested (`--live`) AND the config and
    # the environment agree (entrypoints/execution.py); the feed and the instruments are passed as
    # providers so that paper builds them only when first needed and live never builds them.
    live_requested = providers.Object(False)
    environ = providers.Object(os.environ)
    exchange_mode = providers.Callable(execution.exchange_mode, settings, live_requested, environ)
    instruments = providers.Singleton(execution.hyperliquid_instruments, settings)
    exchange = providers.Resource(
        execution.open_exchange, settings, live_requested, environ, event_store, live_candles.provider, clock,
        instruments.provider,
    )
    deployment_policy = providers.Singleton(execution.deployment_policy_from, settings)
    subaccount_ledger = providers.Factory(SubaccountLedger, event_store)
    subaccount_manager = providers.Factory(
        SubaccountManager, strategies=strategy_repository, ledger=subaccount_ledger, exchange=exchange,
        read_models=read_models, clock=clock, policy=deployment_policy, catch_up=projection_runner.provided.catch_up,
    )
    reconciler = providers.Factory(Reconciler, subaccount_ledger, exchange, clock)
    position_opener = providers.Factory(PositionOpener, subaccount_ledger, exchange, clock)
    max_slippage = providers.Callable(lambda s: s.trading.max_slippage, settings)
    strategy_stopper = providers.Factory(StrategyStopper, strategy_repository, subaccount_ledger, exchange, clock,
                                         max_slippage)
    emergency_stops = providers.Factory(EmergencyStops, subaccount_ledger, exchange, strategy_stopper, clock,
                                        risk_policy, max_slippage)
    live_trader = providers.Factory(
        LiveTrader, sandbox=strategy_sandbox, candles=live_candles, ledger=subaccount_ledger, exchange=exchange,
        clock=clock, risk=risk_policy, symbols=providers.Callable(lambda s: tuple(s.trading.symbols), settings),
        max_slippage=max_slippage, parallel=settings.provided.deployment.parallel_decisions,
    )

    # Notifications: one target per enabled section of monitoring.notifications (none when off).
    notification_targets = providers.Singleton(notifications.notification_targets, settings)
    event_notifications = providers.Singleton(
        notifications.event_notifications, settings, event_store, read_models, clock, notification_targets,
    )

    # Reports: the weekly report (`sixbtc report weekly`, POST /reports/weekly, the runner's weekly-report
    # job) as JSON and Markdown under <system.var_dir>/reports/weekly/, served by GET /reports/weekly.
    report_store = providers.Singleton(FileReportStore, providers.Callable(weekly_report_folder, settings))
    weekly_reports = providers.Factory(WeeklyReports, event_store, read_models, clock, report_store,
                                       catch_up=projection_runner.provided.catch_up)


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)
