"""The arithmetic of a walk-forward test: window bounds, the parameter grid, and how stable the choices are.

Kept apart from the optimiser (application/walk_forward.py) so each rule is a small pure
function a test can pin exactly.

Windows (rolling, all the same length): with B bars, W windows and train ratio r,

    test  = floor(B (1 - r) / (r + W (1 - r)))      bars in each test part
    train = floor(test r / (1 - r))                  bars in each train part (r of its window)
    first = B - (train + W test)                     oldest bars left unused (a few at most)

and window i (0-based) trains on [first + i test, first + i test + train) and tests on the next
`test` bars. The W test parts are consecutive, do not overlap, and the last ends at the last bar,
so together they are one out-of-sample stretch; each train part is the `train` bars just before
its test part.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.validation.errors import InvalidValidationInput, TooFewBars, TooManyParameters

_EPSILON = 1e-9  # float slack for the floors, so 0.75 / 0.25 never floors 3 * 20 to 59


@dataclass(frozen=True)
class WindowBounds:
    """Bar positions of one window, half-open: train [train_start, train_end), test [test_start, test_end)."""

    index: int
    train_start: int
    train_end: int
    test_start: int
    test_end: int


def part_sizes(bars: int, windows: int, train_ratio: float) -> tuple[int, int]:
    """(train, test) bars of every window for `bars` bars in all."""
    _check_plan(windows, train_ratio)
    test = math.floor(bars * (1 - train_ratio) / (train_ratio + windows * (1 - train_ratio)) + _EPSILON)
    train = math.floor(test * train_ratio / (1 - train_ratio) + _EPSILON)
    return train, test


def bars_needed(windows: int, train_ratio: float, min_part_bars: int) -> int:
    """The fewest bars for which both parts of every window have at least `min_part_bars` bars."""
    _check_plan(windows, train_ratio)
    test = max(min_part_bars, math.ceil(min_part_bars * (1 - train_ratio) / train_ratio - _EPSILON))
    bars = max(1, math.floor(test * (train_ratio + windows * (1 - train_ratio)) / (1 - train_ratio)) - 2)
    while min(part_sizes(bars, windows, train_ratio)) < min_part_bars:  # a step or two past the estimate
        bars += 1
    return bars


def plan_windows(bars: int, windows: int, train_ratio: float, min_part_bars: int = 20) -> list[WindowBounds]:
    """The windows of the module docstring, or TooFewBars saying how many bars would do."""
    if isinstance(min_part_bars, bool) or not isinstance(min_part_bars, int) or min_part_bars < 2:
        raise InvalidValidationInput(f"min_part_bars must be an integer >= 2, got {min_part_bars!r}")
    train, test = part_sizes(bars, windows, train_ratio)
    if min(train, test) < min_part_bars:
        needed = bars_needed(windows, train_ratio, min_part_bars)
        raise TooFewBars(
            f"walk-forward with {windows} window(s) at train ratio {train_ratio} needs at least {needed} bars "
            f"({min_part_bars} per train and test part); got {bars}",
            needed=needed, available=bars,
        )
    first = bars - (train + windows * test)
    return [WindowBounds(i, first + i * test, first + i * test + train, first + i * test + train,
                         first + (i + 1) * test + train) for i in range(windows)]


def parameter_combinations(param_grid: Mapping[str, Sequence[Any]], default_params: Mapping[str, Any],
                           max_parameters: int) -> list[dict[str, Any]]:
    """Every point of the grid, merged over the defaults, in itertools.product order of the grid's keys.

    The order is the tie-break of the search (the first best wins), so it must not depend on
    anything but the grid as given. An empty grid is one point: the defaults.
    """
    if len(param_grid) > max_parameters:
        raise TooManyParameters(
            f"param_grid has {len(param_grid)} parameters ({', '.join(param_grid)}); at most {max_parameters} "
            "may be optimised"
        )
    for key, values in param_grid.items():
        if isinstance(values, str | bytes) or len(values) == 0:
            raise InvalidValidationInput(f"param_grid[{key!r}] must be a non-empty list of values")
    keys = list(param_grid)
    return [{**default_params, **dict(zip(keys, point, strict=True))}
            for point in itertools.product(*(list(param_grid[k]) for k in keys))]


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parameter_cv(chosen: Sequence[Mapping[str, Any]], param_grid: Mapping[str, Sequence[Any]]) -> dict[str, float]:
    """std / |mean| (population std) of each numeric grid parameter across the windows' choices.

    A mean of 0 gives 0.0 when every choice is 0, else inf: no scale to compare the spread with.
    """
    found = {}
    for key, values in param_grid.items():
        if not all(is_number(v) for v in values):
            continue
        picks = [float(c[key]) for c in chosen]
        mean = sum(picks) / len(picks)
        std = math.sqrt(sum((p - mean) ** 2 for p in picks) / len(picks))
        found[key] = std / abs(mean) if mean != 0 else (0.0 if std == 0 else math.inf)
    return found


def average_parameters(chosen: Sequence[Mapping[str, Any]], param_grid: Mapping[str, Sequence[Any]],
                       default_params: Mapping[str, Any]) -> dict[str, Any]:
    """One parameter set to trade from the windows' choices, each keeping its type.

    Integer grid parameters: the mean rounded half up; other numeric ones: the mean; anything
    else (bools, strings): the most common choice, the earliest window's on a tie. Parameters
    outside the grid keep their default.
    """
    averaged = dict(default_params)
    for key, values in param_grid.items():
        picks = [c[key] for c in chosen]
        if all(is_number(v) for v in values):
            mean = sum(float(p) for p in picks) / len(picks)
            averaged[key] = math.floor(mean + 0.5) if all(isinstance(v, int) for v in values) else mean
        else:
            counts = [sum(1 for q in picks if q == p) for p in picks]
            averaged[key] = picks[counts.index(max(counts))]
    return averaged


def _check_plan(windows: int, train_ratio: float) -> None:
    if isinstance(windows, bool) or not isinstance(windows, int) or windows < 1:
        raise InvalidValidationInput(f"windows must be an integer >= 1, got {windows!r}")
    if not (isinstance(train_ratio, int | float) and 0 < train_ratio < 1):
        raise InvalidValidationInput(f"train_ratio must be a fraction in (0, 1), got {train_ratio!r}")
