"""Running untrusted strategy code: load it, describe it, compute its signals, nothing else.

Generated strategies are code written by an LLM. The host never imports them: an adapter of
this port runs them somewhere they cannot harm the host (a confined worker process), and only
plain data comes back (numbers, strings, checked signal frames). The in-process adapter is for
trusted code (our examples, the contract tests); the use cases cannot tell them apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import pandas as pd

from domain.errors import InvalidStrategy
from domain.validation.violations import Violation

RejectionKind = Literal["screen", "load", "contract", "runtime", "timeout", "cpu", "memory", "crash"]
"""screen: refused before running; load: the module failed to define one strategy; contract: a
bad signals frame; runtime: an exception in the strategy; timeout/cpu/memory: a limit was hit;
crash: the worker process died otherwise."""


class SandboxRejection(InvalidStrategy):
    """The sandbox refused or stopped the code; `reason` is one line, `violations` the screen's findings."""

    def __init__(self, kind: RejectionKind, reason: str, violations: tuple[Violation, ...] = (),
                 line: int | None = None) -> None:
        super().__init__(reason)
        self.kind: RejectionKind = kind
        self.reason = reason
        self.violations = violations
        self.line = line


@dataclass(frozen=True)
class StrategyInfo:
    """What the host may know of a loaded strategy: its declared attributes, as plain values."""

    class_name: str
    strategy_type: str
    timeframe: str
    params: dict[str, Any]
    default_params: dict[str, Any] = field(default_factory=dict)
    param_grid: dict[str, list[Any]] = field(default_factory=dict)
    legacy: bool = False
    warmup_bars: int = 0


class StrategySandbox(Protocol):
    def inspect(self, code: str, origin: str, params: Mapping[str, Any] | None = None) -> StrategyInfo:
        """Load `code` and describe its one StrategyCore subclass; SandboxRejection otherwise."""
        ...

    def signals(self, code: str, origin: str, params: Mapping[str, Any] | None,
                frames: Mapping[str, pd.DataFrame], last_rows: int | None = None) -> dict[str, pd.DataFrame]:
        """The checked signals frame (domain.signal_frame) of each candle frame, under the same keys.

        `last_rows`: only that many rows at the end of each, the only ones checked for values (the
        strategy still sees every bar): the live loop acts on the last row, and checking, shipping
        and checking again a thousand rows it never reads cost time on every bar.
        """
        ...

    def close(self) -> None:
        """Release whatever the adapter holds (worker processes); safe to call twice."""
        ...
