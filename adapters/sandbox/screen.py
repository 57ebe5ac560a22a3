"""The AST screen: refuse strategy code that could reach outside its sandbox, before any of it runs.

It is deliberately strict and simple: a strategy is a few imports, constants and one class of
vectorized pandas code, so anything else (module-level calls, dunder access, IO functions,
computed attribute names) is refused with the line and a reason. The worker enforces the import
list again at run time, and the operating system confines whatever slips through.
"""

from __future__ import annotations

import ast
import threading

from adapters.sandbox.policy import (
    ALLOWED_DUNDERS,
    ALLOWED_MODULES,
    ALLOWED_SUBMODULES,
    FORBIDDEN_ATTRIBUTE_PREFIXES,
    FORBIDDEN_ATTRIBUTES,
    FORBIDDEN_CALLS,
)
from domain.validation.violations import Violation

MAX_CODE_BYTES = 200_000


def module_allowed(name: str) -> bool:
    return name in ALLOWED_MODULES or name in ALLOWED_SUBMODULES


_PARSING = threading.Lock()
"""CPython before 3.11.8 can fail ast.parse on threads parsing at the same moment (SystemError: AST
constructor recursion depth mismatch, python/cpython#106905); the live loop screens on several
deciding threads at once, so parses here take turns."""


def screen(code: str, origin: str = "<strategy>") -> list[Violation]:
    """Every reason to refuse `code`; empty when it may be loaded in the worker."""
    if len(code.encode("utf-8", "replace")) > MAX_CODE_BYTES:
        return [Violation("code_too_large", None, f"{origin}: more than {MAX_CODE_BYTES} bytes of code")]
    if "\x00" in code:
        return [Violation("null_byte", None, f"{origin}: the code contains a NUL byte")]
    try:
        with _PARSING:
            tree = ast.parse(code, filename=origin)
    except SyntaxError as exc:
        return [Violation("syntax_error", exc.lineno, f"syntax error: {exc.msg}")]
    except (ValueError, RecursionError, MemoryError) as exc:
        return [Violation("syntax_error", None, f"cannot parse: {type(exc).__name__}")]
    found = _module_level(tree)
    visitor = _Screen()
    visitor.visit(tree)
    found += visitor.found
    return sorted(found, key=lambda v: (v.line or 0, v.rule))


def _module_level(tree: ast.Module) -> list[Violation]:
    """Only imports, constants, docstrings, classes and functions: nothing runs at import time."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom | ast.ClassDef | ast.FunctionDef):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring
        if isinstance(node, ast.Assign | ast.AnnAssign) and _is_constant(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if all(isinstance(t, ast.Name) for t in targets):
                continue
        found.append(Violation("module_statement", node.lineno,
                               f"module level may hold only imports, constants, classes and functions, "
                               f"not {type(node).__name__.lower()}"))
    return found


def _is_constant(node: ast.expr | None) -> bool:
    """Literals and containers of literals (negative numbers included)."""
    if node is None:
        return True
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return _is_constant(node.operand)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return all(_is_constant(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _is_constant(k) for k in node.keys) and all(_is_constant(v) for v in node.values)
    return False


class _Screen(ast.NodeVisitor):
    def __init__(self) -> None:
        self.found: list[Violation] = []

    def _refuse(self, node: ast.AST, rule: str, message: str) -> None:
        self.found.append(Violation(rule, getattr(node, "lineno", None), message))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not module_allowed(alias.name):
                self._refuse(node, "import_not_allowed", f"import of {alias.name!r} is not allowed")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level:
            self._refuse(node, "import_not_allowed", "relative imports are not allowed")
        elif not module_allowed(module):
            self._refuse(node, "import_not_allowed", f"import from {module!r} is not allowed")
        for alias in node.names:
            if alias.name == "*":
                self._refuse(node, "import_not_allowed", "star imports are not allowed")
            elif alias.name.startswith("_") or alias.name in FORBIDDEN_ATTRIBUTES:
                self._refuse(node, "forbidden_attribute", f"import of {module}.{alias.name} is not allowed")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in FORBIDDEN_CALLS:
            self._refuse(node, "forbidden_builtin", f"{node.id} is not allowed in strategy code")
        elif _dunder(node.id):
            self._refuse(node, "dunder", f"the name {node.id} is not allowed")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr, on_self = node.attr, isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
        if _dunder(attr):
            if not (attr in ALLOWED_DUNDERS and _is_super_call(node.value)):
                self._refuse(node, "dunder", f"access to .{attr} is not allowed")
        elif attr in FORBIDDEN_ATTRIBUTES:
            self._refuse(node, "forbidden_attribute", f".{attr} is not allowed in strategy code")
        elif attr.startswith("_") and not on_self:
            self._refuse(node, "private_attribute", f".{attr}: private attributes of other objects are off limits")
        elif attr.startswith(FORBIDDEN_ATTRIBUTE_PREFIXES[0]):
            self._refuse(node, "forbidden_attribute", f".{attr} reads files or URLs")
        if isinstance(node.ctx, ast.Store | ast.Del) and not on_self:
            self._refuse(node, "attribute_assignment", f"assigning .{attr} of another object changes shared state")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str | bytes) and ("__" in str(node.value)):
            self._refuse(node, "dunder_string", "strings containing '__' are not allowed (format-string escapes)")

    def visit_Global(self, node: ast.Global) -> None:
        self._refuse(node, "global_statement", "global state is not allowed: a strategy is a pure function of df")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if _dunder(node.name) and node.name not in ALLOWED_DUNDERS:
            self._refuse(node, "dunder", f"defining {node.name} is not allowed")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if node.keywords:
            self._refuse(node, "class_keywords", "metaclasses and class keywords are not allowed")
        if node.decorator_list:
            self._refuse(node, "class_decorator", "class decorators are not allowed")
        self.generic_visit(node)

    def visit_Await(self, node: ast.Await) -> None:
        self._refuse(node, "async", "async code is not allowed")


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__") and len(name) > 4


def _is_super_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"
