"""Use case: the validation gate a strategy must pass before anything trusts its backtest.

In order, each stage stopping the run when it fails: the static lookahead check (AST, in this
process: it only parses); the sandbox loads the code and describes it; the dynamic lookahead
check (prefix invariance) on the first symbol; the backtest of the sandbox's signals; the
shuffle test; the deflated Sharpe ratio; optionally walk-forward optimisation. The strategy code
itself only ever runs behind the StrategySandbox port. Every outcome, even code that does not
parse, is one event on its own validation stream (StrategyValidated or StrategyRejected).
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from application.event_codec import encode
from application.ports.backtest_engine import BacktestEngine
from application.ports.candle_source import CandleSource
from application.ports.clock import Clock
from application.ports.event_store import EventStore
from application.ports.strategy_sandbox import SandboxRejection, StrategyInfo, StrategySandbox
from application.register_strategy import RegisterStrategy
from application.strategy_candles import checked_frames
from application.validation_policy import ValidationPolicy
from application.validation_report import ValidationReport
from application.walk_forward import WalkForwardOptimiser
from domain.backtest import Costs
from domain.errors import InvalidStrategy
from domain.research_events import validation_outcome
from domain.validation.deflated_sharpe import deflated_sharpe_ratio, returns_from_equity
from domain.validation.errors import InvalidValidationInput
from domain.validation.lookahead_ast import find_lookahead
from domain.validation.prefix_invariance import cut_points, first_difference, prefix_frames
from domain.validation.shuffle import shuffle_test
from domain.validation.violations import Violation

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ValidationRequest:
    code: str
    origin: str = "<strategy>"
    params: Mapping[str, Any] | None = None
    symbols: tuple[str, ...] = ()
    timeframe: str | None = None
    days: int | None = None
    walk_forward: bool = False
    trials: int = 1
    sharpe_variance: float = 0.0
    """How many strategies were tried in this one's batch, and the variance of their per-bar Sharpe ratios."""
    register: bool = True
    scope: Literal["full", "code"] = "full"
    """"code": stop after the sandbox and both lookahead checks (the generator's gate)."""
    record: bool = True
    fail_fast: bool = False
    """Skip the walk-forward search when a cheaper gate (the shuffle test) has already rejected the strategy:
    the pipeline only needs a reason for those, and the search is most of an evaluation's cost."""


class ValidateStrategy:
    def __init__(self, sandbox: StrategySandbox, engine: BacktestEngine, register: RegisterStrategy,
                 events: EventStore, clock: Clock, costs: Costs, policy: ValidationPolicy,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self._sandbox = sandbox
        self._engine = engine
        self._register = register
        self._events = events
        self._clock = clock
        self._costs = costs
        self._policy = policy
        self._new_id = new_id

    def execute(self, request: ValidationRequest, candles: CandleSource,
                progress: Progress | None = None) -> ValidationReport:
        step = progress or (lambda _fraction, _stage: None)
        report = ValidationReport(self._new_id(), request.origin, hashlib.sha256(request.code.encode()).hexdigest())
        self._run(request, candles, report, step)
        if request.register:
            self._identify(request, report)
        if request.record:
            self._record(report)
        step(1.0, "done")
        return report

    def _run(self, request: ValidationRequest, candles: CandleSource, report: ValidationReport, step: Progress) -> None:
        step(0.02, "static lookahead check")
        with _timed(report, "ast"):
            static = find_lookahead(request.code)
        report.ast_ok = not static
        report.add(static)
        step(0.05, "loading in the sandbox")
        try:
            with _timed(report, "sandbox_load"):
                info = self._sandbox.inspect(request.code, request.origin, request.params)
        except SandboxRejection as rejection:
            self._sandbox_failed(report, rejection)
            return
        report.sandbox_ok = True
        report.strategy_name = info.class_name
        report.declared = (info.strategy_type, info.timeframe)
        frames = self._frames(request, candles, info, report)
        step(0.15, "dynamic lookahead check")
        invariant = self._prefix_check(request, info, frames, report)
        if invariant is None:
            return
        if not invariant or not report.ast_ok:
            report.reject("lookahead: the strategy reads future bars")
            return
        if request.scope == "code":
            return
        step(0.4, "backtest")
        try:
            with _timed(report, "signals"):
                signals = self._signals(request, info, frames, request.params)
        except SandboxRejection as rejection:
            self._sandbox_failed(report, rejection)
            return
        with _timed(report, "backtest"):
            run = self._engine.run(frames, signals, timeframe=report.timeframe or info.timeframe, costs=self._costs)
        report.metrics = dict(run.metrics)
        report.run = run
        step(0.55, "shuffle test")
        with _timed(report, "shuffle"):
            report.shuffle = shuffle_test(run, frames, self._policy.shuffle_iterations, self._policy.seed)
        if report.shuffle.p_value > self._policy.max_p_value:
            report.reject(f"shuffle test: p-value {report.shuffle.p_value:.4f} > {self._policy.max_p_value} "
                          f"(the edge is not distinguishable from the same trades at random times)")
        with _timed(report, "deflated_sharpe"):
            returns = returns_from_equity(run.equity["total"].to_numpy(), run.initial_capital)
            try:
                report.deflated = deflated_sharpe_ratio(returns, request.trials, request.sharpe_variance)
            except InvalidValidationInput as exc:
                report.reject(f"deflated Sharpe: {exc}")
        if request.walk_forward and request.fail_fast and report.reasons:
            report.walk_forward = {"passed": None, "skipped": "an earlier gate rejected the strategy", "windows": []}
        elif request.walk_forward:
            step(0.7, "walk-forward optimisation")
            self._walk_forward(request, info, frames, report, signals)

    def _frames(self, request: ValidationRequest, candles: CandleSource, info: StrategyInfo,
                report: ValidationReport) -> dict[str, pd.DataFrame]:
        timeframe, symbols, frames = checked_frames(candles, info, symbols=request.symbols,
                                                    timeframe=request.timeframe, days=request.days, purpose="validate")
        report.timeframe, report.symbols = timeframe, list(symbols)
        return frames

    def _prefix_check(self, request: ValidationRequest, info: StrategyInfo, frames: Mapping[str, pd.DataFrame],
                      report: ValidationReport) -> bool | None:
        """Whether signals are prefix invariant; None when the sandbox stopped the strategy."""
        bars = min(self._policy.prefix_max_bars, self._policy.legacy_prefix_bars) if info.legacy else (
            self._policy.prefix_max_bars)
        df = next(iter(frames.values())).iloc[-bars:]
        cuts = cut_points(len(df), info.warmup_bars, self._policy.cut_points)
        try:
            with _timed(report, "prefix_check"):
                computed = self._sandbox.signals(request.code, request.origin, request.params, prefix_frames(df, cuts))
        except SandboxRejection as rejection:
            self._sandbox_failed(report, rejection)
            return None
        difference = first_difference(computed, cuts)
        report.prefix_ok = difference is None
        if difference is not None:
            report.add([difference.violation(df.index)])
        return report.prefix_ok

    def _walk_forward(self, request: ValidationRequest, info: StrategyInfo, frames: Mapping[str, pd.DataFrame],
                      report: ValidationReport, computed: Mapping[str, pd.DataFrame]) -> None:
        """`policy.walk_forward_search` False: the strategy's own parameters on every window, no grid."""
        policy = self._policy
        grid = info.param_grid if policy.walk_forward_search else {}
        optimiser = WalkForwardOptimiser(self._engine, self._costs, windows=policy.walk_forward_windows,
                                         train_ratio=policy.walk_forward_train_ratio, min_sharpe=policy.min_sharpe,
                                         max_cv=policy.max_cv, max_parameters=policy.max_parameters,
                                         max_combinations=policy.max_combinations)

        def signals_for(params: dict[str, Any]) -> dict[str, pd.DataFrame]:
            if params == info.params:
                return dict(computed)  # the backtest's own signals: the same parameters, computed once
            return self._signals(request, info, frames, params)

        try:
            with _timed(report, "walk_forward"):
                result = optimiser.run(frames, signals_for, param_grid=grid, default_params=info.params,
                                       timeframe=report.timeframe or info.timeframe)
        except SandboxRejection as rejection:
            self._sandbox_failed(report, rejection)
            return
        except InvalidValidationInput as exc:
            report.walk_forward = {"passed": False, "reasons": [str(exc)], "windows": []}
            report.reject(f"walk-forward: {exc}")
            return
        report.walk_forward = result.to_dict()
        for reason in result.reasons:
            report.reject(f"walk-forward: {reason}")

    def _signals(self, request: ValidationRequest, info: StrategyInfo, frames: Mapping[str, pd.DataFrame],
                 params: Mapping[str, Any] | None) -> dict[str, pd.DataFrame]:
        """All symbols in one sandbox call; an old-style (bar by bar) strategy one symbol a call, so
        that each call stays within the sandbox's CPU limit."""
        if not info.legacy:
            return self._sandbox.signals(request.code, request.origin, params, frames)
        return {s: self._sandbox.signals(request.code, request.origin, params, {s: f})[s] for s, f in frames.items()}

    @staticmethod
    def _sandbox_failed(report: ValidationReport, rejection: SandboxRejection) -> None:
        report.sandbox_ok = False
        report.error = rejection.reason
        report.add(rejection.violations or [Violation(f"sandbox_{rejection.kind}", rejection.line, rejection.reason)])
        report.reject(f"sandbox: {rejection.reason}")

    def _identify(self, request: ValidationRequest, report: ValidationReport) -> None:
        """Register the code as a strategy when its header can be read, so the outcome belongs to it."""
        try:
            registered = self._register.execute(request.code, generator="file", origin=request.origin)
        except InvalidStrategy as exc:
            logger.info("validation %s: not registered as a strategy: %s", report.validation_id, exc)
            return
        report.strategy_id, report.strategy_name = registered.strategy_id, registered.name

    def _record(self, report: ValidationReport) -> None:
        event = validation_outcome(passed=report.passed, reasons=tuple(report.reasons),
                                   validation_id=report.validation_id, occurred_at=self._clock.now(),
                                   strategy_id=report.strategy_id, origin=report.origin,
                                   code_sha256=report.code_sha256, report=report.event_report())
        self._events.append(event.stream_id, [encode(event, correlation_id=report.validation_id)], 0)


@contextmanager
def _timed(report: ValidationReport, stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        report.stage_seconds[stage] = report.stage_seconds.get(stage, 0.0) + time.perf_counter() - started
