"""Backtest-engine port: simulate precomputed signals on candles under the execution rules.

Strategies run before the engine (their signals are plain frames), so the engine is the same
for every strategy and can be swapped or compared with a reference loop. The rules every
engine follows are in docs/backtesting.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import pandas as pd

from domain.backtest import BacktestRun, Costs


class BacktestEngine(Protocol):
    def run(
        self,
        candles: Mapping[str, pd.DataFrame],
        signals: Mapping[str, pd.DataFrame],
        *,
        timeframe: str,
        costs: Costs,
        funding: Mapping[str, pd.Series] | None = None,
    ) -> BacktestRun:
        """One column per symbol, each on its own share of the capital.

        `candles[s]` are checked candles (domain.backtest.check_prices); `signals[s]` is the checked
        signals frame (domain.signal_frame) on the same index. `funding[s]`, when given, holds
        funding rates (fraction per event) indexed by event time.
        """
        ...
