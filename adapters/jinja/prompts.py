"""The PromptBook port on Jinja2 templates in adapters/jinja/templates/.

StrictUndefined turns a missing variable into an error instead of an empty hole in a prompt.
The version of a template is a hash of its text, so a stored prompt names the wording it used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from application.ports.prompts import RenderedPrompt
from domain.strategy import MAX_GRID_PARAMS, TIMEFRAMES

TEMPLATES = Path(__file__).resolve().parent / "templates"
TYPE_NOTES = {
    "MOM": "momentum: trade in the direction of recent strength (moving-average crosses, rate of change, MACD)",
    "REV": "mean reversion: fade stretched moves back toward a trailing mean (RSI, Bollinger, z-scores)",
    "TRN": "trend following: join an established trend on pullbacks, filtered by trend strength (ADX, slopes)",
    "BRE": "breakout: enter when price leaves a trailing range (Donchian channels, range expansion)",
    "VOL": "volatility: trade the transition from compression to expansion (squeezes, ATR percentiles)",
    "PAT": "pattern: trade the statistically validated pattern given below",
}
ALLOWED_IMPORTS = ("pandas", "numpy", "talib", "math", "statistics", "dataclasses", "typing", "functools",
                   "itertools", "collections", "domain.strategy")


class JinjaPromptBook:
    def __init__(self, templates: Path = TEMPLATES) -> None:
        self._env = Environment(loader=FileSystemLoader(str(templates)), undefined=StrictUndefined,
                                keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                                autoescape=False)  # noqa: S701 - prompts, not HTML
        self._versions = {name: _version(templates / f"{name}.j2", templates / "system.j2")
                          for name in ("generate", "fix")}

    def generate(self, *, strategy_type: str, timeframe: str, pattern: Mapping[str, Any] | None,
                 avoid: Sequence[str] = ()) -> RenderedPrompt:
        text = self._env.get_template("generate.j2").render(
            strategy_type=strategy_type, type_note=TYPE_NOTES.get(strategy_type, strategy_type),
            timeframe=timeframe, pattern=dict(pattern) if pattern else None, avoid=list(avoid),
            **self._common())
        return RenderedPrompt(text, self._system(), "generate", self._versions["generate"])

    def fix(self, *, code: str, errors: Sequence[str], strategy_type: str, timeframe: str) -> RenderedPrompt:
        text = self._env.get_template("fix.j2").render(
            code=code, errors=list(errors), strategy_type=strategy_type, timeframe=timeframe, **self._common())
        return RenderedPrompt(text, self._system(), "fix", self._versions["fix"])

    def _system(self) -> str:
        return self._env.get_template("system.j2").render(**self._common())

    @staticmethod
    def _common() -> dict[str, Any]:
        return {"timeframes": TIMEFRAMES, "max_grid_params": MAX_GRID_PARAMS, "allowed_imports": ALLOWED_IMPORTS}


def _version(*paths: Path) -> str:
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()
    return f"{paths[0].stem}@{digest[:10]}"
