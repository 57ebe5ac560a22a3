"""Read a strategy module's header (class, type, timeframe) from its syntax tree, without running it.

Strategy code is untrusted until the sandbox has checked it, so nothing here imports or
executes it: registration only needs the class attributes, which are literals.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from domain.errors import InvalidStrategy
from domain.strategy import TIMEFRAMES


@dataclass(frozen=True)
class StrategyHeader:
    class_name: str
    strategy_type: str
    timeframe: str


def read_header(code: str, origin: str = "<strategy>") -> StrategyHeader:
    try:
        tree = ast.parse(code, filename=origin)
    except SyntaxError as exc:
        raise InvalidStrategy(f"{origin}: syntax error at line {exc.lineno}: {exc.msg}") from None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(_named(base) == "StrategyCore" for base in node.bases):
            attrs = _literal_attributes(node)
            strategy_type, timeframe = attrs.get("type"), attrs.get("timeframe")
            if not isinstance(strategy_type, str) or not strategy_type:
                raise InvalidStrategy(f"{origin}: {node.name}.type must be a string literal such as 'MOM'")
            if timeframe not in TIMEFRAMES:
                raise InvalidStrategy(f"{origin}: {node.name}.timeframe must be one of {TIMEFRAMES}")
            return StrategyHeader(node.name, strategy_type, str(timeframe))
    raise InvalidStrategy(f"{origin}: no class deriving from StrategyCore")


def _named(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _literal_attributes(node: ast.ClassDef) -> dict[str, object]:
    found: dict[str, object] = {}
    for stmt in node.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            target, value = stmt.targets[0].id, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            target, value = stmt.target.id, stmt.value
        else:
            continue
        try:
            found[target] = ast.literal_eval(value)
        except ValueError:
            continue
    return found
