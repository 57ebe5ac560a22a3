"""Classification: score backtested strategies, label market regimes, build the portfolio to trade.

Pure domain code: scorer (the 0-100 composite score), regimes (trend/range x high/low
volatility from trailing data), portfolio (greedy selection with a reason for every candidate).
"""

from domain.classification.errors import InsufficientHistory, InvalidClassificationInput, InvalidScoreWeights
from domain.classification.portfolio import Candidate, Decision, SelectionRules, build_portfolio
from domain.classification.regimes import (
    UNKNOWN,
    Regime,
    RegimeStats,
    RegimeWindows,
    allowed_in,
    current_regime,
    label_regimes,
    regime_performance,
)
from domain.classification.scorer import ScoreBounds, ScoreBreakdown, ScoreWeights, score, stability_from_windows

__all__ = [
    "UNKNOWN", "Candidate", "Decision", "InsufficientHistory", "InvalidClassificationInput", "InvalidScoreWeights",
    "Regime", "RegimeStats", "RegimeWindows", "ScoreBounds", "ScoreBreakdown", "ScoreWeights", "SelectionRules",
    "allowed_in", "build_portfolio", "current_regime", "label_regimes", "regime_performance", "score",
    "stability_from_windows",
]
