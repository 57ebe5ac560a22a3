"""A seeded, offline market: regime-switching candles for demos, tests and runs without a network.

Every bar is a pure function of (seed, symbol, timeframe, bar number since EPOCH), so any two
windows agree on the bars they share: bars are made in fixed blocks, each from its own random
stream, and bent to end on block "anchors" (log prices at block boundaries) that come from a cheap
block-level chain (regime, volatility level, block return) computed from EPOCH. Inside a block
a GARCH(1,1) variance gives volatility clusters; volume follows |return| and volatility.

Frames carry attrs["synthetic"] = True and attrs["source"] = "synthetic": never show them as real.
Timeframes of one symbol are independent series: a 1h bar is not twelve 5m bars rolled up.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd

from domain.candles import COLUMNS, INDEX_DTYPE, TIMEFRAME_MINUTES, InvalidCandles, timeframe_delta, to_utc

EPOCH = pd.Timestamp("2015-01-01", tz="UTC")
REGIMES: tuple[str, ...] = ("bull", "bear", "range", "turbulent")
_DRIFT_PER_YEAR = np.array([2.5, -2.5, 0.0, -0.5])      # log-return drift of each regime
_VOL_MULT = np.array([0.8, 1.1, 0.6, 1.8])               # volatility multiplier of each regime
_BASE_VOL_PER_YEAR = 0.60                                # annualised volatility, crypto-like
_MINUTES_PER_YEAR = 525_600
_REGIME_DAYS = 21.0        # mean regime length
_VOL_LEVEL_DAYS = 10.0     # memory of the slow volatility level
_VOL_LEVEL_STD = 0.25      # stationary std of log volatility level
_PULL_PER_YEAR = 1.0       # mean reversion of log price toward the symbol's base price
_GARCH_ALPHA, _GARCH_BETA = 0.10, 0.85
_SHOCK_CAP = 9.0           # largest squared standard shock fed back into the variance
_WICK = 0.5                # intrabar excursion in units of the bar's volatility
_KNOWN_PRICES = {"BTC": 30_000.0, "ETH": 2_000.0, "SOL": 60.0, "BNB": 300.0, "XRP": 0.5,
                 "DOGE": 0.08, "ADA": 0.4, "LTC": 80.0}


class _Blocks(NamedTuple):
    start_log: np.ndarray   # log price at each block's first open
    ret: np.ndarray         # log return over each block
    sigma: np.ndarray       # per-bar volatility target of each block
    regime: np.ndarray      # index into REGIMES


class SyntheticHistory:
    """HistoricalCandles from the seeded market; the same bar is identical in every window."""

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.seed = seed

    def fetch(self, symbol: str, timeframe: str, start: datetime, end: datetime) -> pd.DataFrame:
        """Bars with open time in [start, end); naive datetimes are UTC."""
        step = timeframe_delta(timeframe)
        lo, hi = to_utc(start), to_utc(end)
        if lo < EPOCH:
            raise InvalidCandles(f"the synthetic market starts at {EPOCH:%Y-%m-%d}; asked for {lo}")
        first = -((EPOCH - lo) // step)              # ceil: first bar opening at or after start
        stop = max(first, -((EPOCH - hi) // step))   # bars opening before end
        return _frame(self.seed, symbol, timeframe, int(first), int(stop))


def synthetic_candles(symbol: str, timeframe: str, start: datetime, end: datetime, seed: int) -> pd.DataFrame:
    """The seeded market's bars for one symbol with open time in [start, end), labelled synthetic."""
    return SyntheticHistory(seed).fetch(symbol, timeframe, start, end)


def block_bars(timeframe: str) -> int:
    """Bars per block: about a week of bars, 16 to 256, so regimes switch on a human time scale."""
    return int(min(256, max(16, 7 * 1440 // TIMEFRAME_MINUTES[timeframe])))


def _frame(seed: int, symbol: str, timeframe: str, first: int, stop: int) -> pd.DataFrame:
    minutes = TIMEFRAME_MINUTES[timeframe]
    size = block_bars(timeframe)
    index = pd.DatetimeIndex(EPOCH + pd.to_timedelta(np.arange(first, stop) * minutes, unit="min"),
                             name="timestamp").astype(INDEX_DTYPE)
    if stop <= first:
        values = np.empty((0, len(COLUMNS)))
    else:
        b0, b1 = first // size, (stop - 1) // size
        blocks = _block_chain(seed, symbol, timeframe, _round_up(b1 + 1))
        values = _bars(seed, symbol, timeframe, blocks, np.arange(b0, b1 + 1))
        values = values[first - b0 * size: stop - b0 * size]
        values[:, 4] *= _session_factor(index)
    frame = pd.DataFrame(values, index=index, columns=list(COLUMNS))
    frame.attrs = {"synthetic": True, "source": "synthetic", "seed": seed}
    return frame


def _bars(seed: int, symbol: str, timeframe: str, blocks: _Blocks, which: np.ndarray) -> np.ndarray:
    """OHLCV rows of the given blocks, flattened in time order: shape (len(which) * size, 5)."""
    size = block_bars(timeframe)
    key = _symbol_key(symbol)
    minutes = TIMEFRAME_MINUTES[timeframe]
    draws = np.stack([np.random.default_rng([seed, key, minutes, 0, int(b)]).random((size, 5)) for b in which])
    radius = np.sqrt(-2.0 * np.log1p(-draws[..., 0]))          # Box-Muller, two normals per pair
    z_ret, z_high = radius * np.cos(2 * np.pi * draws[..., 1]), radius * np.sin(2 * np.pi * draws[..., 1])
    radius = np.sqrt(-2.0 * np.log1p(-draws[..., 2]))
    z_low, z_vol = radius * np.cos(2 * np.pi * draws[..., 3]), radius * np.sin(2 * np.pi * draws[..., 3])
    z_ret = np.where(draws[..., 4] < 0.02, 2.5 * z_ret, z_ret)  # rare jumps: fat tails

    target = blocks.sigma[which][:, None] ** 2
    omega = target * (1.0 - _GARCH_ALPHA - _GARCH_BETA)
    var = np.empty_like(z_ret)
    ret = np.empty_like(z_ret)
    current = target[:, 0]
    for j in range(size):
        var[:, j] = current
        ret[:, j] = np.sqrt(current) * z_ret[:, j]
        shock = np.minimum(z_ret[:, j] ** 2, _SHOCK_CAP)   # a capped feedback cannot explode
        current = omega[:, 0] + (_GARCH_ALPHA * shock + _GARCH_BETA) * current
    ret -= (ret.sum(axis=1) - blocks.ret[which])[:, None] / size   # end exactly on the next anchor

    close_log = blocks.start_log[which][:, None] + np.cumsum(ret, axis=1)
    close_log[:, -1] = blocks.start_log[which] + blocks.ret[which]  # the next block's open, bit for bit
    open_log = np.concatenate([blocks.start_log[which][:, None], close_log[:, :-1]], axis=1)
    bar_sigma = np.sqrt(var)
    high_log = np.maximum(open_log, close_log) + _WICK * np.abs(z_high) * bar_sigma
    low_log = np.minimum(open_log, close_log) - _WICK * np.abs(z_low) * bar_sigma
    base_sigma = _BASE_VOL_PER_YEAR * math.sqrt(minutes / _MINUTES_PER_YEAR)
    volume_log = (math.log(_base_volume(symbol, minutes)) + 0.8 * np.log(bar_sigma / base_sigma)
                  + 0.35 * np.abs(ret) / bar_sigma + 0.3 * z_vol)
    rows = np.stack([open_log, high_log, low_log, close_log], axis=-1)
    out = np.concatenate([np.exp(rows), np.exp(volume_log)[..., None]], axis=-1)
    return out.reshape(-1, len(COLUMNS))


@lru_cache(maxsize=64)
def _block_chain(seed: int, symbol: str, timeframe: str, count: int) -> _Blocks:
    """Regime, volatility level and return of blocks 0..count-1; any prefix is the same for any count."""
    minutes = TIMEFRAME_MINUTES[timeframe]
    block_days = block_bars(timeframe) * minutes / 1440
    years = block_days / 365.0
    stay = max(0.0, 1.0 - block_days / _REGIME_DAYS)
    keep = math.exp(-block_days / _VOL_LEVEL_DAYS)
    shock = _VOL_LEVEL_STD * math.sqrt(1.0 - keep * keep)
    bar_sigma = _BASE_VOL_PER_YEAR * math.sqrt(minutes / _MINUTES_PER_YEAR)
    u = np.random.default_rng([seed, _symbol_key(symbol), minutes, 1]).random((count, 4))
    radius = np.sqrt(-2.0 * np.log1p(-u[:, 1]))
    z_ret, z_level = radius * np.cos(2 * np.pi * u[:, 2]), radius * np.sin(2 * np.pi * u[:, 2])
    base_log = math.log(_base_price(symbol))
    start_log, ret, sigma = np.empty(count), np.empty(count), np.empty(count)
    regime = np.empty(count, dtype=np.int64)
    state, level, log_price = 2, 0.0, base_log
    for b in range(count):
        if u[b, 0] >= stay:
            state = int(u[b, 3] * len(REGIMES))
        level = keep * level + shock * z_level[b]
        sigma[b] = bar_sigma * _VOL_MULT[state] * math.exp(level)
        drift = _DRIFT_PER_YEAR[state] * years - _PULL_PER_YEAR * years * (log_price - base_log)
        start_log[b], regime[b] = log_price, state
        ret[b] = drift + sigma[b] * math.sqrt(block_bars(timeframe)) * z_ret[b]
        log_price += ret[b]
    return _Blocks(start_log, ret, sigma, regime)


def _session_factor(index: pd.DatetimeIndex) -> np.ndarray:
    """Busier around the US session, quieter in the Asian night, as on real venues."""
    hours = index.hour.to_numpy() + index.minute.to_numpy() / 60.0
    factor: np.ndarray = np.exp(0.25 * np.cos(2 * np.pi * (hours - 15.0) / 24.0))
    return factor


def _symbol_key(symbol: str) -> int:
    """A stable 32-bit number per symbol (Python's hash() changes between runs)."""
    return int.from_bytes(hashlib.blake2b(symbol.encode(), digest_size=4).digest(), "big")


def _base_price(symbol: str) -> float:
    """Familiar coins start near familiar prices; others get a stable price from 0.05 to 500."""
    for coin, price in _KNOWN_PRICES.items():
        if symbol.upper().startswith(coin):
            return price
    return math.exp(math.log(0.05) + (_symbol_key(symbol) / 2**32) * math.log(500 / 0.05))


def _base_volume(symbol: str, minutes: int) -> float:
    """About 50k of quote currency per minute, in base units at the base price."""
    return 50_000.0 * minutes / _base_price(symbol)


def _round_up(count: int) -> int:
    return 1 << max(6, (count - 1).bit_length())
