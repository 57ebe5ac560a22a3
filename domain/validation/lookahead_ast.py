"""A static lookahead screen for strategy code: constructs that read later bars, found in its syntax tree.

It runs before any generated code is executed, so it only reads the tree (stdlib `ast`), and it
names the line and the construct, which is what the author (often an AI) needs to fix it. It is
the cheap first half of the lookahead gate; the second half runs the strategy and checks prefix
invariance (signals(df[:t]) equals the first t rows of signals(df)), which sees what this cannot.

Rules (stable names):
- `negative_shift`, `negative_diff`, `negative_pct_change`: a negative period (`-1`, `-n`, `-(k)`,
  positional or `periods=`); `roll`: any `roll(...)` call (np.roll wraps the end to the front);
- `centered_window`: `center=True` (or a third positional True in `.rolling`);
- `backfill`: `.bfill()`, `.backfill()`, `method="bfill"|"backfill"|"nearest"` (fillna, reindex...),
  `direction="forward"|"nearest"` (merge_asof), `limit_direction="backward"|"both"`;
- `interpolate`: any `.interpolate(...)` (it fills a gap from the value after it);
- `forward_index`: in a loop over `i`, a read of `x[i + k]`, `x[i + k:]` or `x[:i + k + 1]` with a
  literal k beyond the furthest `i + k` the loop writes (so `ema[i + 1] = f(x[i + 1], ema[i])` passes);
- `last_bar`, `global_statistic`: see `lookahead_series` (`df["close"].iloc[-1]`, `close.mean()`).

Deliberately not caught here (left to the dynamic check): offsets hidden behind names or
arithmetic (`shift(lead)` with a negative `lead`, `j = i + 1; x[j]`, `while` loops); statistics
of values that left the traced frame (helper functions with other parameter names, numpy arrays
rebuilt from lists, groupby/transform over a day, `pd.qcut`, `np.polyfit`); reversed whole
series (`[::-1].cummax()`, `np.flip`); resampling whose bucket labels sit at the bucket start;
randomness. Anything the syntax can only guess at would raise false alarms on honest code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from domain.validation.lookahead_series import whole_series_violations
from domain.validation.violations import Violation

PERIOD_METHODS = {"shift": "negative_shift", "diff": "negative_diff", "pct_change": "negative_pct_change"}
BACKWARD_KEYWORDS = {
    "method": ("bfill", "backfill", "nearest"),
    "direction": ("forward", "nearest"),
    "limit_direction": ("backward", "both"),
}


def find_lookahead(code: str) -> list[Violation]:
    """Every construct in `code` that reads a later bar, sorted by line; [] when none is visible."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return [Violation("syntax_error", exc.lineno, f"syntax error: {exc.msg}")]
    except ValueError as exc:  # e.g. a null byte in the source
        return [Violation("syntax_error", None, f"syntax error: {exc}")]
    modules = _module_names(tree)
    found: list[tuple[int, int, Violation]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            found.extend((node.lineno, node.col_offset, v) for v in _call_violations(node, modules))
        elif isinstance(node, ast.For | ast.AsyncFor):
            found.extend(_forward_reads(node.target, node.body))
        elif isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            for generator in node.generators:
                body: list[ast.AST] = [*node.generators, node.key, node.value] if isinstance(node, ast.DictComp) \
                    else [*node.generators, node.elt]
                found.extend(_forward_reads(generator.target, body))
    found.extend((v.line or 0, 0, v) for v in whole_series_violations(tree, modules))
    unique: dict[tuple[int | None, str, str], tuple[int, int, Violation]] = {}
    for entry in found:
        unique.setdefault((entry[2].line, entry[2].rule, entry[2].message), entry)
    return [v for _, _, v in sorted(unique.values(), key=lambda e: (e[0], e[1], e[2].rule, e[2].message))]


def _module_names(tree: ast.Module) -> frozenset[str]:
    """Names bound by `import x [as y]`: `np.diff(x)` is numpy's function, not Series.diff."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
    return frozenset(names)


def _call_violations(node: ast.Call, modules: frozenset[str]) -> Iterator[Violation]:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name is None:
        return
    on_module = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in modules
    if name == "roll":
        yield Violation("roll", node.lineno, f"{ast.unparse(func)}(...) wraps the last bars round to the front")
    if name in PERIOD_METHODS and not on_module:
        period = node.args[0] if node.args else _keyword(node, "periods")
        if period is not None and _is_negative(period):
            yield Violation(PERIOD_METHODS[name], node.lineno,
                            f"{name}({ast.unparse(period)}) reads a later bar")
    center = _keyword(node, "center")
    if center is None and name == "rolling" and len(node.args) >= 3:
        center = node.args[2]
    if center is not None and isinstance(center, ast.Constant) and bool(center.value):
        yield Violation("centered_window", node.lineno,
                        f"{name}(..., center=True) centres the window on the bar, so it reads later bars")
    if name in ("bfill", "backfill") and not on_module:
        yield Violation("backfill", node.lineno, f".{name}() fills a bar from a later one")
    for keyword, values in BACKWARD_KEYWORDS.items():
        value = _keyword(node, keyword)
        if isinstance(value, ast.Constant) and value.value in values:
            yield Violation("backfill", node.lineno,
                            f"{name}({keyword}={value.value!r}) fills a bar from a later one")
    if name == "interpolate" and not on_module:
        yield Violation("interpolate", node.lineno, ".interpolate() fills a gap from the value after it")


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


def _is_negative(node: ast.expr) -> bool:
    """`-1`, `-n`, `-(k)`, `-1 * n`: negative on its face; a bare name may be anything, so it is not."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int | float) and not isinstance(node.value, bool) and node.value < 0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return not _is_negative(node.operand)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.FloorDiv | ast.Div):
        return _is_negative(node.left) != _is_negative(node.right)
    return False


def _forward_reads(target: ast.expr, body: list[ast.AST] | list[ast.stmt]) -> Iterator[tuple[int, int, Violation]]:
    """Reads of `x[v + k]` beyond what the loop over `v` writes: those bars come after the current one."""
    loop_vars = {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    subscripts = [s for part in body for s in ast.walk(part) if isinstance(s, ast.Subscript)]
    for var in sorted(loop_vars):
        stores = [_offset(_first(s.slice), var) for s in subscripts if not isinstance(s.ctx, ast.Load)]
        current = max([0, *(k for k in stores if k is not None)])
        for sub in subscripts:
            if not isinstance(sub.ctx, ast.Load):
                continue
            index = _first(sub.slice)
            if isinstance(index, ast.Slice):
                lower, upper = _offset(index.lower, var), _offset(index.upper, var)
                ahead = (lower is not None and lower > current) or (upper is not None and upper > current + 1)
            else:
                offset = _offset(index, var)
                ahead = offset is not None and offset > current
            if ahead:
                yield sub.lineno, sub.col_offset, Violation(
                    "forward_index", sub.lineno,
                    f"{ast.unparse(sub)} reads a bar after {var}, the bar the loop is computing")


def _first(index: ast.expr) -> ast.expr:
    """The row part of `x[row, col]`."""
    return index.elts[0] if isinstance(index, ast.Tuple) and index.elts else index


def _offset(node: ast.expr | None, var: str) -> int | None:
    """k for `var + k` / `k + var` with a literal int k, 0 for `var`, None for anything else."""
    if isinstance(node, ast.Name):
        return 0 if node.id == var else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        for name, const in ((node.left, node.right), (node.right, node.left)):
            if isinstance(name, ast.Name) and name.id == var and isinstance(const, ast.Constant) \
                    and isinstance(const.value, int) and not isinstance(const.value, bool):
                if isinstance(node.op, ast.Sub):
                    return -const.value if const is node.right else None
                return const.value
    return None
