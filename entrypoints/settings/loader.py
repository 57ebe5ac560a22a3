"""Read config.yaml: resolve ${VAR} and ${VAR:-default}, validate, report every problem at once.

Problems name the dotted key path and the YAML line, never a value: after interpolation any
value may be a secret, so messages are built from pydantic's `loc` and `msg` only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from dotenv import dotenv_values
from pydantic import ValidationError

from entrypoints.settings.errors import ConfigError, ConfigProblem, KeyedValueError
from entrypoints.settings.models import Settings

KeyPath = tuple[str, ...]
_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_NAME_AND_DEFAULT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)
_PLAIN = {
    "extra_forbidden": "unknown key (check the spelling; see config/config.yaml for the valid keys)",
    "missing": "is required",
    "model_type": "must be a mapping of keys",
    "model_attributes_type": "must be a mapping of keys",
    "dict_type": "must be a mapping of keys",
    "list_type": "must be a list",
}
_RETIRED: dict[KeyPath, str] = {
    ("system", "deployment_mode"): "has moved: set deployment.mode (paper | live) instead",
    ("system", "timezone"): "is not read: schedules, daily loss and shown times are all UTC (candles close on "
                            "UTC boundaries); remove this key",
    ("hyperliquid", "testnet"): "is not read: orders are signed for mainnet exactly when hyperliquid.base_url is "
                                "https://api.hyperliquid.xyz, for testnet otherwise; remove this key",
    ("hyperliquid", "private_key"): "is not read from config: the signing key comes only from the HL_PRIVATE_KEY "
                                    "environment variable; remove this key and export HL_PRIVATE_KEY",
}
"""Keys earlier versions had: an old config names the key to use instead, not just "unknown key"."""


def load_settings(path: str | Path = "config/config.yaml", env: Mapping[str, str] | None = None,
                  dotenv_path: Path | None = None) -> Settings:
    """`env` defaults to the process environment; `.env` (default: in the cwd) fills what it lacks.

    Raises ConfigError with every problem found; nothing else escapes for bad input.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError([ConfigProblem(str(path), f"cannot read config file: {reason}")]) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([_yaml_problem(path, exc)]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError([ConfigProblem(path.name, "the top level must be a mapping of sections", 1)])

    layout = _Layout()
    layout.read(root)
    resolver = _Resolver(_variables(env, dotenv_path), layout)
    resolved = resolver.resolve(raw, ())
    problems = layout.problems + resolver.problems
    try:
        settings = Settings.model_validate(resolved)
    except ValidationError as exc:
        reported = {p.path for p in problems}
        for error in exc.errors():
            problem = _problem(error, layout, resolver.unset)
            if problem.path not in reported:
                reported.add(problem.path)
                problems.append(problem)
    if problems:
        raise ConfigError(problems)
    return settings


def _variables(env: Mapping[str, str] | None, dotenv_path: Path | None) -> dict[str, str]:
    """Real environment variables win over `.env`, as with docker compose and most twelve-factor tools."""
    found = dotenv_path if dotenv_path is not None else Path(".env")
    from_file = {k: v for k, v in dotenv_values(found).items() if v is not None} if found.is_file() else {}
    return {**from_file, **(os.environ if env is None else env)}


def _yaml_problem(path: Path, exc: yaml.YAMLError) -> ConfigProblem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    reason = getattr(exc, "problem", None) or "cannot be parsed"
    return ConfigProblem(path.name, f"invalid YAML: {reason}", mark.line + 1 if mark else None)


@dataclass
class _Layout:
    """Key path -> 1-based line, read from the YAML node tree; also finds duplicate keys,
    which `yaml.safe_load` would silently resolve to the last one."""

    lines: dict[KeyPath, int] = field(default_factory=dict)
    problems: list[ConfigProblem] = field(default_factory=list)

    def read(self, node: yaml.Node | None, path: KeyPath = ()) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = str(key.value)
                child, line = (*path, name), key.start_mark.line + 1
                if name in seen and name != "<<":
                    self.problems.append(ConfigProblem(
                        _dotted(child), f"duplicate key (first at line {self.lines[child]})", line))
                    continue
                seen.add(name)
                self.lines[child] = line
                self.read(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.lines[(*path, str(index))] = item.start_mark.line + 1
                self.read(item, (*path, str(index)))

    def line(self, path: KeyPath) -> int | None:
        """The key's own line, else its nearest ancestor's (a default the file does not set)."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


class _Resolver:
    """Replaces `${VAR}` / `${VAR:-default}` in string values; `$${` stays a literal `${`.

    `${VAR:-default}` uses the default when VAR is unset or empty (as in the shell); a bare
    `${VAR}` that is unset or empty is a problem, so a forgotten secret fails here, not mid-trade.
    """

    def __init__(self, variables: Mapping[str, str], layout: _Layout) -> None:
        self.variables = variables
        self.layout = layout
        self.problems: list[ConfigProblem] = []
        self.unset: dict[KeyPath, list[str]] = {}
        """Key path -> variables it referenced that were unset, to hint at them in later problems."""

    def resolve(self, value: Any, path: KeyPath) -> Any:
        if isinstance(value, dict):
            return {k: self.resolve(v, (*path, str(k))) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, (*path, str(i))) for i, v in enumerate(value)]
        if isinstance(value, str) and "${" in value:
            return _REFERENCE.sub(lambda match: self._substitute(match, path), value)
        return value

    def _substitute(self, match: re.Match[str], path: KeyPath) -> str:
        if match.group(0) == "$${":
            return "${"
        reference = _NAME_AND_DEFAULT.fullmatch(match.group(1) or "")
        if reference is None:
            self._report(path, "malformed variable reference; write ${NAME} or ${NAME:-default}")
            return ""
        name, default = reference.group(1), reference.group(2)
        current = self.variables.get(name)
        if current:
            return current
        self.unset.setdefault(path, []).append(name)
        if default is not None:
            return default
        state = "is empty" if current == "" else "is not set"
        self._report(path, f"environment variable {name} {state}")
        return ""

    def _report(self, path: KeyPath, message: str) -> None:
        self.problems.append(ConfigProblem(_dotted(path), message, self.layout.line(path)))


def _dotted(path: KeyPath) -> str:
    return ".".join(path) or "<root>"


def _problem(error: Mapping[str, Any], layout: _Layout, unset: Mapping[KeyPath, list[str]]) -> ConfigProblem:
    """Only `loc`, `type`, `msg` and our own exception are read: pydantic's `input` may hold a secret."""
    loc: KeyPath = tuple(str(part) for part in error["loc"])
    message = _PLAIN.get(error["type"]) or _plain(str(error["msg"]))
    if error["type"] == "extra_forbidden" and loc in _RETIRED:
        return ConfigProblem(_dotted(loc), _RETIRED[loc], layout.line(loc))
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, KeyedValueError):
        loc, message = (*loc, *cause.key), str(cause)
    if loc and loc[-1] == "[key]":
        loc, message = loc[:-1], f"key {message}"
    hint = [name for name in unset.get(loc, []) if name not in message]
    if hint:
        message += f"; set {' or '.join(hint)}"
    return ConfigProblem(_dotted(loc), message, layout.line(loc))


def _plain(message: str) -> str:
    """Pydantic's wording, said the way a trader reads it ("must be greater than 0")."""
    message = message.removeprefix("Value error, ")
    return re.sub(r"^Input should be ", "must be ", message)
