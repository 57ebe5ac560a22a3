"""vectorbt's signal simulator, compiled once per machine instead of once per process.

`Portfolio.from_signals` runs `simulate_from_signals_nb`, which vectorbt compiles without
numba's on-disk cache: every new process (a CLI run, a pipeline worker) would pay ~10 s of
JIT before its first backtest. Here the same Python function is compiled with `cache=True`.

numba keys cached code by argument types, and a parameter left at an array default is typed
by the default's id(), which changes per process, so a cache entry would never be found again.
`simulate` therefore passes every parameter explicitly, always with the same types. It also
releases the GIL (nogil), so independent groups of symbols can be simulated on several threads.
"""

from __future__ import annotations

import inspect
import types

import numpy as np
from numba import njit
from vectorbt.portfolio import nb as vbt_nb
from vectorbt.portfolio.enums import (
    AccumulationMode,
    ConflictMode,
    Direction,
    DirectionConflictMode,
    OppositeEntryMode,
    SizeType,
    StopEntryPrice,
    StopExitMode,
    StopExitPrice,
    StopUpdateMode,
)

from adapters.vectorbt.layout import Layout

KERNEL_TAG = "sixbtc_nogil_1"
"""Part of the cache entry's name. numba keys the cache by the source file, which is vectorbt's and
does not change when the flags below do: change this tag with them, or a stale build is loaded."""


def _tagged(func: types.FunctionType, tag: str) -> types.FunctionType:
    """The same function under another qualified name, hence its own cache files."""
    clone = types.FunctionType(func.__code__, func.__globals__, func.__name__, func.__defaults__, func.__closure__)
    clone.__kwdefaults__ = func.__kwdefaults__
    clone.__module__ = func.__module__
    clone.__qualname__ = f"{func.__qualname__}_{tag}"
    return clone


simulate_from_signals_cached = njit(cache=True, nogil=True)(
    _tagged(vbt_nb.simulate_from_signals_nb.py_func, KERNEL_TAG)
)


def _int(value: int) -> np.ndarray:
    return np.asarray(value, dtype=np.int64)


def _float(value: float) -> np.ndarray:
    return np.asarray(value, dtype=np.float64)


def _bool(value: bool) -> np.ndarray:
    return np.asarray(value, dtype=np.bool_)


_FIXED: dict[str, object] = dict(
    call_seq=np.zeros((1, 1), dtype=np.int64),  # read only when columns share cash
    entries=_bool(False),
    exits=_bool(False),
    direction=_int(Direction.Both),
    size_type=_int(SizeType.Percent),
    fixed_fees=_float(0.0),
    min_size=_float(0.0),
    max_size=_float(np.inf),
    size_granularity=_float(np.nan),
    reject_prob=_float(0.0),
    lock_cash=_bool(False),
    allow_partial=_bool(True),
    raise_reject=_bool(False),
    log=_bool(False),
    accumulate=_int(AccumulationMode.Disabled),
    upon_long_conflict=_int(ConflictMode.Ignore),
    upon_short_conflict=_int(ConflictMode.Ignore),
    upon_dir_conflict=_int(DirectionConflictMode.Ignore),
    upon_opposite_entry=_int(OppositeEntryMode.Ignore),
    val_price=_float(np.inf),
    close=_float(np.nan),  # read only for fallbacks our rows never need
    sl_trail=_bool(False),
    stop_entry_price=_int(StopEntryPrice.FillPrice),
    stop_exit_price=_int(StopExitPrice.StopMarket),
    upon_stop_exit=_int(StopExitMode.Close),
    upon_stop_update=_int(StopUpdateMode.Override),
    use_stops=True,
    auto_call_seq=False,
    ffill_val_price=True,
    update_value=False,
    max_logs=0,
    init_temp_records=False,
    flex_2d=True,
)
"""The arguments that never change, made once: a backtest may simulate in several calls, and building
some 30 small arrays costs as much as a short simulation."""
_ORDER = tuple(inspect.signature(vbt_nb.simulate_from_signals_nb.py_func).parameters)
_TEMPLATE = [_FIXED.get(name) for name in _ORDER]  # vectorbt's order: numba sorts keywords out in Python
_AT = {name: _ORDER.index(name) for name in _ORDER if name not in _FIXED}


def simulate(layout: Layout, init_cash: np.ndarray, fee_rate: float, slippage: float,
             max_orders: int | None = None) -> np.ndarray:
    """vectorbt order records (id, col, idx=row, size, price incl. slippage, fees, side) for `layout`.

    vectorbt takes (rows, columns) arrays; the transposed views are F-ordered, which numba
    compiles for once and which keeps each column's walk through memory contiguous.
    `max_orders`: room for the records, 2 x entry rows + 1 when the caller has counted them.
    """
    columns, rows = layout.price.shape
    if max_orders is None:  # an entry and its exit per entry row, at most
        max_orders = 2 * int(layout.long_entries.sum() + layout.short_entries.sum()) + 1
    given = dict(
        target_shape=(rows, columns),
        group_lens=np.ones(columns, dtype=np.int64),
        init_cash=np.ascontiguousarray(init_cash, dtype=np.float64),
        long_entries=layout.long_entries.T,
        long_exits=layout.long_exits.T,
        short_entries=layout.short_entries.T,
        short_exits=layout.short_exits.T,
        size=layout.size.T,
        price=layout.price.T,
        fees=_float(fee_rate),
        slippage=_float(slippage),
        open=layout.open.T,
        high=layout.high.T,
        low=layout.low.T,
        sl_stop=layout.sl_stop.T,
        tp_stop=layout.tp_stop.T,
        max_orders=max_orders,
    )
    args = _TEMPLATE.copy()
    for name, value in given.items():
        args[_AT[name]] = value
    orders, _logs = simulate_from_signals_cached(*args)
    return np.asarray(orders)
