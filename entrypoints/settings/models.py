"""Pydantic models of config/config.yaml: every key typed, ranged and documented by its error.

Frozen and `extra="forbid"`, so a typo in a key is an error instead of a silently ignored value.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")
TIMEFRAMES = ("5m", "15m", "30m", "1h", "4h", "1d")

def _between_0_and_1(value: float) -> float:
    if not 0 < value < 1:
        raise ValueError("must be between 0 and 1")
    return value


Fraction = Annotated[float, AfterValidator(_between_0_and_1)]
Positive = Annotated[float, Field(gt=0)]
PositiveInt = Annotated[int, Field(ge=1)]


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SystemSettings(Section):
    name: str = "SixBTC"
    deployment_mode: Literal["paper", "live"] = "paper"
    data_dir: str = "data"
    var_dir: str = "var"


class DatabaseSettings(Section):
    url: str = ""
    embedded_dir: str = "var/pg"
    pool_size: PositiveInt = 5
    max_overflow: Annotated[int, Field(ge=0)] = 10
    connect_timeout_seconds: PositiveInt = 5

    @field_validator("url")
    @classmethod
    def _postgres_only(cls, value: str) -> str:
        if value and not value.startswith(("postgresql://", "postgresql+psycopg2://", "postgres://")):
            raise ValueError("must be a PostgreSQL URL (postgresql://user:password@host:5432/db) or empty")
        return value.replace("postgres://", "postgresql://", 1) if value.startswith("postgres://") else value


class HyperliquidSettings(Section):
    base_url: str = "https://api.hyperliquid.xyz"
    ws_url: str = "wss://api.hyperliquid.xyz/ws"
    private_key: SecretStr = SecretStr("")
    main_address: str = ""
    subaccounts: dict[int, str] = Field(default_factory=dict)
    fee_rate: Annotated[float, Field(ge=0, lt=0.01)] = 0.00045
    slippage: Annotated[float, Field(ge=0, lt=0.05)] = 0.0005
    min_notional: Positive = 10.0

    @field_validator("subaccounts")
    @classmethod
    def _addresses(cls, value: dict[int, str]) -> dict[int, str]:
        for number, address in value.items():
            if number < 1:
                raise ValueError(f"subaccount numbers start at 1, got {number}")
            if not (address.startswith("0x") and len(address) == 42):
                raise ValueError(f"subaccount {number}: address must be 0x followed by 40 hex digits")
        return value


class SubaccountSettings(Section):
    count: Annotated[int, Field(ge=1, le=100)] = 10
    test_mode_capital: Positive = 100.0


class TradingSettings(Section):
    symbols: list[str] = Field(default_factory=lambda: ["BTC", "ETH", "SOL"], min_length=1)
    timeframes: list[str] = Field(default_factory=lambda: ["15m", "30m", "1h", "4h", "1d"], min_length=1)
    leverage: Annotated[int, Field(ge=1, le=50)] = 1
    max_slippage: Fraction = 0.005
    subaccounts: SubaccountSettings = SubaccountSettings()

    @field_validator("timeframes")
    @classmethod
    def _known_timeframes(cls, value: list[str]) -> list[str]:
        unknown = [tf for tf in value if tf not in TIMEFRAMES]
        if unknown:
            raise ValueError(f"unknown timeframe(s) {unknown}; valid: {list(TIMEFRAMES)}")
        return value


class RiskSettings(Section):
    risk_per_trade: Fraction = 0.02
    max_position_size: Fraction = 0.20
    max_open_positions: PositiveInt = 10
    max_drawdown_emergency: Fraction = 0.25
    max_daily_loss: Fraction = 0.10

    @model_validator(mode="after")
    def _risk_within_position(self) -> RiskSettings:
        if self.risk_per_trade > self.max_position_size:
            raise ValueError("risk_per_trade cannot exceed max_position_size")
        return self


class ProviderSettings(Section):
    enabled: bool = False
    model: str
    api_key: SecretStr = SecretStr("")
    base_url: str | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] = 0.7
    max_tokens: Annotated[int, Field(ge=64, le=200_000)] = 4000
    weight: Annotated[float, Field(ge=0)] = 1.0


class PatternDiscoverySettings(Section):
    enabled: bool = False
    api_url: str = "http://localhost:8001"
    tier_filter: Annotated[int, Field(ge=1, le=3)] = 1
    min_quality_score: Annotated[float, Field(ge=0, le=1)] = 0.75


class GenerationSettings(Section):
    frequency_hours: Positive = 4
    batch_size: PositiveInt = 20
    strategy_types: list[str] = Field(default_factory=lambda: ["MOM", "REV", "TRN", "BRE", "VOL"], min_length=1)
    max_fix_attempts: Annotated[int, Field(ge=0, le=10)] = 3
    spending_cap_usd: Annotated[float, Field(ge=0)] = 5.0
    offline_fallback: bool = True
    ai_providers: dict[str, ProviderSettings] = Field(default_factory=dict)
    pattern_discovery: PatternDiscoverySettings = PatternDiscoverySettings()


class ShuffleSettings(Section):
    iterations: Annotated[int, Field(ge=10)] = 1000
    max_p_value: Fraction = 0.05


class WalkForwardSettings(Section):
    windows: Annotated[int, Field(ge=2)] = 4
    train_ratio: Fraction = 0.75


class OptimizationSettings(Section):
    max_parameters: Annotated[int, Field(ge=1, le=4)] = 4


class BacktestingSettings(Section):
    lookback_days: PositiveInt = 180
    initial_capital: Positive = 10_000.0
    fee_rate: Annotated[float, Field(ge=0, lt=0.01)] = 0.00045
    slippage: Annotated[float, Field(ge=0, lt=0.05)] = 0.0005
    parallel_workers: PositiveInt = 2
    min_sharpe: float = 1.0
    min_win_rate: Annotated[float, Field(ge=0, le=1)] = 0.45
    min_trades: PositiveInt = 30
    max_drawdown: Fraction = 0.30
    shuffle: ShuffleSettings = ShuffleSettings()
    walk_forward: WalkForwardSettings = WalkForwardSettings()
    optimization: OptimizationSettings = OptimizationSettings()


class ScoreWeights(Section):
    edge: Annotated[float, Field(ge=0, le=1)] = 0.4
    sharpe: Annotated[float, Field(ge=0, le=1)] = 0.3
    consistency: Annotated[float, Field(ge=0, le=1)] = 0.2
    stability: Annotated[float, Field(ge=0, le=1)] = 0.1

    @model_validator(mode="after")
    def _sum_to_one(self) -> ScoreWeights:
        total = self.edge + self.sharpe + self.consistency + self.stability
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"weights must sum to 1, they sum to {total:g}")
        return self


class ClassificationSettings(Section):
    frequency_hours: Positive = 1
    top_n: Annotated[int, Field(ge=1, le=100)] = 10
    min_score: Annotated[float, Field(ge=0, le=100)] = 50
    max_per_type: PositiveInt = 3
    max_per_timeframe: PositiveInt = 3
    max_correlation: Annotated[float, Field(gt=0, le=1)] = 0.7
    weights: ScoreWeights = ScoreWeights()


class EmergencyStopSettings(Section):
    strategy_degradation: Fraction = 0.5


class ShutdownSettings(Section):
    cancel_orders: bool = True
    close_positions: bool = False


class DeploymentSettings(Section):
    rotation_frequency_hours: Positive = 24
    emergency_stop: EmergencyStopSettings = EmergencyStopSettings()
    shutdown: ShutdownSettings = ShutdownSettings()


class PipelineSettings(Section):
    runner: Literal["local", "dask"] = "local"
    dask_scheduler: str = ""

    @model_validator(mode="after")
    def _dask_needs_scheduler(self) -> PipelineSettings:
        if self.runner == "dask" and not self.dask_scheduler:
            raise ValueError("runner dask needs dask_scheduler (set SIXBTC_DASK_SCHEDULER)")
        return self


class DashboardSettings(Section):
    refresh_seconds: Annotated[float, Field(gt=0, le=3600)] = 5


class HealthCheckSettings(Section):
    port: Annotated[int, Field(ge=1, le=65535)] = 8080


class ApiSettings(Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000


class MonitoringSettings(Section):
    check_interval_minutes: Positive = 15
    dashboard: DashboardSettings = DashboardSettings()
    health_check: HealthCheckSettings = HealthCheckSettings()
    api: ApiSettings = ApiSettings()


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["json", "console"] = "json"
    file: str = ""
    max_bytes: PositiveInt = 10_485_760
    backup_count: Annotated[int, Field(ge=0)] = 5

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class Settings(Section):
    system: SystemSettings = SystemSettings()
    database: DatabaseSettings = DatabaseSettings()
    hyperliquid: HyperliquidSettings = HyperliquidSettings()
    trading: TradingSettings = TradingSettings()
    risk: RiskSettings = RiskSettings()
    generation: GenerationSettings = GenerationSettings()
    backtesting: BacktestingSettings = BacktestingSettings()
    classification: ClassificationSettings = ClassificationSettings()
    deployment: DeploymentSettings = DeploymentSettings()
    pipeline: PipelineSettings = PipelineSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    logging: LoggingSettings = LoggingSettings()

    @model_validator(mode="after")
    def _live_needs_a_key(self) -> Settings:
        if self.system.deployment_mode == "live" and not self.hyperliquid.private_key.get_secret_value():
            raise ValueError("system.deployment_mode live needs hyperliquid.private_key (set HL_PRIVATE_KEY)")
        return self

    def safe_dump(self) -> dict[str, Any]:
        """Everything, with secrets masked: what `sixbtc config show` prints."""
        return _masked(self.model_dump())


def _masked(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return "***" if value.get_secret_value() else ""
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, str):
        return _URL_PASSWORD.sub(r"\1***@", value)
    return value
