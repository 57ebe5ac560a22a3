"""Market regimes (trend or range, high or low volatility), labelled from past bars only.

A strategy that made its money in trends can lose it in a range; knowing which regime each
trade was opened in lets the portfolio builder leave out a strategy whose record in today's
regime is a loss. Every label uses trailing windows only (bar t sees bars <= t), so labelling
history never leaks the future into the attribution of trades and the last bar's label is what
a live system could have computed at that close.

- trend: Kaufman's efficiency ratio over the last `trend_window` bars,
  ER_t = |close_t - close_{t-n}| / sum_{i=t-n+1..t} |close_i - close_{i-1}|, in [0, 1]: 1 is a
  straight line, near 0 is back and forth. ER > `er_threshold` (default 0.3) is "trend", else
  "range"; a flat window (no movement at all) has ER 0. ER needs no high/low and has no
  smoothing lag, unlike ADX.
- volatility: realised volatility is the standard deviation (ddof=1) of log close-to-close
  returns over the last `vol_window` bars; it is "high" when above the median of that
  volatility over the last `vol_median_window` bars (the current bar included), else "low". A
  relative threshold works for every symbol and timeframe without a per-asset constant.

Windows are bar counts. The defaults suit 1h bars: a day (24 bars) for ER and volatility, 30
days (720 bars) for the median; `RegimeWindows.for_timeframe` scales them to other timeframes.
Until the median has `vol_window` volatility values it runs over the ones it has (an expanding
median); before that (the first max(trend_window, 2 * vol_window - 1) bars) a bar has no label
(None), and trades opened there are attributed to UNKNOWN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from domain.backtest import BacktestRun
from domain.candles import timeframe_delta
from domain.classification.errors import InsufficientHistory, InvalidClassificationInput

Trend = Literal["trend", "range"]
Volatility = Literal["high", "low"]
UNKNOWN = "unknown"
"""The regime key of trades opened before the trailing windows were filled."""


@dataclass(frozen=True)
class Regime:
    """One of four regimes; its string form (the key everywhere) is "trend/high", "range/low" ..."""

    trend: Trend
    volatility: Volatility

    def __post_init__(self) -> None:
        if self.trend not in ("trend", "range") or self.volatility not in ("high", "low"):
            raise InvalidClassificationInput(f"unknown regime {self.trend!r}/{self.volatility!r}")

    def __str__(self) -> str:
        return f"{self.trend}/{self.volatility}"

    @classmethod
    def parse(cls, text: str) -> Regime:
        """The Regime whose string form is `text` ("trend/high"); InvalidClassificationInput otherwise."""
        trend, _, volatility = str(text).partition("/")
        if trend not in ("trend", "range") or volatility not in ("high", "low"):
            raise InvalidClassificationInput(f"unknown regime {text!r}; expected e.g. 'trend/high' or 'range/low'")
        return cls(trend, volatility)  # type: ignore[arg-type]  # checked just above


ALL_REGIMES: tuple[Regime, ...] = tuple(Regime(t, v) for t in ("trend", "range") for v in ("high", "low"))


@dataclass(frozen=True)
class RegimeWindows:
    """The bar counts and threshold of `label_regimes`; use the same ones for history and for today."""

    trend_window: int = 24
    vol_window: int = 24
    vol_median_window: int = 720
    er_threshold: float = 0.3

    def __post_init__(self) -> None:
        for name, value in (("trend_window", self.trend_window), ("vol_window", self.vol_window),
                            ("vol_median_window", self.vol_median_window)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise InvalidClassificationInput(f"{name} must be an integer >= 2 bars, got {value!r}")
        if self.vol_median_window < self.vol_window:
            raise InvalidClassificationInput(f"vol_median_window ({self.vol_median_window}) must be >= vol_window "
                                             f"({self.vol_window})")
        if not (isinstance(self.er_threshold, int | float) and 0 < self.er_threshold < 1):
            raise InvalidClassificationInput(f"er_threshold must lie in (0, 1), got {self.er_threshold!r}")

    @classmethod
    def for_timeframe(cls, timeframe: str, er_threshold: float = 0.3) -> RegimeWindows:
        """A day of bars (at least 14) for ER and volatility, 30 days (at least 5 of those windows) for the median."""
        per_day = max(1, round(pd.Timedelta(days=1) / timeframe_delta(timeframe)))
        short = max(14, per_day)
        return cls(short, short, max(30 * per_day, 5 * short), er_threshold)


@dataclass(frozen=True)
class RegimeStats:
    """A strategy's trades opened in one regime: how many, their summed net pnl, the share with pnl > 0."""

    trades: int
    pnl: float
    win_rate: float

    def to_dict(self) -> dict[str, Any]:
        return {"trades": self.trades, "pnl": self.pnl, "win_rate": self.win_rate}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RegimeStats:
        return cls(int(data["trades"]), float(data["pnl"]), float(data["win_rate"]))


def label_regimes(candles: pd.DataFrame, *, trend_window: int = 24, vol_window: int = 24,
                  vol_median_window: int = 720, er_threshold: float = 0.3) -> pd.Series:
    """The regime string of each bar (object dtype, None before the windows fill), on the candles' index."""
    RegimeWindows(trend_window, vol_window, vol_median_window, er_threshold)  # validates
    if "close" not in candles.columns:
        raise InvalidClassificationInput("regime labelling needs a 'close' column")
    close = candles["close"].astype(float)
    values = close.to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(invalid="ignore"):
        if not (np.isfinite(values) & (values > 0)).all():
            raise InvalidClassificationInput("closes must be finite and positive to label regimes")
    change = (close - close.shift(trend_window)).abs()
    path = close.diff().abs().rolling(trend_window, min_periods=trend_window).sum()
    efficiency = (change / path.where(path > 0)).fillna(0.0).clip(0.0, 1.0).where(path.notna())
    volatility = np.log(close).diff().rolling(vol_window, min_periods=vol_window).std(ddof=1)
    median = volatility.rolling(vol_median_window, min_periods=vol_window).median()
    trend = np.where(efficiency.to_numpy() > er_threshold, "trend", "range")
    level = np.where(volatility.to_numpy() > median.to_numpy(), "high", "low")
    known = (efficiency.notna() & volatility.notna() & median.notna()).to_numpy()
    labels = np.full(len(close), None, dtype=object)
    labels[known] = np.char.add(np.char.add(trend[known].astype(str), "/"), level[known].astype(str))
    return pd.Series(labels, index=candles.index, dtype=object, name="regime")


def current_regime(candles: pd.DataFrame, windows: RegimeWindows | None = None) -> Regime:
    """The last bar's regime; InsufficientHistory when the windows are not filled by then."""
    windows = windows or RegimeWindows()
    labels = label_regimes(candles, **_kwargs(windows))
    if len(labels) == 0 or labels.iloc[-1] is None:
        needed = max(windows.trend_window, 2 * windows.vol_window - 1) + 1
        raise InsufficientHistory(f"a regime needs at least {needed} bars, got {len(labels)}")
    return Regime.parse(str(labels.iloc[-1]))


def regime_performance(run: BacktestRun, candles: Mapping[str, pd.DataFrame],
                       windows: RegimeWindows | None = None) -> dict[str, RegimeStats]:
    """RegimeStats per regime string, each trade counted in the regime of its own symbol at its entry bar.

    `candles` must be the frames the backtest ran on (entry_bar is a row position in them). A
    multi-symbol run is aggregated over its symbols: the result is one record per strategy.
    Regimes without trades are absent; trades opened before labels exist count under UNKNOWN.
    """
    windows = windows or RegimeWindows()
    trades = run.trades
    if len(trades) == 0:
        return {}
    keys = np.empty(len(trades), dtype=object)
    symbols = trades["symbol"].astype(str).to_numpy()
    bars = trades["entry_bar"].to_numpy(dtype=np.int64)
    for symbol in sorted(set(symbols)):
        if symbol not in candles:
            raise InvalidClassificationInput(f"no candles for {symbol}, which the backtest traded")
        labels = label_regimes(candles[symbol], **_kwargs(windows)).to_numpy(dtype=object)
        mine = symbols == symbol
        if bars[mine].min() < 0 or bars[mine].max() >= len(labels):
            raise InvalidClassificationInput(f"{symbol}: entry_bar outside its {len(labels)} candles; pass the "
                                             "candles the backtest ran on")
        keys[mine] = [UNKNOWN if label is None else label for label in labels[bars[mine]]]
    pnl = trades["pnl"].to_numpy(dtype=float)
    found: dict[str, RegimeStats] = {}
    for key in sorted(set(keys.tolist())):
        chosen = pnl[keys == key]
        found[key] = RegimeStats(len(chosen), math.fsum(chosen.tolist()), float(np.mean(chosen > 0)))
    return found


def allowed_in(regime: Regime | str, performance: Mapping[str, RegimeStats], min_trades: int = 5) -> tuple[bool, str]:
    """Whether a strategy may trade in `regime` given its record there, and a sentence saying why.

    Refused only on evidence: pnl < 0 over at least `min_trades` trades. Fewer trades (none
    included) is "unproven" and allowed, since a handful of trades says little and refusing
    every untested regime would leave most strategies unable to trade at all.
    """
    key = str(regime)
    stats = performance.get(key)
    if stats is None or stats.trades < min_trades:
        count = 0 if stats is None else stats.trades
        return True, f"unproven in {key} ({count} trades < {min_trades}), allowed"
    if stats.pnl < 0:
        return False, f"lost money in {key} ({stats.pnl:.1f} over {stats.trades} trades)"
    return True, f"made {stats.pnl:.1f} over {stats.trades} trades in {key}"


def _kwargs(windows: RegimeWindows) -> dict[str, Any]:
    return {"trend_window": windows.trend_window, "vol_window": windows.vol_window,
            "vol_median_window": windows.vol_median_window, "er_threshold": windows.er_threshold}
