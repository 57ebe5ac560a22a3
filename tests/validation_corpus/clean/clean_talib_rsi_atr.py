"""Clean: talib's RSI and ATR (both recursive over past bars) with ATR-sized stops."""

import pandas as pd
import talib

from domain.strategy import StrategyCore


class TalibRsiAtr(StrategyCore):
    type = "REV"
    timeframe = "15m"
    default_params = {"period": 14, "oversold": 30.0, "overbought": 70.0, "stop_atr": 2.0}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        p = self.params
        close = df["close"].to_numpy(dtype=float)
        high = df["high"].to_numpy(dtype=float)
        low = df["low"].to_numpy(dtype=float)
        rsi = talib.RSI(close, timeperiod=p["period"])
        atr = talib.ATR(high, low, close, timeperiod=p["period"])
        stop = p["stop_atr"] * atr / close
        return pd.DataFrame({
            "long_entry": rsi < p["oversold"],
            "short_entry": rsi > p["overbought"],
            "exit": (rsi > 45) & (rsi < 55),
            "size": 0.3,
            "sl_pct": stop,
            "tp_pct": 2 * stop,
        }, index=df.index)
