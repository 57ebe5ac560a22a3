"""Config problems, each naming the key path and the line; never a value (it may be a secret)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigProblem:
    """One line of `sixbtc config validate` output; `path` is dotted (`risk.max_daily_loss`)."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.path}: {self.message}{where}"


class ConfigError(Exception):
    """Every problem found in one pass, so a user fixes the file once instead of once per run."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class KeyedValueError(ValueError):
    """A cross-field check's error that belongs to a key below the model that raised it.

    Pydantic reports a model validator's error at the model itself (`risk`, or `<root>` for the
    whole file); the loader moves it to `key` so the problem names the key the user must change
    (`pipeline.dask_scheduler`) and its line.
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key: tuple[str, ...] = tuple(key.split("."))
