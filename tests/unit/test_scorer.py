"""The composite score: linear between floor and ceiling, clipped, weighted; walk-forward stability."""

from __future__ import annotations

import math

import pytest

from domain.classification.errors import InvalidClassificationInput, InvalidScoreWeights
from domain.classification.scorer import ScoreBounds, ScoreWeights, score, stability_from_windows


def metrics(expectancy: float | None = 0.005, sharpe: float | None = 1.5,
            consistency: float | None = 0.55) -> dict[str, float | None]:
    return {"expectancy": expectancy, "sharpe_ratio": sharpe, "consistency": consistency, "total_trades": 50}


def test_midpoints_of_every_bound_score_fifty() -> None:
    found = score(metrics(), 0.5)
    assert found.score == pytest.approx(50.0)
    assert found.components == pytest.approx({"edge": 0.5, "sharpe": 0.5, "consistency": 0.5, "stability": 0.5})
    assert found.raw == {"edge": 0.005, "sharpe": 1.5, "consistency": 0.55, "stability": 0.5}


def test_ceilings_give_100_and_floors_give_0() -> None:
    assert score(metrics(0.01, 3.0, 0.8), 1.0).score == pytest.approx(100.0)
    assert score(metrics(0.0, 0.0, 0.3), 0.0).score == 0.0


def test_components_are_clipped_so_one_outlier_cannot_buy_a_place() -> None:
    capped = score(metrics(sharpe=9.0), 0.5)
    at_ceiling = score(metrics(sharpe=3.0), 0.5)
    assert capped.score == pytest.approx(at_ceiling.score)
    assert capped.raw["sharpe"] == 9.0
    losing = score(metrics(expectancy=-0.02, sharpe=-1.0, consistency=0.1), -0.5)
    assert losing.score == 0.0
    assert set(losing.components.values()) == {0.0}


def test_weights_decide_what_counts() -> None:
    edge_only = ScoreWeights(edge=1.0, sharpe=0.0, consistency=0.0, stability=0.0)
    assert score(metrics(expectancy=0.0025, sharpe=3.0), 1.0, edge_only).score == pytest.approx(25.0)
    # default weights 0.4/0.3/0.2/0.1 on components 1/0/0.5/0
    assert score(metrics(0.02, 0.0, 0.55), 0.0).score == pytest.approx(40.0 + 10.0)


def test_custom_bounds_move_floor_and_ceiling() -> None:
    bounds = ScoreBounds(sharpe=(1.0, 2.0))
    assert score(metrics(sharpe=1.5), 0.5, bounds=bounds).components["sharpe"] == pytest.approx(0.5)
    assert score(metrics(sharpe=1.0), 0.5, bounds=bounds).components["sharpe"] == 0.0


@pytest.mark.parametrize("bad", [None, math.nan, math.inf, "1.2", True])
def test_unknown_metrics_earn_nothing(bad: object) -> None:
    found = score({"expectancy": 0.005, "sharpe_ratio": bad, "consistency": 0.55}, 0.5)
    assert found.components["sharpe"] == 0.0
    assert found.raw["sharpe"] is None
    assert found.score == pytest.approx(100 * (0.4 * 0.5 + 0.2 * 0.5 + 0.1 * 0.5))
    assert score({}, math.nan).score == 0.0


def test_higher_sharpe_never_lowers_the_score() -> None:
    scores = [score(metrics(sharpe=s), 0.5).score for s in (-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 4.0)]
    assert scores == sorted(scores)
    assert scores[-2] > scores[2]


def test_weights_must_sum_to_one() -> None:
    ScoreWeights(0.1, 0.2, 0.3, 0.4)  # floating sums within 1e-9 are fine
    with pytest.raises(InvalidScoreWeights, match="sum to 1"):
        ScoreWeights(0.4, 0.3, 0.2, 0.2)
    with pytest.raises(InvalidScoreWeights, match="sum to 1"):
        ScoreWeights(0.4, 0.3, 0.2, 0.1 + 1e-7)
    with pytest.raises(InvalidScoreWeights, match="stability"):
        ScoreWeights(0.5, 0.3, 0.3, -0.1)
    with pytest.raises(InvalidScoreWeights):
        ScoreWeights(math.nan, 0.3, 0.2, 0.1)
    assert issubclass(InvalidScoreWeights, InvalidClassificationInput)


def test_bounds_need_hi_above_lo() -> None:
    with pytest.raises(InvalidClassificationInput, match="sharpe"):
        ScoreBounds(sharpe=(3.0, 3.0))
    with pytest.raises(InvalidClassificationInput, match="edge"):
        ScoreBounds(edge=(0.0, math.inf))


def test_default_weights_match_the_settings_defaults() -> None:
    from entrypoints.settings.models import ScoreWeights as SettingsWeights

    assert ScoreWeights().as_dict() == SettingsWeights().model_dump()


def test_stability_rewards_positive_and_similar_out_of_sample_sharpes() -> None:
    assert stability_from_windows([]) == 0.0
    assert stability_from_windows([1.2, 1.2, 1.2]) == pytest.approx(1.0)
    assert stability_from_windows([1.0, 3.0]) == pytest.approx(0.5)  # all positive, CV = 1 / 2
    # 3 of 4 positive, but mean 0.75 and population std sqrt(0.8125): CV > 1 leaves nothing
    assert stability_from_windows([2.0, 1.0, 0.5, -0.5]) == 0.0
    assert stability_from_windows([1.0, 1.1, 0.9, -0.1]) == pytest.approx(
        0.75 * (1 - math.sqrt(((0.275 ** 2) + (0.375 ** 2) + (0.175 ** 2) + (0.825 ** 2)) / 4) / 0.725))
    assert stability_from_windows([1.0, -1.0]) == 0.0  # mean 0
    assert stability_from_windows([-1.0, -1.0]) == 0.0  # steady, but never positive
    assert stability_from_windows([1.0]) == 1.0


def test_stability_refuses_non_finite_sharpes() -> None:
    with pytest.raises(InvalidClassificationInput):
        stability_from_windows([1.0, math.nan])
