"""An account's equity over a window: its return, its worst fall, its daily returns, and how two move together.

Missing data stays missing: a day without a snapshot has no close, so neither its return nor the next
day's exists, and a correlation over too few common days is None, never 0 (0 would claim "unrelated").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

EquityPoint = tuple[datetime, float]


def window_return(base: float | None, path: Sequence[float]) -> float | None:
    """Last equity over the first (the base when known, else the window's first), minus one."""
    points = ([base] if base is not None else []) + list(path)
    if len(points) < 2 or points[0] <= 0:
        return None
    return points[-1] / points[0] - 1


def max_drawdown(base: float | None, path: Sequence[float]) -> float | None:
    """The deepest fall from a running peak within the window, as a positive fraction (0.1 = 10%).

    The peak starts at the base (the equity when the window opened), not at the account's all-time
    high, so this is the window's own drawdown. None without a point inside the window.
    """
    if not path:
        return None
    peak = base if base is not None else path[0]
    worst = 0.0
    for equity in path:
        peak = max(peak, equity)
        if peak > 0:
            worst = max(worst, (peak - equity) / peak)
    return worst


def daily_closes(points: Sequence[EquityPoint], start: datetime, days: int) -> list[float | None]:
    """The last equity of each day [start + k days, start + k + 1 days); None for a day without a point."""
    closes: list[float | None] = [None] * days
    latest: list[datetime | None] = [None] * days
    for at, equity in points:
        k = math.floor((at - start) / timedelta(days=1))
        if not 0 <= k < days:
            continue
        prior = latest[k]
        if prior is None or at >= prior:
            closes[k], latest[k] = equity, at
    return closes


def daily_returns(base: float | None, closes: Sequence[float | None]) -> list[float | None]:
    """Day k's return is its close over the previous close (the base for day 0), when both exist."""
    returns: list[float | None] = []
    previous = base
    for close in closes:
        returns.append(close / previous - 1 if close is not None and previous is not None and previous > 0 else None)
        previous = close
    return returns


def correlation(a: Sequence[float | None], b: Sequence[float | None], min_common: int) -> tuple[float | None, int]:
    """Pearson correlation over the days both have a return, and how many days that is.

    None when fewer than `min_common` days are common, or when either series does not move on
    them (the correlation of a constant is undefined, not 0).
    """
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    n = len(pairs)
    if n < max(min_common, 2):
        return None, n
    mean_x = sum(x for x, _ in pairs) / n
    mean_y = sum(y for _, y in pairs) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in pairs)
    syy = sum((y - mean_y) ** 2 for _, y in pairs)
    if sxx <= 1e-24 or syy <= 1e-24:
        return None, n
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in pairs)
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy))), n
