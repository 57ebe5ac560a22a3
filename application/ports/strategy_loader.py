"""Turning strategy source code into a class the engine can run.

Generated code is untrusted: this port is where a sandbox (issue #5) replaces the in-process
loader, without the backtest use case noticing.
"""

from __future__ import annotations

from typing import Protocol

from domain.strategy import StrategyCore


class StrategyLoader(Protocol):
    def load(self, code: str, origin: str) -> type[StrategyCore]:
        """The StrategyCore subclass `code` defines; InvalidStrategy (naming `origin`) otherwise."""
        ...
