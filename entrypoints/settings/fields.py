"""Value types shared by the config sections, each with the message a user should read.

Messages never quote the value: after interpolation it may have come from a secret variable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from domain.strategy import TIMEFRAMES
from entrypoints.settings.errors import KeyedValueError

MAX_SUBACCOUNTS = 10
"""Hyperliquid's limit of subaccounts per master account."""

_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_ADDRESS_IN_TEXT = re.compile(r"\b0x[0-9a-fA-F]{36}([0-9a-fA-F]{4})\b")


class Section(BaseModel):
    """Frozen, and unknown keys are errors: a typo must not silently leave a default in force."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _rule(holds: Callable[[Any], bool], message: str) -> AfterValidator:
    def check(value: Any) -> Any:
        if not holds(value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


def _unique_nonempty(values: list[str]) -> list[str]:
    seen: set[str] = set()
    for index, item in enumerate(values):
        if not item.strip():
            raise KeyedValueError(str(index), "must not be empty")
        if item in seen:
            raise KeyedValueError(str(index), "is listed twice")
        seen.add(item)
    return values


def _postgres(url: str) -> str:
    if url and not url.startswith(("postgresql://", "postgresql+psycopg2://", "postgres://")):
        raise ValueError("must be a PostgreSQL URL (postgresql://user:password@host:5432/db) or empty")
    return url.replace("postgres://", "postgresql://", 1) if url.startswith("postgres://") else url


Fraction = Annotated[float, _rule(lambda v: 0 < v < 1, "must be between 0 and 1")]
Rate = Annotated[float, Field(ge=0, lt=0.05)]
Unit = Annotated[float, Field(ge=0, le=1)]
Positive = Annotated[float, Field(gt=0)]
PositiveInt = Annotated[int, Field(ge=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Port = Annotated[int, Field(ge=1, le=65535)]
HttpUrl = Annotated[str, _rule(lambda v: v.startswith(("http://", "https://")), "must be an http or https URL")]
WsUrl = Annotated[str, _rule(lambda v: v.startswith(("ws://", "wss://")), "must be a ws or wss URL")]
PostgresUrl = Annotated[str, AfterValidator(_postgres)]
Address = Annotated[str, _rule(lambda v: bool(_ADDRESS.fullmatch(v)), "must be 0x followed by 40 hex digits")]
OptionalAddress = Annotated[str, _rule(lambda v: not v or bool(_ADDRESS.fullmatch(v)),
                                       "must be 0x followed by 40 hex digits, or empty")]
SubaccountNumber = Annotated[int, _rule(lambda v: 1 <= v <= MAX_SUBACCOUNTS,
                                        f"must be a subaccount number from 1 to {MAX_SUBACCOUNTS}")]
Timeframe = Annotated[str, _rule(lambda v: v in TIMEFRAMES, f"must be one of {', '.join(TIMEFRAMES)}")]
Names = Annotated[list[str], Field(min_length=1), AfterValidator(_unique_nonempty)]
Timeframes = Annotated[list[Timeframe], Field(min_length=1), AfterValidator(_unique_nonempty)]


def masked(value: Any) -> Any:
    """A plain copy of a model dump with secrets and URL passwords replaced by `***`.

    Account addresses keep only their last 4 hex digits (`0x***1a2b`): enough to tell which
    subaccount is which, not enough to look the account up.
    """
    if isinstance(value, SecretStr):
        return "***" if value.get_secret_value() else ""
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    if isinstance(value, str):
        return _ADDRESS_IN_TEXT.sub(r"0x***\1", _URL_PASSWORD.sub(r"\1***@", value))
    return value
