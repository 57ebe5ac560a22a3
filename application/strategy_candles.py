"""The candles a strategy runs on: its timeframe, the symbols asked for (or the source's), the last
days, every frame checked (prices, enough bars for its warm-up). Backtest and validation alike."""

from __future__ import annotations

import pandas as pd

from application.ports.candle_source import CandleSource
from application.ports.strategy_sandbox import StrategyInfo
from domain.backtest import check_prices, check_warmup
from domain.candles import last_days
from domain.errors import InvalidStrategy


def checked_frames(candles: CandleSource, info: StrategyInfo, *, symbols: tuple[str, ...], timeframe: str | None,
                   days: int | None, purpose: str) -> tuple[str, tuple[str, ...], dict[str, pd.DataFrame]]:
    """(timeframe, symbols, frames); `purpose` ("backtest", "validate") names what had no symbol to run on."""
    timeframe = timeframe or info.timeframe
    symbols = symbols or tuple(candles.default_symbols(timeframe))
    if not symbols:
        raise InvalidStrategy(f"no symbols to {purpose} {info.class_name} on ({timeframe})")
    frames = {s: last_days(candles.load(s, timeframe), timeframe, days) for s in symbols}
    for symbol, frame in frames.items():
        check_prices(symbol, frame)
        check_warmup(info.class_name, symbol, len(frame), info.warmup_bars)
    return timeframe, symbols, frames
