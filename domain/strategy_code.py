"""Strategy source text as the generator handles it: pull it out of a reply, name it, fingerprint it.

Two strategies whose code differs only in comments, docstrings, formatting or the class name are
the same strategy, so the fingerprint is taken from the syntax tree with those removed. The name
`Strategy_{TYPE}_{8 hex}` comes from that fingerprint, so it is stable across runs and providers.
"""

from __future__ import annotations

import ast
import hashlib
import re

_FENCE = re.compile(r"```[ \t]*(?P<lang>[A-Za-z0-9_+-]*)[^\n]*\n(?P<body>.*?)(?:```|\Z)", re.DOTALL)
_PLACEHOLDER = "StrategyClass"


def extract_python(reply: str) -> str | None:
    """The strategy module in an LLM reply: the fenced block defining a StrategyCore subclass.

    Prefers ```python blocks, then any fenced block, then the whole reply when it parses as a
    module that defines one; None when the reply holds no such code.
    """
    blocks = [(m.group("lang").lower(), m.group("body")) for m in _FENCE.finditer(reply)]
    ordered = [b for lang, b in blocks if lang in ("python", "py", "python3")] + [
        b for lang, b in blocks if lang not in ("python", "py", "python3")]
    for body in ordered:
        if "StrategyCore" in body:
            return body.strip() + "\n"
    if "StrategyCore" in reply and "```" not in reply and _parses(reply):
        return reply.strip() + "\n"
    return None


def strategy_class_name(code: str) -> str | None:
    """The first class deriving from StrategyCore, or None (syntax errors included)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(_base_name(b) == "StrategyCore" for b in node.bases):
            return node.name
    return None


def normalised(code: str) -> str:
    """The code's syntax tree without docstrings and with the strategy class renamed: its identity.

    Code that does not parse is its own identity, whitespace-trimmed.
    """
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return "\n".join(line.rstrip() for line in code.strip().splitlines())
    name = strategy_class_name(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
        if name is not None and isinstance(node, ast.ClassDef) and node.name == name:
            node.name = _PLACEHOLDER
        if name is not None and isinstance(node, ast.Name) and node.id == name:
            node.id = _PLACEHOLDER
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


def code_fingerprint(code: str) -> str:
    return hashlib.sha256(normalised(code).encode()).hexdigest()


def generated_name(strategy_type: str, code: str) -> str:
    """`Strategy_{TYPE}_{8 hex}`: the class name a generated strategy is stored under."""
    kind = re.sub(r"[^A-Za-z0-9]", "", strategy_type).upper() or "GEN"
    return f"Strategy_{kind}_{code_fingerprint(code)[:8]}"


def rename_strategy_class(code: str, new_name: str) -> str:
    """The same module with its StrategyCore subclass (and references to it) renamed."""
    old = strategy_class_name(code)
    if old is None or old == new_name:
        return code
    return re.sub(rf"\b{re.escape(old)}\b", new_name, code)


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


def _base_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None
