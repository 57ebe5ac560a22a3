"""The composition root: the only place adapters are chosen and wired.

Tests override providers (`container.event_store.override(...)`) with in-memory adapters.
Nothing is created on import: the database starts when something first asks for it.
"""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.clock.system import SystemClock
from adapters.postgres.event_store import PostgresEventStore
from adapters.postgres.read_models import PostgresReadModels
from application.projections.read_models import ALL_PROJECTIONS
from application.projections.runner import ProjectionRunner
from application.register_strategy import RegisterStrategy
from application.strategy_repository import StrategyRepository
from domain.risk import RiskPolicy
from entrypoints.database import open_database
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


def build_container(settings: Settings) -> Container:
    return Container(settings=settings)
