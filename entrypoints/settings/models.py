"""Pydantic models of config/config.yaml, one per section: every key typed and ranged.

Defaults equal the shipped config.yaml, so a file that sets only a few keys behaves like it.
Validator messages never quote the value: it may have come from a secret environment variable.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from application.ports.notifier import KINDS, NotificationKind
from domain.strategy import MAX_GRID_PARAMS
from entrypoints.settings.errors import KeyedValueError
from entrypoints.settings.fields import (
    MAX_SUBACCOUNTS,
    Address,
    Fraction,
    HttpUrl,
    Names,
    NonNegativeInt,
    OptionalAddress,
    Port,
    Positive,
    PositiveInt,
    PostgresUrl,
    Rate,
    Section,
    SubaccountNumber,
    Timeframes,
    Unit,
    WsUrl,
    masked,
)


class SystemSettings(Section):
    name: str = "SixBTC"
    """Shown as the API's title and on the web dashboard, to tell one instance from another."""
    data_dir: str = "data"
    var_dir: str = "var"


class DatabaseSettings(Section):
    url: PostgresUrl = ""
    embedded_dir: str = "var/pg"
    pool_size: PositiveInt = 5
    max_overflow: NonNegativeInt = 10
    connect_timeout_seconds: PositiveInt = 5


class HyperliquidSettings(Section):
    base_url: HttpUrl = "https://api.hyperliquid.xyz"
    ws_url: WsUrl = "wss://api.hyperliquid.xyz/ws"
    main_address: OptionalAddress = ""
    subaccounts: dict[SubaccountNumber, Address] = Field(default_factory=dict)
    fee_rate: Rate = 0.00045
    slippage: Rate = 0.0005
    min_notional: Positive = 10.0


class SubaccountSettings(Section):
    count: Annotated[int, Field(ge=1, le=MAX_SUBACCOUNTS)] = 10
    test_mode_capital: Positive = 100.0


class MarketDataSettings(Section):
    min_volume_24h: Annotated[float, Field(ge=0)] = 1_000_000.0
    binance_base_url: str = ""


class TradingSettings(Section):
    symbols: Names = Field(default_factory=lambda: ["BTC", "ETH", "SOL"])
    timeframes: Timeframes = Field(default_factory=lambda: ["15m", "30m", "1h", "4h", "1d"])
    leverage: Annotated[int, Field(ge=1, le=50)] = 1
    max_slippage: Fraction = 0.005
    subaccounts: SubaccountSettings = SubaccountSettings()
    data: MarketDataSettings = MarketDataSettings()


class RiskSettings(Section):
    risk_per_trade: Fraction = 0.02
    max_position_size: Fraction = 0.20
    max_open_positions: PositiveInt = 10
    max_drawdown_emergency: Fraction = 0.25
    max_daily_loss: Fraction = 0.10

    @model_validator(mode="after")
    def _risk_within_position(self) -> RiskSettings:
        if self.risk_per_trade > self.max_position_size:
            raise KeyedValueError("risk_per_trade", "cannot exceed risk.max_position_size")
        return self


class ProviderSettings(Section):
    enabled: bool = False
    model: str
    api_key: SecretStr = SecretStr("")
    base_url: HttpUrl | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] = 0.7
    max_tokens: Annotated[int, Field(ge=64, le=200_000)] = 4000
    weight: Annotated[float, Field(ge=0)] = 1.0


def _default_providers() -> dict[str, ProviderSettings]:
    return {
        "claude": ProviderSettings(model="claude-sonnet-4-5"),
        "codex": ProviderSettings(model="gpt-4.1"),
        "gemini": ProviderSettings(model="gemini-2.5-pro",
                                   base_url="https://generativelanguage.googleapis.com/v1beta/openai/"),
    }


class PatternDiscoverySettings(Section):
    enabled: bool = False
    api_url: HttpUrl = "http://localhost:8001"
    tier_filter: Annotated[int, Field(ge=1, le=3)] = 1
    min_quality_score: Unit = 0.75


class GenerationSettings(Section):
    frequency_hours: Positive = 4
    batch_size: PositiveInt = 20
    strategy_types: Names = Field(default_factory=lambda: ["MOM", "REV", "TRN", "BRE", "VOL"])
    max_fix_attempts: Annotated[int, Field(ge=0, le=10)] = 3
    spending_cap_usd: Annotated[float, Field(ge=0)] = 5.0
    offline_fallback: bool = True
    ai_providers: dict[str, ProviderSettings] = Field(default_factory=_default_providers)
    pattern_discovery: PatternDiscoverySettings = PatternDiscoverySettings()


class ShuffleSettings(Section):
    iterations: Annotated[int, Field(ge=10, le=100_000)] = 100
    max_p_value: Fraction = 0.05


class WalkForwardSettings(Section):
    windows: Annotated[int, Field(ge=2)] = 4
    train_ratio: Fraction = 0.75


class OptimizationSettings(Section):
    max_parameters: Annotated[int, Field(ge=1, le=MAX_GRID_PARAMS)] = MAX_GRID_PARAMS
    max_combinations: Annotated[int, Field(ge=1, le=10_000)] = 16


class BacktestingSettings(Section):
    lookback_days: PositiveInt = 180
    initial_capital: Positive = 10_000.0
    fee_rate: Rate = 0.00045
    slippage: Rate = 0.0005
    parallel_workers: PositiveInt = 2
    min_sharpe: float = 1.0
    min_win_rate: Unit = 0.45
    min_trades: PositiveInt = 30
    max_drawdown: Fraction = 0.30
    shuffle: ShuffleSettings = ShuffleSettings()
    walk_forward: WalkForwardSettings = WalkForwardSettings()
    optimization: OptimizationSettings = OptimizationSettings()


class SandboxSettings(Section):
    isolation: Literal["process", "none"] = "process"
    cpu_seconds: Annotated[float, Field(gt=0, le=3600)] = 30.0
    wall_seconds: Annotated[float, Field(gt=0, le=7200)] = 60.0
    memory_mb: Annotated[int, Field(ge=256, le=1_048_576)] = 2048
    require: list[Literal["seccomp", "landlock"]] = Field(default_factory=lambda: ["seccomp"])


class LookaheadSettings(Section):
    cut_points: Annotated[int, Field(ge=1, le=100)] = 8
    max_bars: Annotated[int, Field(ge=100)] = 6000


class ValidationSettings(Section):
    sandbox: SandboxSettings = SandboxSettings()
    lookahead: LookaheadSettings = LookaheadSettings()
    max_parameter_cv: Annotated[float, Field(gt=0)] = 0.3
    seed: NonNegativeInt = 0


class ScoreWeights(Section):
    edge: Unit = 0.4
    sharpe: Unit = 0.3
    consistency: Unit = 0.2
    stability: Unit = 0.1

    @model_validator(mode="after")
    def _sum_to_one(self) -> ScoreWeights:
        total = self.edge + self.sharpe + self.consistency + self.stability
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"must sum to 1, they sum to {total:g}")
        return self


Bound = tuple[float, float]


class ScoreBoundSettings(Section):
    """Where each score component counts 0 and where it counts fully (values between are linear)."""

    edge: Bound = (0.0, 0.01)
    sharpe: Bound = (0.0, 3.0)
    consistency: Bound = (0.3, 0.8)
    stability: Bound = (0.0, 1.0)

    @model_validator(mode="after")
    def _ordered(self) -> ScoreBoundSettings:
        for name in ("edge", "sharpe", "consistency", "stability"):
            low, high = getattr(self, name)
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise KeyedValueError(name, "must be [low, high] with low < high")
        return self


class ClassificationSettings(Section):
    frequency_hours: Positive = 1
    top_n: Annotated[int, Field(ge=1, le=100)] = 10
    min_score: Annotated[float, Field(ge=0, le=100)] = 50
    max_per_type: PositiveInt = 3
    max_per_timeframe: PositiveInt = 3
    max_correlation: Annotated[float, Field(gt=0, le=1)] = 0.7
    min_deflated_sharpe: Unit = 0.95
    regime_filter: bool = True
    weights: ScoreWeights = ScoreWeights()
    bounds: ScoreBoundSettings = ScoreBoundSettings()


class EmergencyStopSettings(Section):
    strategy_degradation: Fraction = 0.5


class ShutdownSettings(Section):
    cancel_orders: bool = True
    close_positions: bool = False


class DeploymentSettings(Section):
    mode: Literal["paper", "live"] = "paper"
    """live is one of three locks: orders reach Hyperliquid only with this, `--live` on the command
    line and HL_PRIVATE_KEY in the environment (see entrypoints/execution.py)."""
    rotation_frequency_hours: Positive = 24
    candle_grace_seconds: Annotated[int, Field(ge=0, lt=60)] = 5
    parallel_decisions: Annotated[int, Field(ge=1, le=64)] = 10
    """Subaccounts decided at once after a candle closes (1: one after another)."""
    emergency_stop: EmergencyStopSettings = EmergencyStopSettings()
    shutdown: ShutdownSettings = ShutdownSettings()


class PipelineSettings(Section):
    runner: Literal["local", "dask"] = "local"
    dask_scheduler: str = ""
    holdout_days: NonNegativeInt = 0
    walk_forward: Literal["windows", "optimise"] = "windows"

    @model_validator(mode="after")
    def _dask_needs_scheduler(self) -> PipelineSettings:
        if self.runner == "dask" and not self.dask_scheduler:
            raise KeyedValueError("dask_scheduler", "is required when pipeline.runner is dask")
        return self


class DashboardSettings(Section):
    refresh_seconds: Annotated[float, Field(gt=0, le=3600)] = 5


class HealthCheckSettings(Section):
    enabled: bool = True
    port: Port = 8080


class ApiSettings(Section):
    host: str = "127.0.0.1"
    port: Port = 8000
    require_key_for_reads: bool = False
    """Writes always need an X-API-Key from SIXBTC_API_KEYS (entrypoints/api/security.py); reads only if true."""


class TelegramSettings(Section):
    enabled: bool = False
    bot_token: SecretStr = SecretStr("")
    chat_id: str = ""
    base_url: HttpUrl = "https://api.telegram.org"

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> TelegramSettings:
        if self.enabled and not self.bot_token.get_secret_value().strip():
            raise KeyedValueError("bot_token", "is required when telegram notifications are enabled")
        if self.enabled and not self.chat_id.strip():
            raise KeyedValueError("chat_id", "is required when telegram notifications are enabled")
        return self


class WebhookSettings(Section):
    enabled: bool = False
    url: SecretStr = SecretStr("")
    """Secret: Slack- and Discord-style webhook URLs carry their token in the path."""
    secret: SecretStr = SecretStr("")
    header: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9-]+$")] = "Authorization"

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> WebhookSettings:
        url = self.url.get_secret_value()
        if url and not url.startswith(("http://", "https://")):
            raise KeyedValueError("url", "must be an http or https URL")
        if self.enabled and not url:
            raise KeyedValueError("url", "is required when webhook notifications are enabled")
        return self


class NotificationSettings(Section):
    enabled: bool = False
    events: Annotated[list[NotificationKind], Field(min_length=1)] = Field(
        default_factory=lambda: list(KINDS))
    interval_seconds: Annotated[float, Field(ge=1, le=3600)] = 5
    timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 10
    retries: Annotated[int, Field(ge=0, le=5)] = 2
    max_age_minutes: Annotated[float, Field(gt=0)] = 1440
    telegram: TelegramSettings = TelegramSettings()
    webhook: WebhookSettings = WebhookSettings()

    @model_validator(mode="after")
    def _a_target_when_enabled(self) -> NotificationSettings:
        if self.enabled and not (self.telegram.enabled or self.webhook.enabled):
            raise KeyedValueError("enabled", "needs a target: set telegram.enabled or webhook.enabled to true")
        return self


class MonitoringSettings(Section):
    check_interval_minutes: Positive = 15
    dashboard: DashboardSettings = DashboardSettings()
    health_check: HealthCheckSettings = HealthCheckSettings()
    api: ApiSettings = ApiSettings()
    notifications: NotificationSettings = NotificationSettings()


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["json", "console"] = "json"
    file: str = "logs/sixbtc.log"
    max_bytes: PositiveInt = 10_485_760
    backup_count: NonNegativeInt = 5

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
    validation: ValidationSettings = ValidationSettings()
    classification: ClassificationSettings = ClassificationSettings()
    deployment: DeploymentSettings = DeploymentSettings()
    pipeline: PipelineSettings = PipelineSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    logging: LoggingSettings = LoggingSettings()

    def safe_dump(self) -> dict[str, Any]:
        """Everything, with secrets masked: what `sixbtc config show` prints."""
        dumped: dict[str, Any] = masked(self.model_dump())
        return dumped

