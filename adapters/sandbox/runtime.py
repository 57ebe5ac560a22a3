"""Inside the worker: load a screened strategy module with a guarded import and no dangerous builtins.

The screen has already refused the code if it names anything dangerous; this is the second,
run-time wall: even a name the screen missed finds no `open`, `exec` or `__import__` of its own,
and only the allowed modules can be imported.
"""

from __future__ import annotations

import builtins
import dis
import math
import sys
import traceback
import types
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from adapters.sandbox.policy import FORBIDDEN_CALLS
from adapters.sandbox.screen import module_allowed, screen
from domain.errors import DomainError, InvalidSignal
from domain.strategy import StrategyCore

_T = TypeVar("_T")


class Refusal(Exception):
    """Carried back to the host as (kind, reason, line)."""

    def __init__(self, kind: str, reason: str, line: int | None = None, violations: list[dict[str, Any]] | None = None):
        super().__init__(reason)
        self.kind, self.reason, self.line, self.violations = kind, reason, line, violations or []


_IMPORT_NAME = dis.opmap["IMPORT_NAME"]


def _guarded_import(name: str, globals_: object = None, locals_: object = None, fromlist: object = (),
                    level: int = 0) -> types.ModuleType:
    """Import statements in strategy code are held to the allowlist.

    numpy and pandas import their own internals lazily from C (`ndarray.max` imports
    numpy._core._methods on first use), and C code finds `__import__` in the builtins of the
    calling Python frame, which is the strategy's. Those imports are not statements of the
    strategy: the caller's current instruction tells them apart.
    """
    caller = sys._getframe(1)
    statement = caller.f_code.co_code[caller.f_lasti] == _IMPORT_NAME
    if statement and (level != 0 or not module_allowed(name)):
        raise ImportError(f"import of {name!r} is not allowed in the sandbox")
    return __import__(name, globals_, locals_, fromlist or (), level)  # type: ignore[arg-type]


def _safe_builtins() -> dict[str, Any]:
    allowed = {k: v for k, v in vars(builtins).items() if k not in FORBIDDEN_CALLS}
    allowed["__import__"] = _guarded_import
    return allowed


def load_class(code: str, origin: str, *, guarded: bool = True) -> type[StrategyCore]:
    """`guarded=False` (screen and import guard off) exists only to test the kernel layers alone."""
    violations = screen(code, origin) if guarded else []
    if violations:
        first = violations[0]
        raise Refusal("screen", f"{first.message} [{first.rule}]", first.line, [v.to_dict() for v in violations])
    module = types.ModuleType("sixbtc_sandboxed")
    module.__dict__["__builtins__"] = _safe_builtins() if guarded else builtins
    module.__dict__["__file__"] = origin
    try:
        exec(compile(code, origin, "exec"), module.__dict__)  # noqa: S102 - screened code, in the confined worker
    except MemoryError:
        raise Refusal("memory", "out of memory while loading the module") from None
    except Exception as exc:  # noqa: BLE001 - any error of the strategy's is its rejection
        raise Refusal("load", f"loading failed: {type(exc).__name__}: {exc}", strategy_line(exc, origin)) from None
    found = [v for v in module.__dict__.values()
             if isinstance(v, type) and issubclass(v, StrategyCore) and v is not StrategyCore
             and v.__module__ == module.__name__]
    if not found:
        raise Refusal("load", "no class deriving from domain.strategy.StrategyCore")
    if len(found) > 1:
        names = ", ".join(sorted(c.__name__ for c in found))
        raise Refusal("load", f"several StrategyCore subclasses ({names}); a strategy module defines exactly one")
    try:
        found[0].check_definition()
    except DomainError as exc:
        raise Refusal("load", str(exc)) from None
    return found[0]


def instantiate(cls: type[StrategyCore], params: Mapping[str, Any] | None, origin: str) -> StrategyCore:
    try:
        return cls(params)
    except DomainError as exc:
        raise Refusal("load", str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - any error of the strategy's is its rejection
        raise Refusal("runtime", f"{cls.__name__}(...) failed: {type(exc).__name__}: {exc}",
                      strategy_line(exc, origin)) from None


def describe(strategy: StrategyCore) -> dict[str, Any]:
    cls = type(strategy)
    return {
        "class_name": cls.__name__, "strategy_type": cls.type, "timeframe": cls.timeframe,
        "params": plain(strategy.params, "params"), "default_params": plain(cls.default_params, "default_params"),
        "param_grid": plain(cls.param_grid, "param_grid"), "legacy": bool(cls.legacy),
        "warmup_bars": int(strategy.warmup_bars()),
    }


def compute(strategy: StrategyCore, frame: pd.DataFrame, origin: str, last_rows: int | None = None) -> pd.DataFrame:
    return _refusing(lambda: strategy.checked_signals(frame.copy(), last_rows), strategy, origin)


def compute_arrays(strategy: StrategyCore, frame: pd.DataFrame, origin: str, last_rows: int | None = None,
                   ) -> dict[str, np.ndarray]:
    """As compute, the columns as arrays: what the worker sends, without a frame built for it."""
    return _refusing(lambda: strategy.checked_signal_arrays(frame.copy(), last_rows), strategy, origin)


def _refusing(run: Callable[[], _T], strategy: StrategyCore, origin: str) -> _T:
    try:
        return run()
    except MemoryError:
        raise Refusal("memory", "out of memory (the sandbox's address-space limit)") from None
    except InvalidSignal as exc:
        raise Refusal("contract", str(exc)) from None
    except RecursionError:
        raise Refusal("runtime", "maximum recursion depth exceeded", None) from None
    except Exception as exc:  # noqa: BLE001 - any error of the strategy's is its rejection
        raise Refusal("runtime", f"{type(exc).__name__} in {type(strategy).__name__}.signals: {exc}",
                      strategy_line(exc, origin)) from None


def strategy_line(exc: BaseException, origin: str) -> int | None:
    """The last line of the strategy's own code in the traceback: where a person should look."""
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == origin]
    return lines[-1] if lines else None


def plain(value: Any, where: str) -> Any:
    """JSON-ready copies of parameter values; anything else is refused by name."""
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise Refusal("load", f"{where} holds a non-finite number")
        return float(value)
    if isinstance(value, list | tuple):
        return [plain(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v, where) for k, v in value.items()}
    raise Refusal("load", f"{where} must hold plain values (numbers, strings, lists), not {type(value).__name__}")
