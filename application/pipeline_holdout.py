"""The out-of-sample report: the selected portfolio on days the whole run never saw.

The run evaluates and selects on candles that stop `holdout_days` before the data ends; here the
selected strategies trade those last days (signals computed on all the data, so indicators are
warm, then backtested on the held-back bars only), equally weighted. Sharpe ratios are of daily
returns, annualised over 365 days.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from application.ports.backtest_engine import BacktestEngine
from application.ports.candle_source import CandleSource
from application.ports.strategy_sandbox import StrategySandbox
from application.strategy_repository import StrategyRepository
from domain.backtest import Costs
from domain.candles import last_days


class HoldoutEvaluator:
    def __init__(self, sandbox: StrategySandbox, engine: BacktestEngine, costs: Costs,
                 repository: StrategyRepository) -> None:
        self._sandbox = sandbox
        self._engine = engine
        self._costs = costs
        self._repository = repository

    def report(self, *, days: int, holdout_days: int, candles: CandleSource, selected: Sequence[Mapping[str, Any]],
               symbols: Sequence[str]) -> dict[str, Any]:
        rows, inside, outside = [], {}, {}
        for result in selected:
            strategy = self._repository.get(result["strategy_id"])
            frames = {s: last_days(candles.load(s, strategy.timeframe), strategy.timeframe, days + holdout_days)
                      for s in result.get("symbols") or symbols}
            cut = max(f.index[-1] for f in frames.values()) - pd.Timedelta(days=holdout_days)
            signals = {s: self._sandbox.signals(strategy.code, strategy.name, None, {s: f})[s]
                       for s, f in frames.items()}
            held = {s: f.loc[f.index >= cut] for s, f in frames.items()}
            held = {s: f for s, f in held.items() if len(f) > 1}
            if not held:
                continue
            run = self._engine.run(held, {s: signals[s].loc[held[s].index] for s in held},
                                   timeframe=strategy.timeframe, costs=self._costs)
            daily_out = run.daily_returns()
            daily_in = pd.Series({pd.Timestamp(k): v for k, v in (result.get("daily_returns") or {}).items()},
                                 dtype=float)
            inside[strategy.name], outside[strategy.name] = daily_in, daily_out
            rows.append({"name": strategy.name, "in_sample_sharpe": _sharpe(daily_in),
                         "out_of_sample_sharpe": _sharpe(daily_out),
                         "out_of_sample_return": float(run.metrics["total_return"])})
        portfolio_in, portfolio_out = _equal_weight(inside), _equal_weight(outside)
        return {
            "holdout_days": holdout_days, "strategies": rows,
            "in_sample": {"sharpe": _sharpe(portfolio_in), "days": len(portfolio_in)},
            "out_of_sample": {"sharpe": _sharpe(portfolio_out), "days": len(portfolio_out),
                              "return": float(np.prod(1 + portfolio_out.to_numpy()) - 1)},
        }


def _equal_weight(returns: Mapping[str, pd.Series]) -> pd.Series:
    if not returns:
        return pd.Series(dtype=float)
    frame = pd.DataFrame(dict(returns)).fillna(0.0)
    return frame.mean(axis=1)


def _sharpe(daily: pd.Series) -> float | None:
    values = daily.to_numpy(dtype=float)
    if len(values) < 2 or not np.isfinite(values).all():
        return None
    spread = float(values.std(ddof=1))
    return float(values.mean() / spread * math.sqrt(365)) if spread > 0 else None
