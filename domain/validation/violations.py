"""One finding of a validation check, in the shape the CLI's `--json` and the events carry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Violation:
    """`rule` is a stable machine name (e.g. "negative_shift"); `line` is None when no line applies."""

    rule: str
    line: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "line": self.line, "message": self.message}

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.message} [{self.rule}]"
