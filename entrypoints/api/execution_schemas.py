"""Request and response models of the execution endpoints: what OpenAPI documents.

No model has a field for an address or a key: the subaccounts are known by number only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from entrypoints.settings.fields import MAX_SUBACCOUNTS

StrategyId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
                   Field(description="why; recorded with the retirement")]


class DeploymentIn(BaseModel):
    plan: Literal["test", "full"] = Field("test", description="test: the first 3 subaccounts with "
                                          "trading.subaccounts.test_mode_capital each; full: every subaccount")
    dry_run: bool = Field(False, description="plan only: nothing is recorded and no order is sent")
    strategy_ids: list[StrategyId] = Field(default_factory=list, max_length=MAX_SUBACCOUNTS,
                                    description="deploy these (each SELECTED); empty: every SELECTED one, best first")

    @model_validator(mode="after")
    def _ids(self) -> DeploymentIn:
        if len(set(self.strategy_ids)) != len(self.strategy_ids):
            raise ValueError("strategy_ids must be distinct")
        return self


class StepView(BaseModel):
    strategy_id: str
    subaccount: int | None
    capital: float
    status: Literal["deployed", "planned", "skipped"]
    reason: str | None = None


class DeploymentView(BaseModel):
    deployment_id: str
    mode: Literal["paper", "live"]
    plan: Literal["test", "full"]
    dry_run: bool
    steps: list[StepView]


class StopIn(BaseModel):
    reason: Reason


class StopView(BaseModel):
    strategy_id: str
    subaccount: int
    reason: str
    cancelled_orders: list[str]
    closed_symbols: list[str]
    realized_pnl: float


class RotationIn(BaseModel):
    old_strategy_id: StrategyId
    new_strategy_id: StrategyId
    reason: Reason

    @model_validator(mode="after")
    def _different(self) -> RotationIn:
        if self.old_strategy_id == self.new_strategy_id:
            raise ValueError("old_strategy_id and new_strategy_id must differ")
        return self


class RotationView(BaseModel):
    stopped: StopView
    deployed: StepView


class PositionView(BaseModel):
    symbol: str
    direction: str | None = None
    size: float
    entry_price: float | None = None
    strategy_id: str | None = None
    updated_at: datetime | None = None


class SubaccountView(BaseModel):
    subaccount: int
    status: Literal["free", "active"]
    configured: bool = Field(description="within 1..trading.subaccounts.count")
    strategy_id: str | None = None
    mode: str | None = None
    capital: float | None = None
    account_value: float | None = Field(None, description="USDC at the last reconciliation")
    assigned_at: datetime | None = None
    previous_strategy_id: str | None = None
    unassigned_reason: str | None = None
    last_reconciled_at: datetime | None = None
    last_differences: int | None = None
    positions: list[PositionView] = Field(default_factory=list, description="open positions (size > 0)")


class ReconciliationIn(BaseModel):
    subaccount: int | None = Field(None, ge=1, le=MAX_SUBACCOUNTS, description="default: every configured one")


class DifferenceView(BaseModel):
    kind: str
    key: str
    difference: str
    recorded: dict[str, Any] | None = None
    exchange: dict[str, Any] | None = None


class ReconciliationView(BaseModel):
    subaccount: int
    clean: bool
    fills_imported: int
    account_value: float
    differences: list[DifferenceView]


class ReconciliationsView(BaseModel):
    mode: Literal["paper", "live"]
    reconciliations: list[ReconciliationView]


class EmergencyStopIn(BaseModel):
    all: bool = Field(False, description="every subaccount, assigned or not (the kill switch)")
    subaccount: int | None = Field(None, ge=1, le=MAX_SUBACCOUNTS, description="only this subaccount")
    reason: Reason = "manual emergency stop"

    @model_validator(mode="after")
    def _exactly_one(self) -> EmergencyStopIn:
        if self.all == (self.subaccount is not None):
            raise ValueError("give exactly one of all: true or subaccount")
        return self


class EmergencyOutcomeView(BaseModel):
    subaccount: int
    strategy_id: str | None = Field(description="the strategy stopped and retired; null: none was assigned")
    reason: str
    closed_symbols: list[str]


class EmergencyStopView(BaseModel):
    mode: Literal["paper", "live"]
    reason: str
    complete: bool = Field(description="always true in a 200: an incomplete stop is a problem response")
    stopped: list[EmergencyOutcomeView]
