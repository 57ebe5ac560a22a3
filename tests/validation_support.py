"""A ValidateStrategy wired on in-memory stores and real candles, for the validation tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.parquet.loader import load_candles
from adapters.vectorbt.engine import VectorbtBacktestEngine
from application.ports.strategy_sandbox import StrategySandbox
from application.register_strategy import RegisterStrategy
from application.strategy_repository import StrategyRepository
from application.validate_strategy import ValidateStrategy
from application.validation_policy import ValidationPolicy
from domain.backtest import Costs
from tests.conftest import SHARED_DATA

OHLCV = SHARED_DATA / "ohlcv"
NOW = datetime(2026, 1, 2, tzinfo=UTC)


class RealCandles:
    """BTC 15m (the corpus's timeframe) and 1h perps, the last `bars` bars."""

    def __init__(self, bars: int = 6000) -> None:
        self.bars = bars
        self._cache: dict[tuple[str, str], pd.DataFrame] = {}

    def load(self, symbol: str, timeframe: str) -> pd.DataFrame:
        key = (symbol, timeframe)
        if key not in self._cache:
            frame = load_candles(OHLCV / f"BINANCEUSDM_{symbol}USDT_{timeframe}.parquet")
            self._cache[key] = frame.iloc[-self.bars:]
        return self._cache[key]

    def default_symbols(self, timeframe: str) -> list[str]:
        return ["BTC"]


def validator(sandbox: StrategySandbox, store: InMemoryEventStore | None = None,
              policy: ValidationPolicy | None = None) -> ValidateStrategy:
    store = store or InMemoryEventStore()
    clock = ManualClock(NOW)
    register = RegisterStrategy(StrategyRepository(store), clock)
    ids = iter(f"validation-{i}" for i in range(10_000))
    return ValidateStrategy(sandbox, VectorbtBacktestEngine(), register, store, clock, Costs(),
                            policy or ValidationPolicy(shuffle_iterations=100, prefix_max_bars=3000),
                            new_id=lambda: next(ids))
