"""The portfolio builder: which scored strategies to trade, and a reason for every one of them.

Greedy by score, highest first (ties broken by strategy_id, so the same input always gives the
same portfolio). A candidate is taken when it passes, in this order:
1. the earlier pipeline gates (`passed_gates`; their `gate_reasons` are carried over);
2. every threshold of SelectionRules (all failures are named, with value and limit; a missing
   metric fails its threshold, and `max_p_value`/`min_deflated_sharpe` of None switch a check off);
3. the regime veto, when today's regimes are given (below);
4. room: fewer than `top_n` already taken, fewer than `max_per_type` of its strategy_type and
   `max_per_timeframe` of its timeframe;
5. diversification: the Pearson correlation of its daily returns with each one already taken is
   <= `max_correlation`. Only the overlapping days count; a pair with fewer than
   MIN_OVERLAP_DAYS of them, or with a flat series on the overlap, counts as uncorrelated (0):
   too little shared history is no evidence of redundancy. Correlation is signed: a strategy that
   moves against one already taken diversifies the portfolio and is welcome.

Regime veto: `Candidate.regimes` is per strategy, aggregated over all its symbols (each trade in
its own symbol's regime at entry, see regimes.regime_performance). The check looks up the current
regime of each symbol the candidate trades (`symbols`; when empty, every symbol in
`current_regimes`, i.e. a strategy run on the whole universe) and vetoes it when `allowed_in` is
False for any of them: one symbol in a regime where the strategy lost money is enough to lose
money there. Symbols without a current regime are not checked.

Decisions come back with the selected first, in rank order, then the rest by score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from domain.classification.correlation import correlation, daily_by_utc_date
from domain.classification.errors import InvalidClassificationInput
from domain.classification.regimes import Regime, RegimeStats, allowed_in


@dataclass(frozen=True, eq=False)
class Candidate:
    """A strategy that reached classification, with everything the builder judges it by."""

    strategy_id: str
    name: str
    strategy_type: str
    timeframe: str
    score: float
    metrics: Mapping[str, Any]          # sharpe_ratio, win_rate, total_trades, max_drawdown ...
    shuffle_p_value: float | None
    deflated_sharpe: float | None
    daily_returns: pd.Series            # indexed by UTC date
    regimes: Mapping[str, RegimeStats]  # regime string -> record, over all its symbols
    passed_gates: bool = True
    gate_reasons: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()       # empty: every symbol of current_regimes


@dataclass(frozen=True)
class SelectionRules:
    """Defaults follow config.yaml (`classification` plus the `backtesting` thresholds)."""

    top_n: int = 10
    min_score: float = 50.0
    min_sharpe: float = 1.0
    min_win_rate: float = 0.45
    min_trades: int = 30
    max_drawdown: float = 0.30
    max_p_value: float | None = 0.05
    min_deflated_sharpe: float | None = 0.95
    max_per_type: int = 3
    max_per_timeframe: int = 3
    max_correlation: float = 0.7
    regime_min_trades: int = 5

    def __post_init__(self) -> None:
        for name in ("top_n", "min_trades", "max_per_type", "max_per_timeframe", "regime_min_trades"):
            value = getattr(self, name)
            least = 0 if name == "min_trades" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise InvalidClassificationInput(f"{name} must be an integer >= {least}, got {value!r}")
        for name in ("min_score", "min_sharpe", "min_win_rate", "max_drawdown", "max_p_value",
                     "min_deflated_sharpe", "max_correlation"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int | float) and math.isfinite(value)):
                raise InvalidClassificationInput(f"{name} must be a finite number, got {value!r}")


@dataclass(frozen=True)
class Decision:
    """One candidate's verdict; `rank` is 1.. for the selected, None for the rest."""

    strategy_id: str
    name: str
    selected: bool
    rank: int | None
    score: float
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"strategy_id": self.strategy_id, "name": self.name, "selected": self.selected, "rank": self.rank,
                "score": self.score if math.isfinite(self.score) else None, "reasons": list(self.reasons)}


def build_portfolio(candidates: Sequence[Candidate], rules: SelectionRules | None = None,
                    current_regimes: Mapping[str, Regime] | None = None) -> list[Decision]:
    """Exactly one Decision per candidate (duplicate strategy ids are refused), selected first by rank."""
    rules = rules or SelectionRules()
    ids = [c.strategy_id for c in candidates]
    if len(set(ids)) != len(ids):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        raise InvalidClassificationInput(f"duplicate strategy_id(s): {', '.join(duplicates)}")
    ordered = sorted(candidates, key=lambda c: (-_sort_score(c.score), c.strategy_id))
    taken: list[tuple[Candidate, pd.Series]] = []
    selected: list[Decision] = []
    rest: list[Decision] = []
    for candidate in ordered:
        verdict = _verdict(candidate, rules, current_regimes, taken)
        if isinstance(verdict, _Passed):
            taken.append((candidate, verdict.daily))
            rank = len(taken)
            reasons = (f"score {candidate.score:.1f}, rank {rank}", *verdict.reasons)
            selected.append(Decision(candidate.strategy_id, candidate.name, True, rank, candidate.score, reasons))
        else:
            rest.append(Decision(candidate.strategy_id, candidate.name, False, None, candidate.score, verdict))
    return selected + rest


@dataclass(frozen=True)
class _Passed:
    reasons: tuple[str, ...]
    daily: pd.Series


def _verdict(candidate: Candidate, rules: SelectionRules, current_regimes: Mapping[str, Regime] | None,
             taken: list[tuple[Candidate, pd.Series]]) -> _Passed | tuple[str, ...]:
    """_Passed with the reasons it was taken, or the reasons it was passed over."""
    if not candidate.passed_gates:
        return ("failed earlier gates", *candidate.gate_reasons)
    passed, failed = _thresholds(candidate, rules)
    if failed:
        return tuple(failed)
    vetoes, regime_notes = _regime_check(candidate, rules, current_regimes)
    if vetoes:
        return tuple(vetoes)
    if len(taken) >= rules.top_n:
        return (f"not in the top {rules.top_n} by score (score {candidate.score:.1f}; the portfolio is full)",)
    same_type = sum(1 for c, _ in taken if c.strategy_type == candidate.strategy_type)
    if same_type >= rules.max_per_type:
        return (f"{same_type} {candidate.strategy_type} strategies already selected "
                f"(max_per_type {rules.max_per_type})",)
    same_timeframe = sum(1 for c, _ in taken if c.timeframe == candidate.timeframe)
    if same_timeframe >= rules.max_per_timeframe:
        return (f"{same_timeframe} {candidate.timeframe} strategies already selected "
                f"(max_per_timeframe {rules.max_per_timeframe})",)
    daily = daily_by_utc_date(candidate.daily_returns, candidate.strategy_id)
    pairs = sorted(((correlation(daily, other_daily), other.name) for other, other_daily in taken),
                   key=lambda pair: (-pair[0], pair[1]))
    if pairs and pairs[0][0] > rules.max_correlation:
        corr, name = pairs[0]  # the strongest overlap is the one to name
        return (f"daily returns correlate {corr:.2f} with {name} (max {rules.max_correlation:g})",)
    diversity = ("first selected, no correlation to check" if not pairs
                 else f"corr <= {pairs[0][0]:.2f} with the selected (highest: {pairs[0][1]})")
    return _Passed((*passed, *regime_notes, diversity), daily)


def _thresholds(candidate: Candidate, rules: SelectionRules) -> tuple[list[str], list[str]]:
    """(sentences of the thresholds met, sentences of those failed), in a fixed order."""
    metrics = candidate.metrics
    checks: list[tuple[str, float | None, float | None, bool, str]] = [
        ("score", _number(candidate.score), rules.min_score, True, ".1f"),
        ("sharpe", _number(metrics.get("sharpe_ratio")), rules.min_sharpe, True, ".2f"),
        ("win rate", _number(metrics.get("win_rate")), rules.min_win_rate, True, ".2f"),
        ("trades", _number(metrics.get("total_trades")), float(rules.min_trades), True, ".0f"),
        ("max drawdown", _number(metrics.get("max_drawdown")), rules.max_drawdown, False, ".2f"),
        ("shuffle p", _number(candidate.shuffle_p_value), rules.max_p_value, False, ".3f"),
        ("DSR", _number(candidate.deflated_sharpe), rules.min_deflated_sharpe, True, ".2f"),
    ]
    passed: list[str] = []
    failed: list[str] = []
    for label, value, limit, at_least, form in checks:
        if limit is None:
            continue
        sign = ">=" if at_least else "<="
        if value is None:
            failed.append(f"{label} unknown (limit {sign} {limit:g})")
        elif (value >= limit) if at_least else (value <= limit):
            passed.append(f"{label} {value:{form}} {sign} {limit:g}")
        else:
            failed.append(f"{label} {value:{form}} {'<' if at_least else '>'} {limit:g}")
    if passed and passed[0].startswith("score "):
        passed.pop(0)  # the selected decision opens with the score and rank already
    return passed, failed


def _regime_check(candidate: Candidate, rules: SelectionRules,
                  current_regimes: Mapping[str, Regime] | None) -> tuple[list[str], list[str]]:
    """(vetoes, notes): one sentence per current regime of the symbols it trades, symbols grouped."""
    if current_regimes is None:
        return [], []
    symbols = candidate.symbols or tuple(sorted(current_regimes))
    by_regime: dict[str, list[str]] = {}
    for symbol in symbols:
        if symbol in current_regimes:
            by_regime.setdefault(str(current_regimes[symbol]), []).append(symbol)
    vetoes: list[str] = []
    notes: list[str] = []
    for key in sorted(by_regime):
        allowed, why = allowed_in(key, candidate.regimes, rules.regime_min_trades)
        where = ", ".join(by_regime[key])
        if allowed:
            notes.append(f"{why} (current regime of {where})")
        else:
            stats = candidate.regimes[key]
            vetoes.append(f"lost money in the current regime {key} of {where} "
                          f"({stats.pnl:.1f} over {stats.trades} trades)")
    return vetoes, notes


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _sort_score(value: float) -> float:
    number = _number(value)
    return -math.inf if number is None else number
