"""The indicator columns that pattern conditions are written over, computed from candles alone.

Every value at bar t uses only bars <= t (rolling windows and recursive averages, never centred
ones), so a condition true at bar t's close can be acted on at bar t+1's open. A strategy that
wants to trade a pattern recomputes these columns with `indicator_frame` and evaluates the
pattern's condition with `frame.eval(condition)`: the miner measured exactly that mask.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Column -> what it means, for prompts that quote a condition.
INDICATORS: dict[str, str] = {
    "rsi_14": "RSI(14) with Wilder smoothing, 0..100",
    "sma_50_dist": "close / SMA(50) of closes - 1 (fraction)",
    "sma_200_dist": "close / SMA(200) of closes - 1 (fraction)",
    "ema_20_dist": "close / EMA(20) of closes - 1 (fraction)",
    "range_atr_14": "bar range (high - low) / ATR(14)",
    "bb_pctb_20": "Bollinger %b: (close - lower band) / (upper - lower), bands SMA(20) +- 2 std",
    "ret_z_50": "z-score of the bar's log return against the previous 50 bars' mean and std (incl. this bar)",
    "volume_z_20": "z-score of log(1 + volume) over the last 20 bars",
    "dow": "day of week of the bar's open time, UTC, 0 = Monday",
    "hour": "hour of the bar's open time, UTC, 0..23",
}
CONTINUOUS: tuple[str, ...] = ("rsi_14", "sma_50_dist", "sma_200_dist", "ema_20_dist", "range_atr_14",
                               "bb_pctb_20", "ret_z_50", "volume_z_20")
CALENDAR: tuple[str, ...] = ("dow", "hour")
LABELS: dict[str, str] = {
    "rsi_14": "RSI(14)", "sma_50_dist": "distance to SMA(50)", "sma_200_dist": "distance to SMA(200)",
    "ema_20_dist": "distance to EMA(20)", "range_atr_14": "range/ATR(14)", "bb_pctb_20": "Bollinger %b(20)",
    "ret_z_50": "return z-score(50)", "volume_z_20": "volume z-score(20)", "dow": "weekday", "hour": "UTC hour",
}


def _wilder(series: pd.Series, length: int) -> pd.Series:
    return series.ewm(alpha=1.0 / length, adjust=False, min_periods=length).mean()


def _zscore(series: pd.Series, window: int) -> pd.Series:
    return (series - series.rolling(window).mean()) / series.rolling(window).std()


def indicator_frame(candles: pd.DataFrame) -> pd.DataFrame:
    """The candle columns plus every column of INDICATORS; warm-up and undefined values are NaN.

    `candles` is a standard frame (domain/candles.py). Division by zero (a flat market, zero
    volume) gives NaN rather than inf, so a comparison on it is simply false.
    """
    close, high, low = candles["close"], candles["high"], candles["low"]
    out = candles[["open", "high", "low", "close", "volume"]].copy()
    delta = close.diff()
    gain, loss = _wilder(delta.clip(lower=0.0), 14), _wilder((-delta).clip(lower=0.0), 14)
    out["rsi_14"] = 100.0 * gain / (gain + loss)
    out["sma_50_dist"] = close / close.rolling(50).mean() - 1.0
    out["sma_200_dist"] = close / close.rolling(200).mean() - 1.0
    out["ema_20_dist"] = close / close.ewm(span=20, adjust=False, min_periods=20).mean() - 1.0
    prev = close.shift(1)
    true_range = pd.concat([high - low, (high - prev).abs(), (low - prev).abs()], axis=1).max(axis=1, skipna=False)
    out["range_atr_14"] = (high - low) / _wilder(true_range, 14)
    mid, std = close.rolling(20).mean(), close.rolling(20).std(ddof=0)
    out["bb_pctb_20"] = (close - (mid - 2.0 * std)) / (4.0 * std)
    out["ret_z_50"] = _zscore(pd.Series(np.log(close), index=close.index).diff(), 50)
    out["volume_z_20"] = _zscore(pd.Series(np.log1p(candles["volume"].clip(lower=0.0)), index=close.index), 20)
    index = pd.DatetimeIndex(candles.index)
    out["dow"] = index.day_of_week.astype("float64")
    out["hour"] = index.hour.astype("float64")
    return out.replace([np.inf, -np.inf], np.nan)
