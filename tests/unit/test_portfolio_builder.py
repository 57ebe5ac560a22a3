"""The portfolio builder: thresholds, caps, correlation, regime veto, and a reason for every candidate."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pandas as pd
import pytest

from domain.classification.correlation import MIN_OVERLAP_DAYS, correlation
from domain.classification.errors import InvalidClassificationInput
from domain.classification.portfolio import Candidate, Decision, SelectionRules, build_portfolio
from domain.classification.regimes import Regime, RegimeStats

DAYS = pd.date_range("2024-01-01", periods=120, freq="D")


def noise(seed: str, days: pd.DatetimeIndex = DAYS) -> pd.Series:
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    return pd.Series(rng.normal(0.001, 0.01, len(days)), index=days)


def make(strategy_id: str, score: float, *, strategy_type: str = "MOM", timeframe: str = "1h",
         daily: pd.Series | None = None, p: float | None = 0.01, dsr: float | None = 0.97,
         regimes: dict[str, RegimeStats] | None = None, symbols: tuple[str, ...] = (),
         passed_gates: bool = True, gate_reasons: tuple[str, ...] = (), **metrics: Any) -> Candidate:
    values = {"sharpe_ratio": 1.8, "win_rate": 0.52, "total_trades": 120, "max_drawdown": 0.12} | metrics
    return Candidate(strategy_id, f"Strategy_{strategy_id}", strategy_type, timeframe, score, values, p, dsr,
                     noise(strategy_id) if daily is None else daily, regimes or {}, passed_gates, gate_reasons,
                     symbols)


def by_id(decisions: list[Decision]) -> dict[str, Decision]:
    return {d.strategy_id: d for d in decisions}


def test_no_candidates_no_decisions() -> None:
    assert build_portfolio([], SelectionRules()) == []


def test_a_selected_strategy_says_why() -> None:
    [decision] = build_portfolio([make("a", 71.2)], SelectionRules())
    assert decision == Decision("a", "Strategy_a", True, 1, 71.2, decision.reasons)
    assert decision.reasons[0] == "score 71.2, rank 1"
    for sentence in ("sharpe 1.80 >= 1", "win rate 0.52 >= 0.45", "trades 120 >= 30", "max drawdown 0.12 <= 0.3",
                     "shuffle p 0.010 <= 0.05", "DSR 0.97 >= 0.95", "first selected, no correlation to check"):
        assert sentence in decision.reasons
    assert decision.to_dict()["reasons"] == list(decision.reasons)


def test_every_failed_threshold_is_named_with_value_and_limit() -> None:
    decisions = by_id(build_portfolio([
        make("weak", 80, sharpe_ratio=0.8, win_rate=0.40),
        make("few", 79, total_trades=12, max_drawdown=0.45),
        make("lucky", 78, p=0.2, dsr=0.5),
        make("unknown", 77, p=None, dsr=None, sharpe_ratio=None),
        make("low", 40),
    ], SelectionRules()))
    assert decisions["weak"].reasons == ("sharpe 0.80 < 1", "win rate 0.40 < 0.45")
    assert decisions["few"].reasons == ("trades 12 < 30", "max drawdown 0.45 > 0.3")
    assert decisions["lucky"].reasons == ("shuffle p 0.200 > 0.05", "DSR 0.50 < 0.95")
    assert decisions["unknown"].reasons == ("sharpe unknown (limit >= 1)", "shuffle p unknown (limit <= 0.05)",
                                            "DSR unknown (limit >= 0.95)")
    assert decisions["low"].reasons == ("score 40.0 < 50",)
    assert not any(d.selected for d in decisions.values())


def test_a_check_set_to_none_is_skipped() -> None:
    [decision] = build_portfolio([make("a", 60, p=None, dsr=None)],
                                 SelectionRules(max_p_value=None, min_deflated_sharpe=None))
    assert decision.selected
    assert not any("shuffle" in r or "DSR" in r for r in decision.reasons)


def test_earlier_gate_failures_are_carried_over() -> None:
    decisions = by_id(build_portfolio([make("a", 99, passed_gates=False, gate_reasons=("lookahead: shift(-1)",)),
                                       make("b", 60)], SelectionRules(top_n=1)))
    assert decisions["a"].reasons == ("failed earlier gates", "lookahead: shift(-1)")
    assert not decisions["a"].selected and decisions["b"].rank == 1


def test_at_most_max_per_type_of_one_strategy_type() -> None:
    candidates = [make(f"mom{i}", 90 - i) for i in range(5)] + [make("mr", 60, strategy_type="MR")]
    decisions = build_portfolio(candidates, SelectionRules(max_per_timeframe=10))
    chosen = [d.strategy_id for d in decisions if d.selected]
    assert chosen == ["mom0", "mom1", "mom2", "mr"]
    assert by_id(decisions)["mom3"].reasons == ("3 MOM strategies already selected (max_per_type 3)",)


def test_at_most_max_per_timeframe_of_one_timeframe() -> None:
    candidates = [make(f"s{i}", 90 - i, strategy_type=f"T{i}", timeframe="15m") for i in range(3)]
    candidates.append(make("s9", 50, strategy_type="T9", timeframe="4h"))
    decisions = by_id(build_portfolio(candidates, SelectionRules(max_per_timeframe=2)))
    assert [decisions[i].selected for i in ("s0", "s1", "s2", "s9")] == [True, True, False, True]
    assert decisions["s2"].reasons == ("2 15m strategies already selected (max_per_timeframe 2)",)


def test_a_strategy_too_correlated_with_a_selected_one_is_passed_over() -> None:
    base = noise("a")
    twin = base + noise("twin") * 0.1
    mirror = -base
    decisions = by_id(build_portfolio([make("a", 90, strategy_type="A"),
                                       make("twin", 80, strategy_type="B", daily=twin),
                                       make("mirror", 70, strategy_type="C", daily=mirror)], SelectionRules()))
    corr = correlation(twin, base)
    assert corr > 0.9
    assert decisions["twin"].reasons == (f"daily returns correlate {corr:.2f} with Strategy_a (max 0.7)",)
    assert decisions["mirror"].selected  # moving against the portfolio diversifies it
    assert "corr <= -1.00 with the selected (highest: Strategy_a)" in decisions["mirror"].reasons


def test_too_little_overlap_counts_as_uncorrelated() -> None:
    base = noise("a")
    copy_late = base.iloc[-(MIN_OVERLAP_DAYS - 1):]
    decisions = by_id(build_portfolio([make("a", 90, strategy_type="A"),
                                       make("late", 80, strategy_type="B", daily=copy_late)], SelectionRules()))
    assert decisions["late"].selected
    assert correlation(base, base.iloc[-MIN_OVERLAP_DAYS:]) == pytest.approx(1.0)


def test_daily_returns_on_utc_timestamps_and_dates_line_up() -> None:
    base = noise("a")
    as_dates = pd.Series(base.to_numpy(), index=[t.date() for t in base.index])
    as_utc = pd.Series(base.to_numpy(), index=base.index.tz_localize("UTC") + pd.Timedelta(hours=23))
    decisions = by_id(build_portfolio([make("a", 90, strategy_type="A", daily=as_utc),
                                       make("b", 80, strategy_type="B", daily=as_dates)], SelectionRules()))
    assert decisions["b"].reasons == ("daily returns correlate 1.00 with Strategy_a (max 0.7)",)


def test_a_loss_in_the_current_regime_vetoes_the_strategy() -> None:
    losing = {"trend/high": RegimeStats(12, -123.4, 0.3), "range/low": RegimeStats(20, 300.0, 0.6)}
    current = {"BTC": Regime("trend", "high"), "ETH": Regime("range", "low")}
    decisions = by_id(build_portfolio([
        make("btc", 90, strategy_type="A", regimes=losing, symbols=("BTC",)),
        make("eth", 80, strategy_type="B", regimes=losing, symbols=("ETH",)),
        make("all", 70, strategy_type="C", regimes=losing),
        make("new", 60, strategy_type="D", regimes={"trend/high": RegimeStats(3, -50.0, 0.0)}, symbols=("BTC",)),
    ], SelectionRules(), current))
    assert decisions["btc"].reasons == ("lost money in the current regime trend/high of BTC (-123.4 over 12 trades)",)
    assert decisions["eth"].selected
    assert "made 300.0 over 20 trades in range/low (current regime of ETH)" in decisions["eth"].reasons
    assert not decisions["all"].selected  # no symbols listed: it trades everything, BTC included
    assert decisions["new"].selected
    assert any(r.startswith("unproven in trend/high (3 trades < 5)") for r in decisions["new"].reasons)
    without_regimes = by_id(build_portfolio([make("btc", 90, regimes=losing, symbols=("BTC",))], SelectionRules()))
    assert without_regimes["btc"].selected


def test_only_the_top_n_are_taken() -> None:
    candidates = [make(f"s{i:02d}", 90 - i, strategy_type=f"T{i}", timeframe=f"{i}m") for i in range(12)]
    decisions = build_portfolio(candidates, SelectionRules())
    assert [d.rank for d in decisions] == [*range(1, 11), None, None]
    assert decisions[10].reasons == ("not in the top 10 by score (score 80.0; the portfolio is full)",)


def test_every_candidate_gets_one_decision_in_a_fixed_order() -> None:
    candidates = [make("b", 70), make("a", 70), make("c", 75, sharpe_ratio=0.1), make("d", 65, strategy_type="X"),
                  make("e", 80, passed_gates=False), make("f", 30), make("g", float("nan"))]
    rules = SelectionRules(max_per_type=1)
    decisions = build_portfolio(candidates, rules)
    assert [d.strategy_id for d in decisions] == ["a", "d", "e", "c", "b", "f", "g"]  # ties by strategy_id
    assert [d.rank for d in decisions] == [1, 2, None, None, None, None, None]
    assert all(d.reasons for d in decisions)
    rng = np.random.default_rng(0)
    for _ in range(5):
        shuffled = [candidates[i] for i in rng.permutation(len(candidates))]
        assert build_portfolio(shuffled, rules) == decisions


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(InvalidClassificationInput, match="duplicate strategy_id"):
        build_portfolio([make("a", 60), make("a", 70)], SelectionRules())


def test_rules_are_checked_and_default_to_the_settings() -> None:
    from entrypoints.settings.models import BacktestingSettings, ClassificationSettings

    with pytest.raises(InvalidClassificationInput, match="top_n"):
        SelectionRules(top_n=0)
    with pytest.raises(InvalidClassificationInput, match="max_correlation"):
        SelectionRules(max_correlation=float("nan"))
    rules, classification, backtesting = SelectionRules(), ClassificationSettings(), BacktestingSettings()
    assert (rules.top_n, rules.min_score, rules.max_per_type, rules.max_per_timeframe, rules.max_correlation) == (
        classification.top_n, classification.min_score, classification.max_per_type,
        classification.max_per_timeframe, classification.max_correlation)
    assert (rules.min_sharpe, rules.min_win_rate, rules.min_trades, rules.max_drawdown, rules.max_p_value) == (
        backtesting.min_sharpe, backtesting.min_win_rate, backtesting.min_trades, backtesting.max_drawdown,
        backtesting.shuffle.max_p_value)


def test_the_strongest_correlation_is_the_one_named() -> None:
    a, b = noise("a"), noise("b")
    blend = 0.8 * a + b  # correlates about 0.6 with a and 0.8 with b
    decisions = by_id(build_portfolio([make("a", 90, strategy_type="A"), make("b", 80, strategy_type="B"),
                                       make("blend", 70, strategy_type="C", daily=blend)],
                                      SelectionRules(max_correlation=0.5)))
    assert decisions["a"].selected and decisions["b"].selected
    assert correlation(blend, a) > 0.5
    assert decisions["blend"].reasons == (f"daily returns correlate {correlation(blend, b):.2f} with Strategy_b "
                                          "(max 0.5)",)
