"""Synthetic candle series for the pattern tests: a pure random walk, and one with a planted pattern."""

from __future__ import annotations

import numpy as np
import pandas as pd

from domain.candles import normalize_candles


def _frame(open_: np.ndarray, close: np.ndarray, rng: np.random.Generator, freq: str) -> pd.DataFrame:
    n = len(close)
    wick = np.abs(rng.normal(0.0, 0.002, (2, n)))
    idx = pd.date_range("2022-01-01", periods=n, freq=freq, tz="UTC", name="timestamp")
    return normalize_candles(pd.DataFrame({
        "open": open_, "high": np.maximum(open_, close) * (1 + wick[0]),
        "low": np.minimum(open_, close) * (1 - wick[1]), "close": close,
        "volume": rng.lognormal(5.0, 1.0, n)}, index=idx))


def random_walk(seed: int, n: int = 26_280, freq: str = "h") -> pd.DataFrame:
    """Driftless log random walk (3 years of 1h bars by default); open = previous close."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.006, n)))
    return _frame(np.concatenate([[100.0], close[:-1]]), close, rng, freq)


def planted(seed: int, n: int = 26_280, freq: str = "h", lift: float = 0.002, horizon: int = 8)  -> pd.DataFrame:
    """A random walk where, after a close with Wilder RSI(14) < 25, the next `horizon` bars drift up by `lift` each."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, 0.006, n)
    close, open_ = np.empty(n), np.empty(n)
    prev, gain, loss, boost_until = 100.0, 0.0, 0.0, -1
    for t in range(n):
        open_[t] = prev
        price = prev * np.exp(noise[t] + (lift if t <= boost_until else 0.0))
        close[t], delta = price, price - prev
        gain, loss = gain + (max(delta, 0.0) - gain) / 14, loss + (max(-delta, 0.0) - loss) / 14
        if t >= 14 and gain + loss > 0 and 100.0 * gain / (gain + loss) < 25:
            boost_until = t + horizon
        prev = price
    return _frame(open_, close, rng, freq)


def gapped(seed: int, n: int = 26_280, gap: float = 0.05, rate: float = 0.02, delay: int = 1) -> pd.DataFrame:
    """A random walk where a random `rate` of bars trade 30x their usual volume and `delay` bars later the open gaps up.

    The spike is independent of everything before it, so nothing at a bar's close predicts a move after the
    next open: with delay=1 (the next open) an edge exists only for a miner that enters at the signal bar's
    close (lookahead); with delay=2 it is a real, tradeable edge (the control). The
    gaps' average drift is spread over all bars, so holding through any window earns nothing on average.
    """
    frame = random_walk(seed, n)
    rng = np.random.default_rng(seed + 1000)
    spike = rng.random(n) < rate
    frame.loc[spike, "volume"] *= 30.0
    jump = np.concatenate([np.zeros(delay), np.where(spike[:-delay], np.log1p(gap), 0.0)])
    # every bar from the next open on is shifted up together; the average drift is taken out again
    level = np.exp(np.cumsum(jump - jump.mean()))
    for column in ("open", "high", "low", "close"):
        frame[column] = frame[column].to_numpy() * level
    frame["high"] = frame[["open", "high", "close"]].max(axis=1)
    frame["low"] = frame[["open", "low", "close"]].min(axis=1)
    return frame
