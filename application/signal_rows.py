"""Reading the last row of a strategy's checked signals frame, as the live loop acts on it."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from domain.subaccount_book import SubaccountBook


def wanted(row: pd.Series) -> str | None:
    """The direction the row enters, or None."""
    return "long" if bool(row["long_entry"]) else "short" if bool(row["short_entry"]) else None


def closes(book: SubaccountBook, symbol: str, row: pd.Series) -> bool:
    """This row closes what the book holds on `symbol` (an exit, or an entry the other way)."""
    held = book.positions.get(symbol)
    direction = wanted(row)
    return held is not None and (held.direction != direction if direction is not None else bool(row["exit"]))


def fraction(value: Any) -> float | None:
    """A stop or target fraction; NaN means none."""
    number = float(value)
    return None if math.isnan(number) else number
