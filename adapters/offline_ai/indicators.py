"""Indicator helpers as source text: the functions a composed strategy module carries with it.

A strategy module may import only pandas, numpy, math and `domain.strategy` (the sandbox's
screen), so it cannot share helpers with us: each composed module gets copies of the ones its
blocks use. Every helper uses trailing windows or recursive averages only (no negative shifts,
no centred windows, no whole-series statistics), which is what makes the composed code pass the
static and dynamic lookahead checks.
"""

from __future__ import annotations

HELPERS: dict[str, str] = {
    "ema": '''
def ema(series: pd.Series, span: int) -> pd.Series:
    """Exponential average computed recursively (adjust=False): bar t depends on bars <= t only."""
    return series.ewm(span=span, adjust=False).mean()
''',
    "sma": '''
def sma(series: pd.Series, window: int) -> pd.Series:
    """Simple average of the trailing `window` bars (NaN until the window is full)."""
    return series.rolling(window).mean()
''',
    "wilder": '''
def wilder(series: pd.Series, length: int) -> pd.Series:
    """Wilder's smoothing (an EMA with alpha 1/length), NaN for the first `length` bars."""
    return series.ewm(alpha=1.0 / length, adjust=False, min_periods=length).mean()
''',
    "rsi": '''
def rsi(close: pd.Series, period: int) -> pd.Series:
    """Relative strength index (0..100) with Wilder smoothing; NaN where nothing moved."""
    delta = close.diff()
    gain = wilder(delta.clip(lower=0.0), period)
    loss = wilder((-delta).clip(lower=0.0), period)
    return 100.0 * gain / (gain + loss).replace(0.0, np.nan)
''',
    "true_range": '''
def true_range(high: pd.Series, low: pd.Series, close: pd.Series) -> pd.Series:
    """The bar's range extended to the previous close (gaps count as range)."""
    prev = close.shift(1)
    return pd.concat([high - low, (high - prev).abs(), (low - prev).abs()], axis=1).max(axis=1)
''',
    "atr": '''
def atr(high: pd.Series, low: pd.Series, close: pd.Series, period: int) -> pd.Series:
    """Average true range over the trailing `period` bars."""
    return true_range(high, low, close).rolling(period).mean()
''',
    "adx": '''
def adx(high: pd.Series, low: pd.Series, close: pd.Series, period: int) -> pd.Series:
    """Average directional index (0..100): how strongly price trends, whatever the direction."""
    up, down = high.diff(), -low.diff()
    plus_dm = up.where((up > down) & (up > 0), 0.0)
    minus_dm = down.where((down > up) & (down > 0), 0.0)
    range_avg = wilder(true_range(high, low, close), period)
    plus_di = 100.0 * wilder(plus_dm, period) / range_avg
    minus_di = 100.0 * wilder(minus_dm, period) / range_avg
    dx = 100.0 * (plus_di - minus_di).abs() / (plus_di + minus_di).replace(0.0, np.nan)
    return wilder(dx, period)
''',
    "zscore": '''
def zscore(series: pd.Series, window: int) -> pd.Series:
    """Distance from the trailing mean in trailing standard deviations (NaN on a flat window)."""
    spread = series.rolling(window).std().replace(0.0, np.nan)
    return (series - series.rolling(window).mean()) / spread
''',
    "bollinger": '''
def bollinger(close: pd.Series, window: int, width: float) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Lower band, middle (trailing mean) and upper band, `width` trailing deviations apart."""
    middle = close.rolling(window).mean()
    spread = close.rolling(window).std(ddof=0)
    return middle - width * spread, middle, middle + width * spread
''',
    "donchian": '''
def donchian(high: pd.Series, low: pd.Series, window: int) -> tuple[pd.Series, pd.Series]:
    """Highest high and lowest low of the `window` bars before this one (shifted: no self-reference)."""
    return high.rolling(window).max().shift(1), low.rolling(window).min().shift(1)
''',
    "trailing_rank": '''
def trailing_rank(series: pd.Series, window: int) -> pd.Series:
    """Percentile (0..1) of each value among the trailing `window` values, itself included."""
    return series.rolling(window).rank(pct=True)
''',
    "volatility_ratio": '''
def volatility_ratio(close: pd.Series, fast: int, slow: int) -> pd.Series:
    """Recent over longer-run standard deviation of returns: above 1 when volatility expands."""
    returns = close.pct_change()
    return returns.rolling(fast).std() / returns.rolling(slow).std().replace(0.0, np.nan)
''',
    "crossed": '''
def crossed(state: pd.Series) -> pd.Series:
    """True on the bar where a boolean state turns on (it was off on the bar before)."""
    return state & ~state.shift(1, fill_value=False)
''',
    "changed": '''
def changed(state: pd.Series) -> pd.Series:
    """True on the bar where a boolean state flips either way."""
    return state != state.shift(1, fill_value=False)
''',
    "bars_since": '''
def bars_since(flag: pd.Series) -> pd.Series:
    """Bars since `flag` was last True, computed vectorized (NaN before its first True)."""
    position = pd.Series(np.arange(len(flag), dtype=float), index=flag.index)
    return position - position.where(flag).ffill()
''',
    "time_stop": '''
def time_stop(long_entry: np.ndarray, short_entry: np.ndarray, hold: int) -> np.ndarray:
    """Exit flags `hold` bars after each position the entries open, by a loop over past bars only.

    It follows the engine's rules (a repeated entry is ignored, an opposite one reverses) but not
    its stops, so after a stop-out the exit may come for a position that is already closed: harmless.
    """
    exits = np.zeros(len(long_entry), dtype=bool)
    side, opened = 0, 0
    for i in range(len(long_entry)):
        if long_entry[i] and side != 1:
            side, opened = 1, i
        elif short_entry[i] and side != -1:
            side, opened = -1, i
        elif side != 0 and i - opened >= hold:
            exits[i] = True
            side = 0
    return exits
''',
}
"""Helper name -> source of one module-level function (leading newline included)."""

NEEDS: dict[str, tuple[str, ...]] = {
    "rsi": ("wilder",),
    "atr": ("true_range",),
    "adx": ("true_range", "wilder"),
}
"""Helpers that call other helpers."""


def helper_sources(names: list[str]) -> list[str]:
    """The sources of `names` and of the helpers they call, each once, in a fixed order."""
    wanted: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name not in wanted:
            wanted.add(name)
            pending.extend(NEEDS.get(name, ()))
    return [HELPERS[name].strip("\n") for name in HELPERS if name in wanted]
