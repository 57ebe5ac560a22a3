"""The grammar's parts: a building block, and the filter, exit and stop blocks every type shares.

A block is a few readable statements for `signals()` plus the parameters they read (`p["..."]`)
with the values a composition may pick. The composer chains one entry, an optional filter, one
or two exits and one stop block; each statement only combines trailing indicators, so the chain
stays lookahead-free whatever is picked. Entry blocks per strategy type live in entries.py.
"""

from __future__ import annotations

from dataclasses import dataclass

Number = int | float

TIMEFRAME_SCALE: dict[str, float] = {"5m": 0.4, "15m": 0.6, "30m": 0.8, "1h": 1.0, "4h": 1.8, "1d": 3.5}
"""Rough size of a typical move per timeframe relative to 1h: percent stops widen with the bar."""

HOLD_BARS: dict[str, tuple[int, ...]] = {
    "5m": (24, 48, 96), "15m": (16, 32, 64), "30m": (12, 24, 48), "1h": (8, 16, 32), "4h": (4, 8, 16),
    "1d": (3, 5, 10),
}
"""Time-stop lengths per timeframe: roughly half a day to a few days whatever the bar."""


@dataclass(frozen=True)
class Param:
    """A parameter the block reads; `choices` are the values a composition may pick (and grid over)."""

    name: str
    choices: tuple[Number, ...]
    tunable: bool = True
    default: Number | None = None  # picked at random from `choices` when None


@dataclass(frozen=True)
class Block:
    """One building block. Which fields matter depends on `role`.

    entry: `lines` compute indicators, `long`/`short` are the raw entry conditions and `neutral`
    says the move is over (the cross-back exit). filter: `long`/`short` are what entries need.
    stops: `lines` assign `sl_pct` and `tp_pct`. exit: `exit` is the exit condition. `settle`
    names period parameters of recursive averages, which need about three periods to settle.
    """

    role: str
    name: str
    doc: str
    params: tuple[Param, ...] = ()
    helpers: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    long: str = ""
    short: str = ""
    neutral: str = ""
    exit: str = ""
    settle: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.role}:{self.name}"


def scaled(values: tuple[float, ...], timeframe: str) -> tuple[float, ...]:
    """Percent levels for `timeframe`, rounded so the generated code shows plain numbers."""
    factor = TIMEFRAME_SCALE.get(timeframe, 1.0)
    return tuple(round(v * factor, 4) for v in values)


# -- filters -------------------------------------------------------------------------------------

def filter_blocks(strategy_type: str) -> list[Block]:
    """Optional filters that fit `strategy_type` (a reversion trades calm markets, the rest active ones)."""
    # A reversion buys dips, which rarely reach far below a short average: its trend is a longer one.
    windows = (200, 300, 400) if strategy_type == "REV" else (100, 150, 200)
    trend = Block(
        "filter", "trend", "trade only with the slow trend: longs above its average, shorts below",
        params=(Param("trend_window", windows),),
        helpers=("sma",),
        lines=('trend_ma = sma(close, p["trend_window"])',),
        long="(close > trend_ma)", short="(close < trend_ma)",
    )
    if strategy_type == "REV":
        volatility = Block(
            "filter", "volatility", "skip the most volatile bars, where stretched prices keep stretching",
            params=(Param("vol_window", (100, 200, 300)), Param("vol_rank_max", (0.8, 0.9, 0.95))),
            helpers=("atr", "trailing_rank"),
            lines=('vol_rank = trailing_rank(atr(high, low, close, 14) / close, p["vol_window"])',
                   'vol_ok = vol_rank <= p["vol_rank_max"]'),
            long="vol_ok", short="vol_ok",
        )
        strength = Block(
            "filter", "adx", "skip strongly trending markets (ADX high), where reversion fails",
            params=(Param("adx_period", (14, 20), tunable=False), Param("adx_max", (30.0, 35.0, 40.0))),
            helpers=("adx",),
            lines=('strength = adx(high, low, close, p["adx_period"])', 'ranging = strength < p["adx_max"]'),
            long="ranging", short="ranging", settle=("adx_period",),
        )
    else:
        volatility = Block(
            "filter", "volatility", "skip the quietest bars, where moves rarely follow through",
            params=(Param("vol_window", (100, 200, 300)), Param("vol_rank_min", (0.1, 0.2, 0.3))),
            helpers=("atr", "trailing_rank"),
            lines=('vol_rank = trailing_rank(atr(high, low, close, 14) / close, p["vol_window"])',
                   'vol_ok = vol_rank >= p["vol_rank_min"]'),
            long="vol_ok", short="vol_ok",
        )
        strength = Block(
            "filter", "adx", "trade only when ADX says a trend is under way",
            params=(Param("adx_period", (14, 20), tunable=False), Param("adx_min", (15.0, 20.0, 25.0))),
            helpers=("adx",),
            lines=('strength = adx(high, low, close, p["adx_period"])', 'trending = strength > p["adx_min"]'),
            long="trending", short="trending", settle=("adx_period",),
        )
    return [trend, volatility, strength]


# -- exits ---------------------------------------------------------------------------------------

def exit_blocks(entry: Block, sides: str, timeframe: str) -> dict[str, Block]:
    """The exits that make sense for `entry` traded on `sides` ("both", "long" or "short").

    An opposite entry already reverses a two-sided strategy, so the opposite-signal exit only
    exists for one-sided ones, where it closes the trade on the raw signal the other way.
    """
    hold = Param("hold_bars", HOLD_BARS.get(timeframe, HOLD_BARS["1h"]))
    exits = {
        "cross_back": Block("exit", "cross_back", "leave when the indicator crosses back (the move is over)",
                            exit=entry.neutral),
        "time_stop": Block(
            "exit", "time_stop", "leave hold_bars after the last entry signal (bars counted vectorized)",
            params=(hold,), helpers=("bars_since",),
            lines=('held = bars_since(long_entry | short_entry)',), exit='(held >= p["hold_bars"])',
        ),
        "time_stop_loop": Block(
            "exit", "time_stop_loop", "leave hold_bars after the position opened (a loop over past bars)",
            params=(hold,), helpers=("time_stop",),
            lines=('timed_out = pd.Series(time_stop(long_entry.to_numpy(), short_entry.to_numpy(), '
                   'p["hold_bars"]), index=df.index)',),
            exit="timed_out",
        ),
    }
    if sides == "long":
        exits["opposite"] = Block("exit", "opposite", "leave on the raw short signal",
                                  exit=f"({entry.short})")
    elif sides == "short":
        exits["opposite"] = Block("exit", "opposite", "leave on the raw long signal",
                                  exit=f"({entry.long})")
    return exits


# -- stops ---------------------------------------------------------------------------------------

def stop_blocks(strategy_type: str, timeframe: str) -> dict[str, Block]:
    """Stop-loss and take-profit as fractions of the entry price: ATR multiples or fixed percents.

    Levels are clipped to [0.1 %, 50 %] so a flat bar (ATR 0) never makes an invalid stop. A
    trend strategy may leave its target open (NaN) and let the trend run behind its stop.
    """
    open_target = strategy_type == "TRN"
    atr_target = 'tp_pct = np.nan' if open_target else \
        'tp_pct = (p["tp_atr"] * stop_atr / close).clip(lower=0.001, upper=0.5)'
    atr_params: tuple[Param, ...] = (Param("atr_period", (14, 20), tunable=False),
                                     Param("sl_atr", (1.5, 2.0, 2.5, 3.0)))
    if not open_target:
        atr_params += (Param("tp_atr", (2.0, 3.0, 4.0, 6.0)),)
    pct_target = 'tp_pct = np.nan' if open_target else 'tp_pct = p["tp_pct"]'
    pct_params: tuple[Param, ...] = (Param("sl_pct", scaled((0.01, 0.015, 0.02, 0.03), timeframe)),)
    if not open_target:
        pct_params += (Param("tp_pct", scaled((0.02, 0.03, 0.045, 0.06), timeframe)),)
    target_doc = "no target" if open_target else "target"
    return {
        "atr": Block(
            "stops", "atr", "stop a multiple of ATR away, no target (the trend runs)" if open_target
            else "stop and target multiples of ATR away, as fractions of the close",
            params=atr_params, helpers=("atr",),
            lines=('stop_atr = atr(high, low, close, p["atr_period"])',
                   'sl_pct = (p["sl_atr"] * stop_atr / close).clip(lower=0.001, upper=0.5)', atr_target),
        ),
        "percent": Block(
            "stops", "percent", f"fixed percent stop and {target_doc}",
            params=pct_params, lines=('sl_pct = p["sl_pct"]', pct_target),
        ),
    }
