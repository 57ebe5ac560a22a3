"""A mined pattern as an entry block: its condition rewritten as vectorized pandas code.

Patterns (domain/patterns) are rules like "rsi_14 < 30 and sma_200_dist > 0" over the miner's
indicator columns. A strategy module cannot import the miner (the sandbox allows only pandas,
numpy, math and domain.strategy) nor call `DataFrame.eval` (refused by the screen), so each name
the condition uses becomes one line computed the miner's way, and the rule itself becomes
`&`/`|`/`~` over those series. A name we cannot compute means the pattern is not used at all:
guessing at an indicator would trade a different rule than the one that was measured.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.offline_ai.blocks import Block, Param

_PERIODIC = re.compile(
    r"^(?P<kind>rsi|sma|ema|atr|adx|roc|zscore|bb_upper|bb_lower|bb_pctb|donchian_high|donchian_low|"
    r"range_atr|ret_z|volume_z)_(?P<n>[1-9][0-9]{0,3})$"
)
_DIST = re.compile(r"^(?P<kind>sma|ema)_(?P<n>[1-9][0-9]{0,3})_dist$")
_RECURSIVE = {"rsi", "ema", "adx", "range_atr"}
"""Recursive averages: three periods of warm-up before their value no longer depends on the start."""

_COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
_ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


class UnusablePattern(ValueError):
    """The pattern cannot become an entry block; the message says why (for the description)."""


@dataclass(frozen=True)
class _Name:
    variable: str
    line: str | None
    helpers: tuple[str, ...]
    lookback: int


def _indicator(name: str) -> _Name | None:
    """How to compute one name of a condition, or None when it is not one we know."""
    if name in ("close", "high", "low"):
        return _Name(name, None, (), 0)
    if name == "open":
        return _Name("open_", 'open_ = df["open"]', (), 0)
    if name == "volume":
        return _Name("volume", 'volume = df["volume"]', (), 0)
    if name in ("dow", "hour"):
        attr = "dayofweek" if name == "dow" else "hour"
        return _Name(name, f"{name} = pd.Series(df.index.{attr}, index=df.index).astype(float)", (), 0)
    dist = _DIST.match(name)
    if dist:
        kind, n = dist["kind"], int(dist["n"])
        return _Name(name, f"{name} = close / {kind}(close, {n}) - 1.0", (kind,), 3 * n if kind == "ema" else n)
    found = _PERIODIC.match(name)
    if found is None:
        return None
    kind, n = found["kind"], int(found["n"])
    lookback = 3 * n if kind in _RECURSIVE else n
    formulas: dict[str, tuple[str, tuple[str, ...]]] = {
        "rsi": (f"rsi(close, {n})", ("rsi",)),
        "sma": (f"sma(close, {n})", ("sma",)),
        "ema": (f"ema(close, {n})", ("ema",)),
        "atr": (f"atr(high, low, close, {n})", ("atr",)),
        "adx": (f"adx(high, low, close, {n})", ("adx",)),
        "roc": (f"close.pct_change({n})", ()),
        "zscore": (f"zscore(close, {n})", ("zscore",)),
        "bb_upper": (f"bollinger(close, {n}, 2.0)[2]", ("bollinger",)),
        "bb_lower": (f"bollinger(close, {n}, 2.0)[0]", ("bollinger",)),
        "bb_pctb": (f"(close - bollinger(close, {n}, 2.0)[0]) / (bollinger(close, {n}, 2.0)[2] "
                    f"- bollinger(close, {n}, 2.0)[0]).replace(0.0, np.nan)", ("bollinger",)),
        "donchian_high": (f"donchian(high, low, {n})[0]", ("donchian",)),
        "donchian_low": (f"donchian(high, low, {n})[1]", ("donchian",)),
        "range_atr": (f"(high - low) / wilder(true_range(high, low, close), {n}).replace(0.0, np.nan)",
                      ("wilder", "true_range")),
        "ret_z": (f"zscore(pd.Series(np.log(close), index=close.index).diff(), {n})", ("zscore",)),
        "volume_z": (f'zscore(pd.Series(np.log1p(df["volume"].clip(lower=0.0)), index=close.index), {n})',
                     ("zscore",)),
    }
    formula, helpers = formulas[kind]
    return _Name(name, f"{name} = {formula}", helpers, lookback)


class _Renderer:
    """Walks the condition's syntax tree, allowing only comparisons, and/or/not and arithmetic."""

    def __init__(self) -> None:
        self.names: dict[str, _Name] = {}
        self.unknown: list[str] = []

    def boolean(self, node: ast.expr) -> str:
        if isinstance(node, ast.BoolOp):
            joiner = " & " if isinstance(node.op, ast.And) else " | "
            return "(" + joiner.join(self.boolean(v) for v in node.values) + ")"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return f"~{self.boolean(node.operand)}"
        if isinstance(node, ast.Compare):
            parts, left = [], node.left
            for op, right in zip(node.ops, node.comparators, strict=True):
                symbol = _COMPARE.get(type(op))
                if symbol is None:
                    raise UnusablePattern(f"the comparison {type(op).__name__} is not supported")
                parts.append(f"({self.value(left)} {symbol} {self.value(right)})")
                left = right
            return parts[0] if len(parts) == 1 else "(" + " & ".join(parts) + ")"
        raise UnusablePattern(f"{ast.unparse(node)!r} is not a true/false condition")

    def value(self, node: ast.expr) -> str:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return repr(node.value)
        if isinstance(node, ast.Name):
            known = _indicator(node.id)
            if known is None:
                self.unknown.append(node.id)
                return node.id
            self.names[node.id] = known
            return known.variable
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            return f"{'-' if isinstance(node.op, ast.USub) else '+'}{self.value(node.operand)}"
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            return f"({self.value(node.left)} {_ARITHMETIC[type(node.op)]} {self.value(node.right)})"
        raise UnusablePattern(f"{ast.unparse(node)!r} is not an indicator, number or arithmetic")


def pattern_entry(pattern: Mapping[str, Any]) -> tuple[Block, int]:
    """The entry block for `pattern` and the warm-up its indicators need; UnusablePattern otherwise."""
    condition, direction = pattern.get("condition"), pattern.get("direction")
    raw_horizon: Any = pattern.get("horizon_bars")
    try:  # an int, or a numpy integer from a data frame; not a bool, not a float
        horizon = None if isinstance(raw_horizon, bool) else operator.index(raw_horizon)
    except TypeError:
        horizon = None
    if not isinstance(condition, str) or not condition.strip():
        raise UnusablePattern("it has no condition")
    if direction not in ("long", "short"):
        raise UnusablePattern(f"direction {direction!r} is not long or short")
    if horizon is None or not 1 <= horizon <= 10_000:
        raise UnusablePattern(f"horizon_bars {raw_horizon!r} is not a positive whole number of bars")
    try:
        tree = ast.parse(" ".join(condition.split()), mode="eval")
    except SyntaxError:
        raise UnusablePattern("its condition is not a Python/pandas expression") from None
    renderer = _Renderer()
    rule = renderer.boolean(tree.body)
    if renderer.unknown:
        raise UnusablePattern(f"unknown indicator(s) {', '.join(sorted(set(renderer.unknown)))}")
    names = list(renderer.names.values())
    helpers = tuple(h for n in names for h in n.helpers)
    lines = tuple(n.line for n in names if n.line is not None)
    canonical = ast.unparse(tree.body)
    hold = Param("hold_bars", tuple(sorted({max(1, horizon // 2), horizon, 2 * horizon})), default=horizon)
    block = Block(
        "entry", "pattern", f"the mined rule ({canonical}) -> {direction}, held about {horizon} bars",
        params=(hold,), helpers=helpers, lines=lines,
        long=rule if direction == "long" else "", short=rule if direction == "short" else "",
    )
    return block, max([0, *(n.lookback for n in names)])
