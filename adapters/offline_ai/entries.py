"""Entry blocks per strategy type: the part of the grammar that decides what a strategy trades.

Each block computes its indicators from trailing windows, states a raw long and short
condition, and says when the move is over (`neutral`, used by the cross-back exit). Event-like
conditions (`crossed(...)`) fire once per move; state-like ones (RSI below a band) fire on every
bar of it, which the engine reads as one entry (a repeated entry in the held direction is ignored).
"""

from __future__ import annotations

from adapters.offline_ai.blocks import Block, Param


def _ma_cross(kind: str) -> Block:
    return Block(
        "entry", f"{kind}_cross", f"a fast {kind.upper()} crossing the slow one (momentum turning)",
        params=(Param("fast", (5, 8, 12, 20)), Param("slow", (34, 48, 72, 100))),
        helpers=(kind, "crossed", "changed"),
        lines=(f'fast_ma = {kind}(close, p["fast"])', f'slow_ma = {kind}(close, p["slow"])',
               "fast_above = fast_ma > slow_ma"),
        long="crossed(fast_above)", short="crossed(~fast_above & slow_ma.notna())",
        neutral="changed(close > slow_ma)", settle=("slow",) if kind == "ema" else (),
    )


MOMENTUM: tuple[Block, ...] = (
    _ma_cross("ema"),
    _ma_cross("sma"),
    Block(
        "entry", "roc_threshold", "the rate of change over roc_window bars beyond roc_z of its usual spread",
        params=(Param("roc_window", (6, 12, 24)), Param("roc_vol_window", (48, 96), tunable=False),
                Param("roc_z", (0.75, 1.0, 1.5, 2.0))),
        helpers=("crossed", "changed"),
        lines=('momentum = close.pct_change(p["roc_window"])',
               'usual = close.pct_change().rolling(p["roc_vol_window"]).std() * np.sqrt(p["roc_window"])',
               "roc_score = momentum / usual.replace(0.0, np.nan)"),
        long='crossed(roc_score > p["roc_z"])', short='crossed(roc_score < -p["roc_z"])',
        neutral="changed(momentum > 0)",
    ),
    Block(
        "entry", "macd", "the MACD line crossing its signal line",
        params=(Param("macd_fast", (8, 12)), Param("macd_slow", (21, 26, 34)), Param("macd_signal", (5, 9))),
        helpers=("ema", "crossed", "changed"),
        lines=('macd_line = ema(close, p["macd_fast"]) - ema(close, p["macd_slow"])',
               'macd_signal_line = ema(macd_line, p["macd_signal"])',
               "macd_above = macd_line > macd_signal_line"),
        long="crossed(macd_above)", short="crossed(~macd_above)",
        neutral="changed(macd_line > 0)", settle=("macd_slow",),
    ),
)

REVERSION: tuple[Block, ...] = (
    Block(
        "entry", "rsi_bands", "RSI beyond 50 +- rsi_band: buy oversold, sell overbought",
        params=(Param("rsi_period", (7, 14, 21)), Param("rsi_band", (15.0, 20.0, 25.0))),
        helpers=("rsi", "changed"),
        lines=('rsi_value = rsi(close, p["rsi_period"])',),
        long='(rsi_value < 50 - p["rsi_band"])', short='(rsi_value > 50 + p["rsi_band"])',
        neutral="changed(rsi_value > 50)", settle=("rsi_period",),
    ),
    Block(
        "entry", "bollinger_reversion", "a close outside the Bollinger bands, betting on a return inside",
        params=(Param("bb_window", (20, 30, 50)), Param("bb_width", (2.0, 2.5, 3.0))),
        helpers=("bollinger", "changed"),
        lines=('bb_lower, bb_mid, bb_upper = bollinger(close, p["bb_window"], p["bb_width"])',),
        long="(close < bb_lower)", short="(close > bb_upper)", neutral="changed(close > bb_mid)",
    ),
    Block(
        "entry", "zscore_reversion", "the close z_entry trailing deviations from its trailing mean",
        params=(Param("z_window", (24, 48, 96)), Param("z_entry", (1.5, 2.0, 2.5))),
        helpers=("zscore", "changed"),
        lines=('z = zscore(close, p["z_window"])',),
        long='(z < -p["z_entry"])', short='(z > p["z_entry"])', neutral="changed(z > 0)",
    ),
)

TREND: tuple[Block, ...] = (
    Block(
        "entry", "adx_pullback", "in a strong trend (ADX, fast EMA vs slow SMA), the close recovering its fast EMA",
        params=(Param("adx_period", (14, 20), tunable=False), Param("trend_adx", (20.0, 25.0, 30.0)),
                Param("trend_fast", (10, 20)), Param("trend_slow", (50, 100, 200))),
        helpers=("adx", "ema", "sma", "crossed", "changed"),
        lines=('trend_strength = adx(high, low, close, p["adx_period"])',
               'fast_ma = ema(close, p["trend_fast"])', 'slow_ma = sma(close, p["trend_slow"])',
               'uptrend = (fast_ma > slow_ma) & (trend_strength > p["trend_adx"])',
               'downtrend = (fast_ma < slow_ma) & (trend_strength > p["trend_adx"])'),
        long="uptrend & crossed(close > fast_ma)", short="downtrend & crossed(close < fast_ma)",
        neutral="changed(fast_ma > slow_ma)", settle=("adx_period", "trend_fast"),
    ),
    Block(
        "entry", "slope_pullback", "a rising (falling) slow SMA and RSI recovering from a pullback",
        params=(Param("trend_slow", (50, 100, 200)), Param("slope_window", (5, 10, 20)),
                Param("rsi_period", (7, 14), tunable=False), Param("pullback", (35.0, 40.0, 45.0))),
        helpers=("sma", "rsi", "crossed", "changed"),
        lines=('slow_ma = sma(close, p["trend_slow"])', 'slope = slow_ma.diff(p["slope_window"])',
               'rsi_value = rsi(close, p["rsi_period"])'),
        long='(slope > 0) & (close > slow_ma) & crossed(rsi_value > p["pullback"])',
        short='(slope < 0) & (close < slow_ma) & crossed(rsi_value < 100 - p["pullback"])',
        neutral="changed(slope > 0)", settle=("rsi_period",),
    ),
    Block(
        "entry", "ma_trend", "the close crossing its long SMA while that average slopes the same way",
        params=(Param("trend_slow", (100, 150, 200)), Param("slope_window", (5, 10, 20))),
        helpers=("sma", "crossed", "changed"),
        lines=('slow_ma = sma(close, p["trend_slow"])', 'slope = slow_ma.diff(p["slope_window"])'),
        long="crossed(close > slow_ma) & (slope > 0)", short="crossed(close < slow_ma) & (slope < 0)",
        neutral="changed(close > slow_ma)",
    ),
)

BREAKOUT: tuple[Block, ...] = (
    Block(
        "entry", "donchian_breakout", "a close beyond the Donchian channel of the previous bars",
        params=(Param("channel", (20, 48, 96)),),
        helpers=("donchian", "changed"),
        lines=('channel_high, channel_low = donchian(high, low, p["channel"])',
               "channel_mid = (channel_high + channel_low) / 2"),
        long="(close > channel_high)", short="(close < channel_low)", neutral="changed(close > channel_mid)",
    ),
    Block(
        "entry", "range_expansion", "a bar expansion times wider than usual closing beyond the previous bar",
        params=(Param("range_window", (14, 20, 30)), Param("expansion", (1.5, 2.0, 2.5))),
        helpers=("true_range", "sma", "changed"),
        lines=("bar_range = true_range(high, low, close)",
               'usual_range = bar_range.rolling(p["range_window"]).mean().shift(1)',
               'wide_bar = bar_range > p["expansion"] * usual_range',
               'range_mid = sma(close, p["range_window"])'),
        long="wide_bar & (close > high.shift(1))", short="wide_bar & (close < low.shift(1))",
        neutral="changed(close > range_mid)",
    ),
)

VOLATILITY: tuple[Block, ...] = (
    Block(
        "entry", "squeeze_breakout", "a close outside the Bollinger bands soon after their width was unusually low",
        params=(Param("bb_window", (20, 30)), Param("squeeze_window", (100, 200, 300)),
                Param("squeeze_rank", (0.1, 0.2, 0.3)), Param("squeeze_memory", (3, 6, 12))),
        helpers=("bollinger", "trailing_rank", "changed"),
        lines=('bb_lower, bb_mid, bb_upper = bollinger(close, p["bb_window"], 2.0)',
               "bandwidth = (bb_upper - bb_lower) / bb_mid",
               'squeezed = trailing_rank(bandwidth, p["squeeze_window"]) <= p["squeeze_rank"]',
               'recent_squeeze = squeezed.astype(float).rolling(p["squeeze_memory"]).max().shift(1) > 0'),
        long="recent_squeeze & (close > bb_upper)", short="recent_squeeze & (close < bb_lower)",
        neutral="changed(close > bb_mid)",
    ),
    Block(
        "entry", "vol_expansion", "short-run volatility jumping above the long-run one, traded in the move's direction",
        params=(Param("vol_fast", (6, 12)), Param("vol_slow", (96, 192, 288)), Param("vol_ratio_min", (1.3, 1.6, 2.0))),
        helpers=("volatility_ratio", "crossed"),
        lines=('vol_ratio = volatility_ratio(close, p["vol_fast"], p["vol_slow"])',
               'expanding = crossed(vol_ratio > p["vol_ratio_min"])',
               'drift = close - close.shift(p["vol_fast"])'),
        long="expanding & (drift > 0)", short="expanding & (drift < 0)", neutral="crossed(vol_ratio < 1.0)",
    ),
    Block(
        "entry", "atr_breakout", "a Donchian breakout while ATR sits in the top of its trailing range",
        params=(Param("vol_atr", (14, 20), tunable=False), Param("atr_rank_window", (100, 200)),
                Param("atr_rank_min", (0.6, 0.7, 0.8)), Param("breakout_window", (10, 20, 40))),
        helpers=("atr", "trailing_rank", "donchian", "changed"),
        lines=('atr_rank = trailing_rank(atr(high, low, close, p["vol_atr"]) / close, p["atr_rank_window"])',
               'hot = atr_rank >= p["atr_rank_min"]',
               'channel_high, channel_low = donchian(high, low, p["breakout_window"])',
               "channel_mid = (channel_high + channel_low) / 2"),
        long="hot & (close > channel_high)", short="hot & (close < channel_low)",
        neutral="changed(close > channel_mid)",
    ),
)

ENTRIES: dict[str, tuple[Block, ...]] = {
    "MOM": MOMENTUM, "REV": REVERSION, "TRN": TREND, "BRE": BREAKOUT, "VOL": VOLATILITY,
}

EXCLUDED_FILTERS: dict[str, tuple[str, ...]] = {
    "adx_pullback": ("adx",),
    "squeeze_breakout": ("volatility",),
    "atr_breakout": ("volatility",),
    "vol_expansion": ("volatility",),
}
"""Filters that would repeat what the entry already checks."""
