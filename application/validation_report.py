"""What a validation run found, as plain values: the CLI's `--json`, the API's result, the event."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.backtest import BacktestRun
from domain.validation.deflated_sharpe import DeflatedSharpe
from domain.validation.shuffle import ShuffleResult
from domain.validation.violations import Violation


@dataclass
class ValidationReport:
    """`error` is the one-line reason the sandbox stopped the code (None when it ran to the end)."""

    validation_id: str
    origin: str
    code_sha256: str
    strategy_id: str | None = None
    strategy_name: str | None = None
    sandbox_ok: bool = False
    ast_ok: bool = False
    prefix_ok: bool | None = None
    violations: list[Violation] = field(default_factory=list)
    shuffle: ShuffleResult | None = None
    deflated: DeflatedSharpe | None = None
    walk_forward: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    error: str | None = None
    reasons: list[str] = field(default_factory=list)
    timeframe: str | None = None
    declared: tuple[str, str] | None = None
    """The strategy's own (type, timeframe), as its class declares them."""
    symbols: list[str] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    run: BacktestRun | None = field(default=None, repr=False)
    """The backtest itself (not serialised): the pipeline reads daily returns and regimes from it."""

    @property
    def lookahead_free(self) -> bool:
        """False when either lookahead check failed (or the dynamic one could not run)."""
        return self.ast_ok and self.prefix_ok is True

    @property
    def passed(self) -> bool:
        return self.sandbox_ok and self.lookahead_free and not self.reasons

    def reject(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)

    def add(self, violations: list[Violation] | tuple[Violation, ...]) -> None:
        for violation in violations:
            if violation not in self.violations:
                self.violations.append(violation)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "file": self.origin, "validation_id": self.validation_id, "strategy_id": self.strategy_id,
            "strategy": self.strategy_name, "passed": self.passed, "sandbox_ok": self.sandbox_ok,
            "ast_ok": self.ast_ok, "lookahead_free": self.lookahead_free,
            "violations": [v.to_dict() for v in self.violations],
            "shuffle_p_value": self.shuffle.p_value if self.shuffle else None,
            "shuffle_z_p_value": self.shuffle.z_p_value if self.shuffle else None,
            "shuffle": self.shuffle.to_dict() if self.shuffle else None,
            "deflated_sharpe": self.deflated.dsr if self.deflated else None,
            "deflated": self.deflated.to_dict() if self.deflated else None,
            "walk_forward": self.walk_forward, "metrics": self.metrics, "timeframe": self.timeframe,
            "symbols": self.symbols, "reasons": list(self.reasons), "error": self.error,
            "stage_seconds": dict(self.stage_seconds),
        }

    def event_report(self) -> dict[str, Any]:
        """The stored facts: everything but timings (which differ run to run)."""
        found = self.to_json_dict()
        found.pop("stage_seconds")
        found.pop("declared", None)
        found["walk_forward_passed"] = self.walk_forward.get("passed") if self.walk_forward else None
        return found
