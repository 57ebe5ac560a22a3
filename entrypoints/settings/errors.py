"""Config problems, each naming the key path and the line; never a value (it may be a secret)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigProblem:
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.path}: {self.message}{where}"


class ConfigError(Exception):
    def __init__(self, problems: list[ConfigProblem], source: str = "config") -> None:
        self.problems = problems
        self.source = source
        super().__init__("\n".join(str(p) for p in problems))
