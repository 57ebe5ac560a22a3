"""The StrategySandbox port in this process, for trusted code: our examples, tests, a person's own file.

It answers exactly like the process sandbox (same screen, same rejections, same checked frames)
but has no confinement, so the container never gives it untrusted code unless told to
(`validation.sandbox.isolation: none`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from adapters.sandbox.runtime import Refusal, compute, describe, instantiate, load_class
from application.ports.strategy_sandbox import SandboxRejection, StrategyInfo
from domain.signal_frame import check_last_rows
from domain.strategy import StrategyCore
from domain.validation.violations import Violation


class InProcessSandbox:
    def __init__(self) -> None:
        self._classes: dict[tuple[str, str], type[StrategyCore]] = {}

    def inspect(self, code: str, origin: str, params: Mapping[str, Any] | None = None) -> StrategyInfo:
        found = self._run(lambda: describe(self._strategy(code, origin, params)), origin)
        return StrategyInfo(**found)

    def signals(self, code: str, origin: str, params: Mapping[str, Any] | None,
                frames: Mapping[str, pd.DataFrame], last_rows: int | None = None) -> dict[str, pd.DataFrame]:
        check_last_rows(last_rows)

        def run() -> dict[str, pd.DataFrame]:
            strategy = self._strategy(code, origin, params)
            return {key: compute(strategy, frame, origin, last_rows) for key, frame in frames.items()}

        return self._run(run, origin)

    def close(self) -> None:
        self._classes.clear()

    def _strategy(self, code: str, origin: str, params: Mapping[str, Any] | None) -> StrategyCore:
        key = (origin, code)
        if key not in self._classes:
            self._classes[key] = load_class(code, origin)
        return instantiate(self._classes[key], params, origin)

    @staticmethod
    def _run(action: Any, origin: str) -> Any:
        try:
            return action()
        except Refusal as refusal:
            where = f"line {refusal.line}: " if refusal.line else ""
            violations = tuple(Violation(v["rule"], v["line"], v["message"]) for v in refusal.violations)
            raise SandboxRejection(refusal.kind, f"{origin}: {where}{refusal.reason}",  # type: ignore[arg-type]
                                   violations, refusal.line) from None
