"""Shuffle (permutation) test: is the timing of a strategy's trades better than luck?

The statistic is the strategy's gross edge: sum over bars of position * open-to-open log return,
where the position is +1 long, -1 short, 0 flat, held over [open of entry_bar, open of
exit_bar) because fills happen at opens (docs/backtesting.md). A trade closed at the end of the
data (exit_reason "end") is held through the last bar, whose return is its open-to-close. Stops
fill inside their exit bar; that partial bar is left out, so every trade counts whole bars only.
Sizes and costs are ignored: the null keeps the same trades, so costs would be identical on both
sides and only timing is being tested. With several symbols, the edge is the mean over every
symbol of the candles (each symbol is an equal share of the capital) of its own sum.

The null: each shuffle moves every symbol's position series by its own random circular shift
(offset uniform in [1, n-1]). That keeps the number, length, direction and order of the trades
(the same exposure and the same trade structure) and only breaks their alignment with the
market. A per-bar permutation of the positions would be the wrong null: it scatters every trade
into one-bar pieces, destroying the positions' autocorrelation. Given the realised returns, the
variance of a shifted edge is sum over lags u of autocov_position(u) * autocov_returns(u); the
permutation keeps only the u = 0 term. Markets that trend over a trade's length (positive return
autocorrelation at those lags) then get a null far too narrow, and a strategy that merely holds
long blocks looks significant (tests/unit/test_shuffle.py shows it on an AR(1) market). On a
near-random-walk series the two agree, so the shift costs nothing where the permutation is right.
It would also change the trade count, which a test with costs could not ignore.

Every possible shift's edge is a circular cross-correlation of positions and returns, computed
for all shifts at once by FFT in O(n log n); the shuffles then only pick offsets. No Python loop
runs over iterations or bars.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from domain.backtest import BacktestRun
from domain.validation.errors import InvalidValidationInput

TIE_TOLERANCE = 1e-9
"""Null edges within this share of the total absolute movement below the real edge count as ties
(>=): FFT rounding must never turn a tie into a win for the strategy."""


@dataclass(frozen=True)
class ShuffleResult:
    """`edge`: the real statistic; `p_value`: (k+1)/(iterations+1) with k shuffles >= edge;
    `z_score`/`z_p_value`: the normal approximation (one-sided) the seed project reported."""

    edge: float
    p_value: float
    z_score: float
    z_p_value: float
    iterations: int
    null_mean: float
    null_std: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "edge": self.edge, "p_value": self.p_value, "z_score": self.z_score, "z_p_value": self.z_p_value,
            "iterations": self.iterations, "null_mean": self.null_mean, "null_std": self.null_std,
        }


def shuffle_test(run: BacktestRun, candles: Mapping[str, pd.DataFrame], iterations: int,
                 seed: int = 0) -> ShuffleResult:
    """Compare the real edge with `iterations` circular shifts of the positions (deterministic per seed).

    `candles` are the frames the backtest ran on (its trades' bars index them). Without trades the
    edge is 0 and p_value 1.0: there is nothing to test and nothing to trust.
    """
    edge, null = edge_and_null(run, candles, iterations, seed)
    if len(run.trades) == 0:
        return ShuffleResult(0.0, 1.0, 0.0, 1.0, iterations, 0.0, 0.0)
    tolerance = TIE_TOLERANCE * _movement(candles)
    k = int(np.count_nonzero(null >= edge - tolerance))
    mean = float(null.mean())
    std = float(null.std(ddof=1)) if iterations > 1 else 0.0
    if std > tolerance:
        z = (edge - mean) / std
        z_p = 0.5 * math.erfc(z / math.sqrt(2.0))  # 1 - Phi(z), accurate in the far tail
    else:  # every shift scored the same: no spread to measure z by
        z = 0.0
        z_p = 0.0 if edge > mean + tolerance else 1.0
    return ShuffleResult(edge, (k + 1) / (iterations + 1), z, z_p, iterations, mean, std)


def edge_and_null(run: BacktestRun, candles: Mapping[str, pd.DataFrame], iterations: int,
                  seed: int = 0) -> tuple[float, np.ndarray]:
    """The real edge and the `iterations` null edges behind shuffle_test (the same draws for a seed)."""
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise InvalidValidationInput(f"shuffle test iterations must be an integer >= 1, got {iterations!r}")
    symbols = list(candles)
    if not symbols:
        raise InvalidValidationInput("shuffle test needs the candles of at least one symbol")
    codes, entry, stop, side = _trade_arrays(run, candles, symbols)
    returns = [log_returns(candles[s]) for s in symbols]
    lengths = np.array([len(r) for r in returns], dtype=np.int64)
    if (lengths == 0).any():
        raise InvalidValidationInput(f"{symbols[int(np.argmin(lengths))]}: no candles to shuffle over")
    # One offset per shuffle and symbol, uniform in [1, n-1] (a one-bar symbol cannot move: 0);
    # drawn even without trades, so a seed always consumes the generator the same way.
    draws = np.random.default_rng(seed).integers(1, np.maximum(lengths, 2), size=(iterations, len(symbols)))
    offsets = draws % lengths
    if len(codes) == 0:
        return 0.0, np.zeros(iterations)
    shifted = [_all_shifts(returns[j], entry[codes == j], stop[codes == j], side[codes == j])
               for j in range(len(symbols))]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    table = np.concatenate(shifted)
    edge = float(table[starts].mean())
    null = table[starts[None, :] + offsets].mean(axis=1)
    return edge, null


def log_returns(candles: pd.DataFrame) -> np.ndarray:
    """Per bar, what holding it earns: log(open[t+1] / open[t]), and open-to-close for the last bar."""
    opens = candles["open"].to_numpy(dtype=float)
    if len(opens) == 0:
        return np.zeros(0)
    ends = np.append(opens[1:], float(candles["close"].iloc[-1]))
    return np.asarray(np.log(ends / opens))


def positions(run: BacktestRun, candles: Mapping[str, pd.DataFrame]) -> dict[str, np.ndarray]:
    """Each symbol's +1/-1/0 position per bar, as the shuffle test reads the trades."""
    symbols = list(candles)
    codes, entry, stop, side = _trade_arrays(run, candles, symbols)
    found = {}
    for j, symbol in enumerate(symbols):
        mine = codes == j
        found[symbol] = _position_series(len(candles[symbol]), entry[mine], stop[mine], side[mine])
    return found


def _trade_arrays(run: BacktestRun, candles: Mapping[str, pd.DataFrame],
                  symbols: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per trade: symbol code, first bar held, first bar not held, side (+1/-1)."""
    trades = run.trades
    for symbol in symbols:
        expected = run.bars.get(symbol)
        if expected is not None and expected != len(candles[symbol]):
            raise InvalidValidationInput(
                f"{symbol}: the backtest ran on {expected} bars but the candles given have {len(candles[symbol])}"
            )
    if len(trades) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    names = trades["symbol"].astype(str)
    unknown = sorted(set(names) - set(symbols))
    if unknown:
        raise InvalidValidationInput(f"trades name symbol(s) {unknown} that the candles lack")
    codes = pd.Categorical(names, categories=symbols).codes.astype(np.int64)
    lengths = np.array([len(candles[s]) for s in symbols], dtype=np.int64)[codes]
    entry = trades["entry_bar"].to_numpy(dtype=np.int64)
    exit_bar = trades["exit_bar"].to_numpy(dtype=np.int64)
    stop = np.where(trades["exit_reason"].astype(str).to_numpy() == "end", lengths, exit_bar)
    if ((entry < 0) | (stop < entry) | (stop > lengths)).any():
        raise InvalidValidationInput("trades hold bars outside their symbol's candles (entry_bar/exit_bar)")
    side = np.where(trades["side"].astype(str).to_numpy() == "short", -1.0, 1.0)
    return codes, entry, stop, side


def _position_series(n: int, entry: np.ndarray, stop: np.ndarray, side: np.ndarray) -> np.ndarray:
    """+side over [entry, stop) of every trade: a difference array, then one cumulative sum."""
    steps = np.zeros(n + 1)
    np.add.at(steps, entry, side)
    np.add.at(steps, stop, -side)
    return np.cumsum(steps)[:n]


def _all_shifts(returns: np.ndarray, entry: np.ndarray, stop: np.ndarray, side: np.ndarray) -> np.ndarray:
    """edge[s] = sum_t position[(t - s) mod n] * returns[t] for every shift s (s = 0 is the real one).

    The circular cross-correlation is irfft(conj(rfft(position)) * rfft(returns)).
    """
    n = len(returns)
    position = _position_series(n, entry, stop, side)
    if n == 0 or not position.any():
        return np.zeros(n)
    spectrum = np.conj(np.fft.rfft(position)) * np.fft.rfft(returns)
    shifted = np.fft.irfft(spectrum, n=n)
    shifted[0] = float(position @ returns)  # the real edge, exact
    return np.asarray(shifted)


def _movement(candles: Mapping[str, pd.DataFrame]) -> float:
    """Mean over symbols of the total absolute log movement: the scale any edge lives on."""
    return float(np.mean([np.abs(log_returns(frame)).sum() for frame in candles.values()]))
