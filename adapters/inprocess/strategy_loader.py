"""Load a strategy class by executing its module in this process.

Fine for our own examples and for files a person chose to run; generated code goes through the
sandbox of issue #5 instead (same port). The module gets a namespace of its own, so two
strategies that both define `class Strategy` never see each other.
"""

from __future__ import annotations

import sys
import types

from application.strategy_source import read_header
from domain.errors import InvalidStrategy
from domain.strategy import StrategyCore


class InProcessStrategyLoader:
    def load(self, code: str, origin: str) -> type[StrategyCore]:
        header = read_header(code, origin)
        module = types.ModuleType(f"sixbtc_strategy_{abs(hash((code, origin)))}")
        module.__file__ = origin
        try:
            compiled = compile(code, origin, "exec")
            # Registered while it runs so dataclasses, typing and pickling can find the module.
            sys.modules[module.__name__] = module
            exec(compiled, module.__dict__)  # noqa: S102 - running a chosen strategy file is the point
        except Exception as exc:
            raise InvalidStrategy(f"{origin}: loading failed: {type(exc).__name__}: {exc}") from exc
        finally:
            sys.modules.pop(module.__name__, None)
        found = module.__dict__.get(header.class_name)
        if not (isinstance(found, type) and issubclass(found, StrategyCore)):
            raise InvalidStrategy(f"{origin}: {header.class_name} does not derive from domain.strategy.StrategyCore")
        found.check_definition()
        return found
