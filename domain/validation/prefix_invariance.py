"""The dynamic lookahead check: a strategy's past must not change when the future arrives.

No AST rule sees a series normalised by its full-length mean, a global rank, a fit over the
whole history or a resample mapped back with a backfill. All of them have one symptom: the
signals of bar t computed with data up to some later cut differ from those computed with all
the data. Live trading always computes with data up to now, so a strategy whose rows change
when later bars are added trades differently live than in its backtest.

Flags are compared everywhere; size, sl_pct and tp_pct only on entry rows, where the engine
reads them (elsewhere a strategy may leave anything). Floats compare with a tolerance of a few
ulps, so a rolling sum whose rounding differs in the last bit is not called lookahead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from domain.signal_frame import FLAG_COLUMNS, VALUE_COLUMNS
from domain.validation.violations import Violation

FULL, AGAIN = "full", "full_again"
_RTOL, _ATOL = 1e-9, 1e-12


@dataclass(frozen=True)
class PrefixDifference:
    column: str
    bar: int
    timestamp: pd.Timestamp
    with_all_data: object
    with_data_to_cut: object
    cut: int

    def violation(self, index: pd.Index) -> Violation:
        cut_time = index[self.cut - 1]
        if self.cut == len(index):
            return Violation("nondeterministic", None,
                             f"two runs on the same data disagree: {self.column} at bar {self.bar} ({self.timestamp}) "
                             f"is {self.with_all_data} then {self.with_data_to_cut} (randomness or hidden state)")
        return Violation("prefix_invariance", None,
                         f"signals change when later bars are added: {self.column} at bar {self.bar} "
                         f"({self.timestamp}) is {self.with_all_data} with all data but {self.with_data_to_cut} "
                         f"with data up to {cut_time} (the strategy reads future bars)")


def cut_points(n_bars: int, warmup: int, count: int) -> list[int]:
    """`count` prefix lengths spread from just past the warm-up to near the end, ascending, distinct."""
    if count < 1:
        raise ValueError("the prefix check needs at least one cut point")
    low = min(n_bars - 1, max(warmup + 2, 3))
    high = n_bars - 1
    if high < low:
        return []
    cuts = np.unique(np.linspace(low, high, num=count).round().astype(int))
    return [int(c) for c in cuts]


def prefix_frames(df: pd.DataFrame, cuts: Sequence[int]) -> dict[str, pd.DataFrame]:
    """What to compute signals on: all the data twice (determinism), then each prefix."""
    frames = {FULL: df, AGAIN: df}
    frames.update({f"cut_{c}": df.iloc[:c] for c in cuts})
    return frames


def first_difference(signals: Mapping[str, pd.DataFrame], cuts: Sequence[int]) -> PrefixDifference | None:
    """The earliest disagreement with the full run, checking the repeat run first; None when invariant."""
    full = signals[FULL]
    found = _compare(full, signals[AGAIN], len(full))
    if found is not None:
        return found
    for cut in cuts:
        found = _compare(full.iloc[:cut], signals[f"cut_{cut}"], cut)
        if found is not None:
            return found
    return None


def _compare(full: pd.DataFrame, other: pd.DataFrame, cut: int) -> PrefixDifference | None:
    earliest: PrefixDifference | None = None
    entry_full = full["long_entry"].to_numpy() | full["short_entry"].to_numpy()
    entry_other = other["long_entry"].to_numpy() | other["short_entry"].to_numpy()
    for column in FLAG_COLUMNS:
        a, b = full[column].to_numpy(), other[column].to_numpy()
        earliest = _earlier(earliest, np.flatnonzero(a != b), column, a, b, full.index, cut)
    for column in VALUE_COLUMNS:
        a, b = full[column].to_numpy(dtype=float), other[column].to_numpy(dtype=float)
        both_nan = np.isnan(a) & np.isnan(b)
        with np.errstate(invalid="ignore"):
            close = np.isclose(a, b, rtol=_RTOL, atol=_ATOL) | both_nan
        differs = ~close & entry_full & entry_other
        earliest = _earlier(earliest, np.flatnonzero(differs), column, a, b, full.index, cut)
    return earliest


def _earlier(current: PrefixDifference | None, bad: np.ndarray, column: str, a: np.ndarray, b: np.ndarray,
             index: pd.Index, cut: int) -> PrefixDifference | None:
    if len(bad) == 0:
        return current
    bar = int(bad[0])
    if current is not None and current.bar <= bar:
        return current
    return PrefixDifference(column, bar, index[bar], a[bar].item(), b[bar].item(), cut)
