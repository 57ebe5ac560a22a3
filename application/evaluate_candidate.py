"""One candidate through every gate, as a plain result a worker process can send back.

The research pipeline runs this in its batch runner's workers: the validation use case (sandbox,
both lookahead checks, backtest, shuffle test, walk-forward) on the run's candles, plus what the
selection needs later and a worker cannot compute alone: daily returns (for correlation), the
trades' regimes, and the per-bar Sharpe moments (the deflated Sharpe needs the whole batch).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from application.validate_strategy import ValidateStrategy, ValidationRequest
from application.validation_report import ValidationReport
from domain.classification.regimes import RegimeWindows, regime_performance
from domain.errors import DomainError


@dataclass(frozen=True)
class CandidateTask:
    strategy_id: str
    name: str
    strategy_type: str
    timeframe: str
    code: str


class FrameCandles:
    """The run's candles, held in memory: (symbol, timeframe) -> frame."""

    def __init__(self, frames: Mapping[tuple[str, str], pd.DataFrame], symbols: tuple[str, ...]) -> None:
        self._frames = frames
        self._symbols = symbols

    def load(self, symbol: str, timeframe: str) -> pd.DataFrame:
        from application.ports.market_data import UnknownSymbol

        try:
            return self._frames[(symbol, timeframe)]
        except KeyError:
            raise UnknownSymbol(f"{symbol} {timeframe}: not among this run's candles") from None

    def default_symbols(self, timeframe: str) -> list[str]:
        return [s for s in self._symbols if (s, timeframe) in self._frames]


def evaluate(validate: ValidateStrategy, candles: FrameCandles, task: CandidateTask,
             fail_fast: bool = True) -> dict[str, Any]:
    """The candidate's result; a data problem (too little history) is a failed gate, not a crash.

    `fail_fast`: gates in order of cost, the walk-forward search only for what passed the others.
    """
    request = ValidationRequest(code=task.code, origin=task.name, timeframe=task.timeframe, walk_forward=True,
                                register=False, record=False, fail_fast=fail_fast)
    try:
        report = validate.execute(request, candles)
    except DomainError as exc:
        return failed_result(task, f"could not be evaluated: {exc}")
    return _result(task, report, candles)


def _result(task: CandidateTask, report: ValidationReport, candles: FrameCandles) -> dict[str, Any]:
    found: dict[str, Any] = {
        "strategy_id": task.strategy_id, "name": task.name, "strategy_type": task.strategy_type,
        "timeframe": task.timeframe, "passed_gates": report.passed, "gate_reasons": list(report.reasons),
        "validation": report.event_report(), "metrics": report.metrics, "symbols": report.symbols,
        "shuffle_p_value": report.shuffle.p_value if report.shuffle else None,
        "test_sharpes": [w.get("test_sharpe") for w in (report.walk_forward or {}).get("windows", [])],
        "moments": None, "daily_returns": {}, "regimes": {},
    }
    if report.deflated is not None:
        d = report.deflated
        found["moments"] = {"sharpe": d.sharpe, "skew": d.skew, "kurtosis": d.kurtosis,
                            "observations": d.observations}
    run = report.run
    if run is not None:
        daily = run.daily_returns()
        found["daily_returns"] = {day.date().isoformat(): float(r) for day, r in daily.items() if math.isfinite(r)}
        frames = {s: candles.load(s, run.timeframe) for s in run.bars}
        windows = RegimeWindows.for_timeframe(run.timeframe)
        found["regimes"] = {k: dataclasses.asdict(v) for k, v in regime_performance(run, frames, windows).items()}
    return found


def failed_result(task: CandidateTask, reason: str) -> dict[str, Any]:
    """The result of a candidate that never got through evaluation: one gate reason, no numbers."""
    return {"strategy_id": task.strategy_id, "name": task.name, "strategy_type": task.strategy_type,
            "timeframe": task.timeframe, "passed_gates": False, "gate_reasons": [reason], "validation": None,
            "metrics": None, "symbols": [], "shuffle_p_value": None, "test_sharpes": [], "moments": None,
            "daily_returns": {}, "regimes": {}}
