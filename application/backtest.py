"""Use case: backtest one strategy on candles and record the result as an event.

The strategy runs behind the StrategySandbox port (a confined worker process for generated
code), once per symbol, over all bars at once; the engine port only simulates the resulting
signals. An old-style strategy (only `generate_signal`)
still runs, bar by bar, and the report says it took the slow path. Every backtest becomes a
BacktestCompleted event on the strategy's stream, which the backtest_results projection shows.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from application.ports.backtest_engine import BacktestEngine
from application.ports.candle_source import CandleSource, FundingSource
from application.ports.clock import Clock
from application.ports.event_store import WrongExpectedVersion
from application.ports.read_models import ReadModelStore
from application.ports.strategy_sandbox import StrategySandbox
from application.register_strategy import RegisterStrategy
from application.strategy_candles import checked_frames
from application.strategy_repository import StrategyNotFound, StrategyRepository
from domain.backtest import BacktestRun, Costs
from domain.candles import timeframe_delta
from domain.errors import InvalidStrategy

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
_SAVE_ATTEMPTS = 3


@dataclass(frozen=True)
class BacktestRequest:
    """Either `code` (a strategy module's source) or `strategy` (a stored strategy's name or id)."""

    code: str | None = None
    origin: str = "<strategy>"
    strategy: str | None = None
    params: Mapping[str, Any] | None = None
    symbols: tuple[str, ...] = ()
    timeframe: str | None = None
    days: int | None = None

    def __post_init__(self) -> None:
        if (self.code is None) == (self.strategy is None):
            raise InvalidStrategy("a backtest needs either strategy code or a stored strategy's name, not both")
        if self.days is not None and self.days <= 0:
            raise InvalidStrategy(f"days must be positive, got {self.days}")


@dataclass(frozen=True, eq=False)
class BacktestReport:
    backtest_id: str
    strategy_id: str
    strategy_name: str
    params: dict[str, Any]
    symbols: tuple[str, ...]
    timeframe: str
    period_start: datetime
    period_end: datetime
    slow_path: bool
    run: BacktestRun
    symbol_metrics: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, Any]:
        return self.run.metrics

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON values: one object with `metrics` and every trade under `trades`."""
        trades = self.run.trades
        columns = ("symbol", "side", "entry_time", "entry_price", "exit_time", "exit_price", "quantity", "fees",
                   "funding", "pnl", "return", "exit_reason")
        values = [trades[c].tolist() for c in columns]
        rows = [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]
        for row in rows:
            for key in ("symbol", "side", "exit_reason"):
                row[key] = str(row[key])
            for key in ("entry_time", "exit_time"):
                row[key] = row[key].isoformat()
        return {
            "backtest_id": self.backtest_id, "strategy_id": self.strategy_id, "strategy": self.strategy_name,
            "params": self.params, "symbols": list(self.symbols), "timeframe": self.timeframe,
            "period_start": self.period_start.isoformat(), "period_end": self.period_end.isoformat(),
            "slow_path": self.slow_path, "metrics": self.metrics, "symbol_metrics": self.symbol_metrics,
            "trades": rows,
        }


class RunBacktest:
    def __init__(self, engine: BacktestEngine, repository: StrategyRepository, register: RegisterStrategy,
                 sandbox: StrategySandbox, read_models: ReadModelStore, clock: Clock, costs: Costs,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self._engine = engine
        self._repository = repository
        self._register = register
        self._sandbox = sandbox
        self._read_models = read_models
        self._clock = clock
        self._costs = costs
        self._new_id = new_id

    def execute(self, request: BacktestRequest, candles: CandleSource, funding: FundingSource | None = None,
                progress: Progress | None = None) -> BacktestReport:
        report = progress or (lambda _fraction, _stage: None)
        strategy_id, name, code, origin = self._resolve(request)
        info = self._sandbox.inspect(code, origin, request.params)
        owner = info.class_name
        report(0.05, "loading candles")
        timeframe, symbols, frames = checked_frames(candles, info, symbols=request.symbols,
                                                    timeframe=request.timeframe, days=request.days, purpose="backtest")
        if info.legacy:
            logger.warning("%s overrides only generate_signal: running it bar by bar on a trailing window "
                           "(slow path)", owner)
        signals = {}
        for i, (symbol, frame) in enumerate(frames.items()):
            report(0.1 + 0.6 * i / len(frames), f"signals {symbol}")
            signals[symbol] = self._sandbox.signals(code, origin, request.params, {symbol: frame})[symbol]
        report(0.75, "simulating")
        rates = {s: r for s in symbols if funding is not None and (r := funding.rates(s)) is not None}
        run = self._engine.run(frames, signals, timeframe=timeframe, costs=self._costs, funding=rates or None)
        report(0.9, "recording")
        start = min(f.index[0] for f in frames.values()).to_pydatetime()
        end = (max(f.index[-1] for f in frames.values()) + timeframe_delta(timeframe)).to_pydatetime()
        result = BacktestReport(
            backtest_id=self._new_id(), strategy_id=strategy_id, strategy_name=name, params=dict(info.params),
            symbols=tuple(symbols), timeframe=timeframe, period_start=start, period_end=end,
            slow_path=info.legacy, run=run, symbol_metrics=run.symbol_metrics(),
        )
        self._record(result)
        report(1.0, "done")
        return result

    def _resolve(self, request: BacktestRequest) -> tuple[str, str, str, str]:
        """(strategy id, name, code, origin); code from a file is registered first (idempotent)."""
        if request.code is not None:
            registered = self._register.execute(request.code, generator="file", origin=request.origin)
            return registered.strategy_id, registered.name, request.code, request.origin
        wanted = str(request.strategy)
        rows = self._read_models.rows("strategies", {"name": wanted})
        strategy_id = str(rows[0]["strategy_id"]) if rows else wanted
        if not self._repository.exists(strategy_id):
            raise StrategyNotFound(f"no stored strategy named {wanted!r} (nor with that id); "
                                   "give a strategy file, or see GET /strategies")
        stored = self._repository.get(strategy_id)
        return stored.id, stored.name, stored.code, stored.name

    def _record(self, result: BacktestReport) -> None:
        """Append BacktestCompleted; a concurrent writer on the stream means reload and try again."""
        metrics = result.metrics
        details = {
            **metrics, "symbols": list(result.symbols), "params": result.params, "slow_path": result.slow_path,
            "per_symbol": result.symbol_metrics, "fee_rate": self._costs.fee_rate,
            "slippage": self._costs.slippage, "initial_capital": self._costs.initial_capital,
        }
        for attempt in range(1, _SAVE_ATTEMPTS + 1):
            strategy = self._repository.get(result.strategy_id)
            strategy.record_backtest(
                backtest_id=result.backtest_id, symbol=",".join(result.symbols), timeframe=result.timeframe,
                period_start=result.period_start, period_end=result.period_end,
                total_trades=int(metrics["total_trades"]), win_rate=float(metrics["win_rate"]),
                sharpe=float(metrics["sharpe_ratio"]), total_return=float(metrics["total_return"]),
                max_drawdown=float(metrics["max_drawdown"]), expectancy=float(metrics["expectancy"]),
                metrics=details, at=self._clock.now(),
            )
            try:
                self._repository.save(strategy, correlation_id=result.backtest_id)
                return
            except WrongExpectedVersion:
                if attempt == _SAVE_ATTEMPTS:
                    raise
                logger.info("strategy %s changed while recording backtest %s; retrying",
                            result.strategy_id, result.backtest_id)

