"""An equity path's figures over a window: return, drawdown, daily closes and returns, correlation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.equity_window import correlation, daily_closes, daily_returns, max_drawdown, window_return

START = datetime(2024, 3, 2, tzinfo=UTC)
DAY = timedelta(days=1)


def test_the_return_is_from_the_base_or_the_first_point_and_needs_two() -> None:
    assert window_return(None, [100.0]) is None and window_return(None, [100.0, 110.0]) == pytest.approx(0.1)
    assert window_return(80.0, [100.0]) == pytest.approx(0.25) and window_return(0.0, [1.0]) is None


def test_the_drawdown_is_from_the_running_peak_starting_at_the_base() -> None:
    assert max_drawdown(120.0, [100.0, 130.0, 117.0]) == pytest.approx(1 / 6)
    assert max_drawdown(None, [100.0, 90.0, 120.0, 114.0]) == pytest.approx(0.1)
    assert max_drawdown(1.0, []) is None and max_drawdown(None, [5.0, 6.0]) == 0.0


def test_each_day_closes_at_its_last_point_and_a_missing_day_has_no_return() -> None:
    closes = daily_closes([(START + DAY / 2, 1.0), (START + DAY / 4, 9.0), (START + 2 * DAY, 3.0),
                           (START - DAY, 7.0), (START + 3 * DAY, 8.0)], START, 3)
    assert closes == [1.0, None, 3.0], "the day before and the day after the window are not in it"
    assert daily_returns(2.0, closes) == [-0.5, None, None]
    assert daily_returns(None, [1.0, 2.0]) == [None, 1.0]


def test_a_correlation_needs_enough_common_days_and_moving_series() -> None:
    assert correlation([0.1, 0.2, 0.3], [0.3, 0.2, 0.1], 3)[0] == pytest.approx(-1.0)
    assert correlation([0.1, 0.1, 0.1], [0.3, 0.2, 0.1], 3) == (None, 3), "a flat series correlates with nothing"
    assert correlation([0.1, None, 0.3], [0.3, 0.2, None], 2) == (None, 1)
    assert correlation([0.01, 0.03, -0.02, 0.0], [0.02, 0.05, -0.01, 0.01], 4)[0] == pytest.approx(0.99279455, abs=1e-7)
