"""Typed errors of classification: scoring, regime labelling and portfolio selection.

All derive from InvalidClassificationInput, so a caller maps the family to one answer (a 400, a
CLI error) and still tells weights from data problems where it matters.
"""

from __future__ import annotations

from domain.errors import DomainError


class InvalidClassificationInput(DomainError):
    """Arguments or data classification cannot work on: say which and why."""


class InvalidScoreWeights(InvalidClassificationInput):
    """Score weights that are negative, not finite or do not sum to 1."""


class InsufficientHistory(InvalidClassificationInput):
    """Too few bars to label a regime: the trailing windows are not filled yet."""
