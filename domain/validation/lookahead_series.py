"""Whole-series reads that the syntax tree shows plainly: the last bar, and statistics of everything.

In a vectorized `signals(df)`, row t is computed together with every later row, so a scalar read
from the end of the frame (`df["close"].iloc[-1]`) or a statistic of a whole column
(`close.mean()`, `close.rank()`) puts the future into every earlier row. A trailing window in a
loop or a rolling lambda may use the same methods legally, so a value only counts as "the whole
series" when it can be followed back to the frame `signals` receives through column selection,
method chains, arithmetic and element-wise library calls; anything sliced, grouped, windowed or
passed through an unknown function stops that trail. This keeps the check free of false alarms
at the cost of missing indirect forms, which the dynamic prefix-invariance check catches.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from domain.validation.violations import Violation

DATA_PARAMS = frozenset({"df", "data", "frame", "candles", "bars", "ohlcv"})
"""Parameter names read as "the whole frame" in helper functions (besides the frame `signals` gets)."""

REDUCERS = frozenset({
    "mean", "std", "var", "median", "quantile", "max", "min", "sum", "prod", "idxmax", "idxmin",
    "nlargest", "nsmallest", "describe", "sem", "skew", "kurt", "kurtosis", "mode", "rank",
    "nanmean", "nanstd", "nanvar", "nanmedian", "nanmax", "nanmin", "nansum", "nanquantile",
    "nanpercentile", "percentile", "amax", "amin", "ptp", "argmax", "argmin", "average",
})
WINDOWS = frozenset({"rolling", "expanding", "ewm"})
"""Methods whose result is a window object: a statistic on it is per-bar, not global."""
STOPS = frozenset({
    "groupby", "resample", "apply", "transform", "agg", "aggregate", "pipe", "head", "tail", "sample",
    "dropna", "drop_duplicates", "unique", "sort_values", "sort_index", "iterrows", "itertuples", "items",
})
ELEMENTWISE = frozenset({
    "log", "log1p", "exp", "abs", "sign", "sqrt", "where", "asarray", "array", "maximum", "minimum",
    "clip", "nan_to_num", "isnan", "isfinite", "cumsum", "cumprod", "Series", "fmax", "fmin", "square",
})
NOT_SERIES = frozenset({"shape", "columns", "dtypes", "dtype", "size", "ndim", "empty", "name", "attrs", "params"})
ROW_WISE_AXES = (1, -1, "columns")
FULL, WINDOW = "full", "window"


def whole_series_violations(tree: ast.Module, modules: frozenset[str]) -> Iterator[Violation]:
    """`last_bar` and `global_statistic` findings in every function of a vectorized strategy.

    A legacy module (no `signals` at all) is skipped: its `generate_signal` and helpers receive a
    trailing window, where the last row is the current bar.
    """
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    if not any(f.name == "signals" for f in functions):
        return
    for function in functions:
        if function.name != "generate_signal":
            yield from _Flow(function, modules).violations()


class _Flow:
    """Which local names hold the whole series, and what the function does with them."""

    def __init__(self, function: ast.FunctionDef | ast.AsyncFunctionDef, modules: frozenset[str]) -> None:
        self.modules = modules
        params = [a.arg for a in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs)]
        roots = {p for p in params if p in DATA_PARAMS}
        if function.name == "signals":
            roots.update(p for p in params[:2] if p not in ("self", "cls"))
        self.function = function
        self.full: set[str] = set(roots)
        assigned: dict[str, list[ast.expr | None]] = {}
        for node in ast.walk(function):
            for name, value in _bindings(node):
                assigned.setdefault(name, []).append(value)
        changed = True
        while changed:
            changed = False
            for name, values in assigned.items():
                if name not in self.full and all(v is not None and self.kind(v) == FULL for v in values):
                    self.full.add(name)
                    changed = True

    def kind(self, node: ast.expr) -> str | None:
        """FULL for a whole-length series from the frame, WINDOW for a rolling object on one."""
        if isinstance(node, ast.Name):
            return FULL if node.id in self.full else None
        if isinstance(node, ast.Attribute):
            return FULL if node.attr not in NOT_SERIES and self.kind(node.value) == FULL else None
        if isinstance(node, ast.Subscript):
            return FULL if self.kind(node.value) == FULL and _selects_columns(node.slice) else None
        if isinstance(node, ast.BinOp):
            kinds = {self.kind(node.left), self.kind(node.right)}
            return FULL if FULL in kinds and WINDOW not in kinds else None
        if isinstance(node, ast.UnaryOp):
            return self.kind(node.operand)
        if isinstance(node, ast.Compare):
            return FULL if FULL in {self.kind(e) for e in (node.left, *node.comparators)} else None
        if isinstance(node, ast.Call):
            return self._call_kind(node)
        return None

    def _call_kind(self, node: ast.Call) -> str | None:
        func = node.func
        if not isinstance(func, ast.Attribute):
            return None
        if isinstance(func.value, ast.Name) and func.value.id in self.modules:
            library_full = func.value.id == "talib" or func.attr in ELEMENTWISE
            return FULL if library_full and any(self.kind(a) == FULL for a in node.args) else None
        receiver = self.kind(func.value)
        if receiver == WINDOW:
            return FULL
        if receiver != FULL or func.attr in STOPS or (func.attr in REDUCERS and func.attr != "rank"):
            return None
        return WINDOW if func.attr in WINDOWS else FULL

    def violations(self) -> Iterator[Violation]:
        for node in ast.walk(self.function):
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
                if self.kind(node.value) == FULL and _reads_from_end(node.slice):
                    yield Violation("last_bar", node.lineno,
                                    f"{ast.unparse(node)} reads the last bar of the whole frame, "
                                    "which is in the future of every earlier row")
            elif isinstance(node, ast.Call):
                yield from self._call_violations(node)

    def _call_violations(self, node: ast.Call) -> Iterator[Violation]:
        func = node.func
        if _row_wise(node):
            return
        if isinstance(func, ast.Attribute):
            on_module = isinstance(func.value, ast.Name) and func.value.id in self.modules
            if on_module and func.attr in REDUCERS and node.args and self.kind(node.args[0]) == FULL:
                yield _global(node, f"{ast.unparse(func)}({ast.unparse(node.args[0])})")
            elif not on_module and func.attr in REDUCERS and self.kind(func.value) == FULL:
                yield _global(node, f"{ast.unparse(func)}()")
            elif not on_module and func.attr == "tail" and self.kind(func.value) == FULL:
                yield Violation("last_bar", node.lineno,
                                f"{ast.unparse(node)} reads the last bars of the whole frame")
        elif isinstance(func, ast.Name) and func.id in ("max", "min", "sum", "sorted") and len(node.args) == 1:
            if self.kind(node.args[0]) == FULL:
                yield _global(node, f"{func.id}({ast.unparse(node.args[0])})")


def _global(node: ast.Call, what: str) -> Violation:
    return Violation("global_statistic", node.lineno,
                     f"{what} is a statistic of the whole series, later bars included; "
                     "use .rolling(...) or .expanding(...)")


def _bindings(node: ast.AST) -> Iterator[tuple[str, ast.expr | None]]:
    """(name, value) per plain binding; None where the value is unknown (loops, tuples, augmented)."""
    if isinstance(node, ast.Assign):
        for target in node.targets:
            if isinstance(target, ast.Name):
                yield target.id, node.value
            else:
                yield from ((n.id, None) for n in ast.walk(target) if isinstance(n, ast.Name))
    elif isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr):
        if isinstance(node.target, ast.Name):
            value = node.value if isinstance(node, ast.AnnAssign | ast.NamedExpr) else None
            yield node.target.id, value
    elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
        yield from ((n.id, None) for n in ast.walk(node.target) if isinstance(n, ast.Name))


def _selects_columns(index: ast.expr) -> bool:
    """`["close"]`, `[["high", "low"]]`, `[:, 0]` keep every row; any other index picks some rows."""
    if isinstance(index, ast.Constant):
        return isinstance(index.value, str)
    if isinstance(index, ast.List):
        return all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in index.elts)
    if isinstance(index, ast.Tuple) and index.elts:
        first = index.elts[0]
        return isinstance(first, ast.Slice) and first.lower is None and first.upper is None and first.step is None
    return False


def _reads_from_end(index: ast.expr) -> bool:
    """`[-1]`, `[-n]`, `[-5:]`, `[len(x) - 1]`: positions counted from the end of the frame."""
    if isinstance(index, ast.Tuple) and index.elts:
        index = index.elts[0]
    if isinstance(index, ast.Slice):
        return index.lower is not None and _from_end(index.lower)
    return _from_end(index)


def _from_end(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int | float) and not isinstance(node.value, bool) and node.value < 0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return not _from_end(node.operand)
    return (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub) and isinstance(node.left, ast.Call)
            and isinstance(node.left.func, ast.Name) and node.left.func.id == "len")


def _row_wise(node: ast.Call) -> bool:
    """`max(axis=1)` and friends reduce across columns of one row, which is legal."""
    for keyword in node.keywords:
        if keyword.arg == "axis" and isinstance(keyword.value, ast.Constant | ast.UnaryOp):
            try:
                return ast.literal_eval(keyword.value) in ROW_WISE_AXES
            except ValueError:
                return False
    return False
