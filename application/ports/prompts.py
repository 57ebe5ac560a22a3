"""Prompt templates: what the generator asks an LLM, rendered from versioned templates.

The rendered text and the template's version are stored with every generated strategy, so a
strategy can always be traced to the exact words that produced it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class RenderedPrompt:
    text: str
    system: str
    template: str       # "generate" or "fix"
    version: str        # changes whenever the template's text changes


class PromptBook(Protocol):
    def generate(self, *, strategy_type: str, timeframe: str, pattern: Mapping[str, Any] | None,
                 avoid: Sequence[str] = ()) -> RenderedPrompt:
        """Ask for one new strategy of `strategy_type` on `timeframe`, seeded by `pattern` when given."""
        ...

    def fix(self, *, code: str, errors: Sequence[str], strategy_type: str, timeframe: str) -> RenderedPrompt:
        """Ask for `code` again with `errors` (the validation gate's findings) fixed."""
        ...
