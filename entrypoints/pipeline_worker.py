"""What each batch-runner worker runs: one candidate through the gates, with its own sandbox and engine.

A module-level function, so a process pool can pickle it; the worker builds its sandbox worker,
backtest engine and validation use case once, from the run's settings, and reuses them for every
candidate it gets. Nothing here writes to the database: results go back to the pipeline process.
"""

from __future__ import annotations

import atexit
from collections.abc import Mapping
from typing import Any

from adapters.clock.system import SystemClock
from adapters.memory.event_store import InMemoryEventStore
from application.evaluate_candidate import CandidateTask, FrameCandles, evaluate
from application.ports.strategy_sandbox import StrategySandbox
from application.register_strategy import RegisterStrategy
from application.research_pipeline import EvaluationContext
from application.strategy_repository import StrategyRepository
from application.validate_strategy import ValidateStrategy
from application.validation_policy import ValidationPolicy
from domain.backtest import Costs

_built: dict[str, ValidateStrategy] = {}


def evaluate_candidate(context: EvaluationContext, task: CandidateTask) -> dict[str, Any]:
    """The pipeline's evaluation: gates in order of cost (`pipeline.full_evaluation` in the settings: every stage)."""
    return evaluate(_validator(context.settings), FrameCandles(context.frames, context.symbols), task,
                    fail_fast=not context.settings.get("full_evaluation", False))


def _validator(settings: Mapping[str, Any]) -> ValidateStrategy:
    key = repr(sorted(settings.items()))
    if key not in _built:
        from adapters.vectorbt.engine import VectorbtBacktestEngine

        store, clock = InMemoryEventStore(), SystemClock()
        _built.clear()
        _built[key] = ValidateStrategy(
            _sandbox(settings), VectorbtBacktestEngine(threads=1), RegisterStrategy(StrategyRepository(store), clock),
            store, clock, Costs(**settings["costs"]), ValidationPolicy(**settings["policy"]))
    return _built[key]


def _sandbox(settings: Mapping[str, Any]) -> StrategySandbox:
    sandbox: StrategySandbox
    if settings["isolation"] == "none":
        from adapters.inprocess.sandbox import InProcessSandbox

        sandbox = InProcessSandbox()
    else:
        from adapters.sandbox.process_sandbox import ProcessSandbox
        from adapters.sandbox.worker_process import SandboxLimits

        sandbox = ProcessSandbox(SandboxLimits(**settings["limits"]), require=tuple(settings["require"]))
    atexit.register(sandbox.close)
    return sandbox
