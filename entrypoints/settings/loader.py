"""Read config.yaml: resolve ${VAR} and ${VAR:-default}, validate, report every problem at once."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from dotenv import dotenv_values
from pydantic import ValidationError

from entrypoints.settings.errors import ConfigError, ConfigProblem
from entrypoints.settings.models import Settings

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
Path_ = tuple[str, ...]


def load_settings(path: str | Path = "config/config.yaml", env: Mapping[str, str] | None = None,
                  dotenv_path: Path | None = None) -> Settings:
    """`env` defaults to the process environment; `.env` (beside the cwd) fills what it lacks."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigProblem(str(path), f"cannot read config file: {exc.strerror}")]) from None
    variables = _variables(env, dotenv_path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([ConfigProblem(f"{path.name}", f"invalid YAML: {reason}",
                                         mark.line + 1 if mark else None)]) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError([ConfigProblem(path.name, "the top level must be a mapping of sections", 1)])
    lines = _lines(root)
    problems: list[ConfigProblem] = []
    resolved = _interpolate(raw, (), variables, lines, problems)
    try:
        settings = Settings.model_validate(resolved)
    except ValidationError as exc:
        reported = {p.path for p in problems}
        problems += [p for p in (_problem(e, lines) for e in exc.errors()) if p.path not in reported]
    if problems:
        raise ConfigError(problems)
    return settings


def _variables(env: Mapping[str, str] | None, dotenv_path: Path | None) -> dict[str, str]:
    found = dotenv_path if dotenv_path is not None else Path(".env")
    from_file = {k: v for k, v in dotenv_values(found).items() if v is not None} if found.is_file() else {}
    return {**from_file, **(os.environ if env is None else env)}


def _interpolate(value: Any, path: Path_, variables: Mapping[str, str], lines: dict[Path_, int],
                 problems: list[ConfigProblem]) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, (*path, str(k)), variables, lines, problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, (*path, str(i)), variables, lines, problems) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in variables and variables[name] != "":
            return variables[name]
        if default is not None:
            return default
        problems.append(ConfigProblem(_dotted(path), f"environment variable {name} is not set", _line(path, lines)))
        return ""

    return _VARIABLE.sub(substitute, value)


def _lines(node: yaml.Node | None, path: Path_ = ()) -> dict[Path_, int]:
    """Key path -> 1-based line, from the YAML node tree (values, or keys for sections)."""
    found: dict[Path_, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            found[child] = key.start_mark.line + 1
            found.update(_lines(value, child))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found[(*path, str(index))] = item.start_mark.line + 1
            found.update(_lines(item, (*path, str(index))))
    return found


def _line(path: Path_, lines: dict[Path_, int]) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def _dotted(path: Path_) -> str:
    return ".".join(path) or "<root>"


def _problem(error: Mapping[str, Any], lines: dict[Path_, int]) -> ConfigProblem:
    """Only `loc` and `msg` are used: pydantic's `input` may hold a secret."""
    loc = tuple(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key (check the spelling; see config/config.yaml for the valid keys)"
    elif error["type"] == "missing":
        message = "is required"
    return ConfigProblem(_dotted(loc), _plain(message), _line(loc, lines))


def _plain(message: str) -> str:
    """Pydantic's range wording, said the way a trader reads it."""
    replacements = {
        r"^Input should be ": "must be ",
        r"^Field required$": "is required",
    }
    for pattern, text in replacements.items():
        message = re.sub(pattern, text, message)
    return message
