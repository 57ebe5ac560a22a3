"""Correlation of two strategies' daily returns, on the days both have.

Strategies start trading on different days and some skip days, so the series are aligned on
their overlap only. A pair with fewer than MIN_OVERLAP_DAYS shared days, or a series without
variance on them, counts as uncorrelated (0.0): too little shared history is no evidence that
two strategies are redundant, and leaving one out on such evidence would cost a diversifier.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from domain.classification.errors import InvalidClassificationInput

MIN_OVERLAP_DAYS = 20


def correlation(a: pd.Series, b: pd.Series) -> float:
    """Pearson correlation of two daily return series on their overlapping days.

    Fewer than MIN_OVERLAP_DAYS shared days, or no variance on them, give 0.0 (uncorrelated).
    """
    joined = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner").dropna()
    if len(joined) < MIN_OVERLAP_DAYS:
        return 0.0
    x = joined["a"].to_numpy(dtype=float)
    y = joined["b"].to_numpy(dtype=float)
    if float(x.std()) == 0.0 or float(y.std()) == 0.0:
        return 0.0
    return float(np.corrcoef(x, y)[0, 1])


def daily_by_utc_date(series: pd.Series, owner: str = "daily_returns") -> pd.Series:
    """Daily returns keyed by UTC midnight (tz-naive), several returns on one day compounded into one."""
    if len(series) == 0:
        return pd.Series(dtype=float)
    try:
        index = pd.DatetimeIndex(series.index)
    except (TypeError, ValueError) as exc:
        raise InvalidClassificationInput(f"{owner}: daily returns need a date index ({exc})") from None
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    values = pd.Series(series.to_numpy(dtype=float, na_value=np.nan), index=index.normalize().as_unit("ns"))
    values = values.dropna()
    if not values.index.has_duplicates:
        return values.sort_index()
    return (1.0 + values).groupby(level=0).prod() - 1.0
