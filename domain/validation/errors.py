"""Typed errors of the statistical validation checks (shuffle test, deflated Sharpe, walk-forward).

All derive from InvalidValidationInput, so a caller maps the whole family to one answer (a 400,
a CLI error) and still tells them apart by kind where it matters.
"""

from __future__ import annotations

from domain.errors import DomainError


class InvalidValidationInput(DomainError):
    """Arguments or data a validation check cannot run on: say which and why."""


class TooFewBars(InvalidValidationInput):
    """The data are too short for the requested windows; `needed` bars would do."""

    def __init__(self, message: str, *, needed: int, available: int) -> None:
        super().__init__(message)
        self.needed = needed
        self.available = available


class TooManyParameters(InvalidValidationInput):
    """A parameter grid with more keys than the optimiser may search (the grid grows exponentially)."""
