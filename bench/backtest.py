"""Backtest speed: 20 symbols x 180 days x 15m, every ratio measured in this one run.

P1  the project's backtest (signal frames in; trades, equity, metrics out; the engine as the
    container wires it, on min(4, CPUs) threads, and on one) over raw
    vectorbt.Portfolio.from_signals on the identical arrays it simulates      target <= 1.15
P2  the vectorized path over the per-bar generate_signal loop, same strategy   target >= 500x
P3  the first backtest in a new process, numba cache warm                      target <= 5 s

Run: `.venv/bin/python bench/backtest.py [--repeats 30] [--loop-bars 150] [--full-loop]`.
Data: real candles from ../shared/data/ohlcv. There are fewer than 20 real 15m series, so
180-day segments of the long ones are reused (BTC/ETH/SOL perps: 4 each; XRP/BNB spot: 2
each) and 5m series are resampled to 15m (DOGE perp: 2 segments; ADA, LTC spot: 1 each); each
segment is relabelled onto one common 180-day index so the 20 columns form one portfolio.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from adapters.inprocess.strategy_loader import InProcessStrategyLoader  # noqa: E402
from adapters.parquet.loader import load_candles  # noqa: E402
from domain.backtest import Costs  # noqa: E402
from domain.signal_frame import signals_bar_by_bar  # noqa: E402
from domain.strategy import LEGACY_WINDOW, StrategyCore  # noqa: E402

OHLCV = ROOT.parent / "shared" / "data" / "ohlcv"
STRATEGY = ROOT / "examples" / "strategies" / "mom_ema_cross.py"
BARS = 180 * 96
SERIES: list[tuple[str, str, int]] = [  # file, resample from 5m?, segments
    ("BINANCEUSDM_BTCUSDT_15m", "", 4), ("BINANCEUSDM_ETHUSDT_15m", "", 4), ("BINANCEUSDM_SOLUSDT_15m", "", 4),
    ("BINANCE_XRPUSDT_15m", "", 2), ("BINANCE_BNBUSDT_15m", "", 2),
    ("BINANCEUSDM_DOGEUSDT_5m", "15min", 2), ("BINANCE_ADAUSDT_5m", "15min", 1), ("BINANCE_LTCUSDT_5m", "15min", 1),
]
COSTS = Costs(fee_rate=0.00045, slippage=0.0005, initial_capital=10_000.0)
THREADS = min(4, os.cpu_count() or 1)


def dataset() -> dict[str, pd.DataFrame]:
    """20 real 15m series of 180 days, on one common index (see the module docstring)."""
    index = pd.date_range("2025-01-01", periods=BARS, freq="15min", tz="UTC", name="timestamp")
    frames = {}
    for name, resample, segments in SERIES:
        frame = load_candles(OHLCV / f"{name}.parquet")
        if resample:
            frame = frame.resample(resample, label="left", closed="left").agg(
                {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}).dropna()
        for k in range(segments):
            part = frame.iloc[len(frame) - (k + 1) * BARS: len(frame) - k * BARS]
            frames[f"{name.split('_')[1]}#{k + 1}"] = part.set_axis(index)
    return frames


def load_strategy() -> StrategyCore:
    return InProcessStrategyLoader().load(STRATEGY.read_text(), STRATEGY.name)()


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds for one call, with the garbage collector held off as timeit does (collected before)."""
    gc.collect()
    gc.disable()
    try:
        started = time.perf_counter()
        result = action()
        return time.perf_counter() - started, result
    finally:
        gc.enable()


def median_time(action: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        seconds, result = timed(action)
        times.append(seconds)
    return statistics.median(times), result


def p1(engine: Any, candles: dict[str, pd.DataFrame], signals: dict[str, pd.DataFrame],
       repeats: int) -> dict[str, float]:
    import vectorbt as vbt

    from adapters.vectorbt.engine import VectorbtBacktestEngine, _columns
    from adapters.vectorbt.kernel import simulate
    from adapters.vectorbt.layout import Layout, build_layout

    symbols = list(candles)
    built, _ = build_layout([_columns(candles[s], signals[s]) for s in symbols], COSTS.fee_rate)
    lay = Layout(*(array.copy() for array in built))  # the engine reuses its buffers; these stay put
    init_cash = np.full(len(symbols), COSTS.initial_capital / len(symbols))

    def raw() -> Any:
        return vbt.Portfolio.from_signals(
            close=lay.open.T, entries=lay.long_entries.T, exits=lay.long_exits.T,
            short_entries=lay.short_entries.T, short_exits=lay.short_exits.T, price=lay.price.T, open=lay.open.T,
            high=lay.high.T, low=lay.low.T, size=lay.size.T, size_type="percent", fees=COSTS.fee_rate,
            slippage=COSTS.slippage, sl_stop=lay.sl_stop.T, tp_stop=lay.tp_stop.T, stop_entry_price="fillprice",
            stop_exit_price="stopmarket", upon_opposite_entry="ignore", init_cash=init_cash, freq="15min")

    def raw_with_outputs() -> Any:
        pf = raw()
        return pf.trades.records, pf.value()

    raw()  # vectorbt compiles its own (uncached) copy once per process
    raw_with_outputs()
    threaded = VectorbtBacktestEngine(threads=THREADS)
    runs: dict[str, Callable[[], Any]] = {
        "ours": lambda: engine.run(candles, signals, timeframe="15m", costs=COSTS),
        "ours_threads": lambda: threaded.run(candles, signals, timeframe="15m", costs=COSTS),
        "raw": raw,
        "kernel": lambda: simulate(lay, init_cash, COSTS.fee_rate, COSTS.slippage),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(3):  # blocks of runs per contender, alternated: each runs back to back like in a sweep
        for name, action in runs.items():
            times[name] += [timed(action)[0] for _ in range(max(1, repeats // 3))]
    # The best of many runs: what the code costs when the machine lets it run (timeit's advice on
    # shared machines, where the median mostly measures neighbours); medians come along as context.
    found: dict[str, float] = {name: min(values) for name, values in times.items()}
    found.update({f"{name}_median": statistics.median(values) for name, values in times.items()})
    found["raw_outputs"], _ = median_time(raw_with_outputs, max(3, repeats // 3))
    if not np.array_equal(raw().order_records, runs["kernel"]()):
        raise SystemExit("raw from_signals and the engine's kernel disagree on the same arrays")
    found.update(rows=lay.price.shape[1], orders=len(runs["kernel"]()))
    return found


def p2(engine: Any, strategy: StrategyCore, candles: dict[str, pd.DataFrame], loop_bars: int,
       full: bool) -> dict[str, float]:
    def vectorized() -> Any:
        signals = {s: strategy.checked_signals(f) for s, f in candles.items()}
        return engine.run(candles, signals, timeframe="15m", costs=COSTS)

    vector_s, _ = median_time(vectorized, 3)
    total_bars = sum(len(f) for f in candles.values())
    if full:
        started = time.perf_counter()
        signals = {s: signals_bar_by_bar(strategy, f, LEGACY_WINDOW) for s, f in candles.items()}
        engine.run(candles, signals, timeframe="15m", costs=COSTS)
        return {"vector": vector_s, "loop": time.perf_counter() - started, "measured_bars": total_bars}
    started = time.perf_counter()
    for frame in candles.values():
        for t in range(len(frame) - loop_bars, len(frame)):
            strategy.generate_signal(frame.iloc[t - LEGACY_WINDOW + 1: t + 1])
    per_bar = (time.perf_counter() - started) / (loop_bars * len(candles))
    signals = {s: strategy.checked_signals(f) for s, f in candles.items()}
    engine_s, _ = median_time(lambda: engine.run(candles, signals, timeframe="15m", costs=COSTS), 3)
    return {"vector": vector_s, "loop": per_bar * total_bars + engine_s, "measured_bars": loop_bars * len(candles)}


P3_SCRIPT = """
import json, sys, time
started = time.perf_counter()
sys.path.insert(0, {root!r})
sys.path.insert(0, {bench!r})
import backtest as bench
from adapters.vectorbt.engine import VectorbtBacktestEngine
imported = time.perf_counter()
candles = bench.dataset()
strategy = bench.load_strategy()
loaded = time.perf_counter()
signals = {{s: strategy.checked_signals(f) for s, f in candles.items()}}
VectorbtBacktestEngine().run(candles, signals, timeframe="15m", costs=bench.COSTS)
done = time.perf_counter()
print(json.dumps({{"imports": imported - started, "data": loaded - imported, "first": done - loaded,
                  "process": done - started}}))
"""


def p3() -> dict[str, float]:
    script = P3_SCRIPT.format(root=str(ROOT), bench=str(ROOT / "bench"))
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, cwd=ROOT)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"P3 subprocess failed:\n{result.stderr}")
    report: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    report["wall"] = wall
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30, help="timed runs per measurement")
    parser.add_argument("--loop-bars", type=int, default=150, help="bars per symbol timed on the per-bar loop")
    parser.add_argument("--full-loop", action="store_true", help="time the per-bar loop on every bar (~10 min)")
    args = parser.parse_args()
    if not OHLCV.is_dir():
        raise SystemExit(f"real candles not found at {OHLCV}")

    from rich.console import Console
    from rich.table import Table

    from adapters.vectorbt.engine import VectorbtBacktestEngine

    candles = dataset()
    strategy = load_strategy()
    engine = VectorbtBacktestEngine()
    signals = {s: strategy.checked_signals(f) for s, f in candles.items()}
    started = time.perf_counter()
    run = engine.run(candles, signals, timeframe="15m", costs=COSTS)  # compiles, or loads the numba cache
    warmup = time.perf_counter() - started
    one = p1(engine, candles, signals, args.repeats)
    two = p2(engine, strategy, candles, args.loop_bars, args.full_loop)
    three = p3()

    console = Console()
    console.print(f"{len(candles)} columns x {BARS} bars (15m, 180 days): {', '.join(candles)}; "
                  f"{int(run.metrics['total_trades'])} trades by {type(strategy).__name__}; this process's first "
                  f"run {warmup:.2f} s")
    table = Table(title="bench/backtest.py (every number measured in this run)")
    for column in ("", "measured", "baseline", "ratio", "target"):
        table.add_column(column)
    ratio1 = one["ours_threads"] / one["raw"]
    table.add_row(f"P1 backtest ({THREADS} threads, as wired) / raw from_signals",
                  f"{one['ours_threads'] * 1e3:.1f} ms", f"{one['raw'] * 1e3:.1f} ms", f"{ratio1:.2f}",
                  "<= 1.15 " + ("ok" if ratio1 <= 1.15 else "MISSED"))
    single = one["ours"] / one["raw"]
    table.add_row("   one thread", f"{one['ours'] * 1e3:.1f} ms", "", f"{single:.2f}",
                  "<= 1.15 " + ("ok" if single <= 1.15 else "MISSED"))
    medians = (one["ours_threads_median"], one["ours_median"], one["raw_median"])
    table.add_row("   medians instead of best runs", f"{medians[0] * 1e3:.1f} / {medians[1] * 1e3:.1f} ms",
                  f"{medians[2] * 1e3:.1f} ms", f"{medians[0] / medians[2]:.2f} / {medians[1] / medians[2]:.2f}",
                  "(context)")
    table.add_row("   raw from_signals + trades + value()", "", f"{one['raw_outputs'] * 1e3:.1f} ms",
                  f"{one['ours'] / one['raw_outputs']:.2f}", "(context)")
    table.add_row("   vectorbt's simulation alone", f"{one['kernel'] * 1e3:.1f} ms", "", "",
                  f"{int(one['rows'])} rows x {len(candles)}, {int(one['orders'])} orders")
    ratio2 = two["loop"] / two["vector"]
    label = "all bars" if args.full_loop else f"{int(two['measured_bars'])} bars timed, extrapolated"
    table.add_row("P2 per-bar loop / vectorized", f"{two['vector'] * 1e3:.0f} ms", f"{two['loop']:.1f} s ({label})",
                  f"{ratio2:.0f}x", ">= 500x " + ("ok" if ratio2 >= 500 else "MISSED"))
    table.add_row("P3 first backtest, new process", f"{three['first']:.2f} s",
                  f"imports {three['imports']:.2f} s, data {three['data']:.2f} s, process {three['process']:.2f} s",
                  "", "<= 5 s " + ("ok" if three["first"] <= 5 else "MISSED"))
    console.print(table)


if __name__ == "__main__":
    main()
