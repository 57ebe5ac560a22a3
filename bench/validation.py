"""Validation speed: the time of each stage of the gate per strategy, 180 days x 15m of one symbol.

Every number is measured in this run. The baseline per strategy is its own `signals` called
directly in this process on the same candles; the ratios say what the sandbox (a confined
worker process) and each check cost on top of that.

Run: `.venv/bin/python bench/validation.py [--symbol BTC] [--iterations 100] [--repeats 3]`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from adapters.inprocess.strategy_loader import InProcessStrategyLoader  # noqa: E402
from adapters.memory.clock import ManualClock  # noqa: E402
from adapters.memory.event_store import InMemoryEventStore  # noqa: E402
from adapters.parquet.loader import load_candles  # noqa: E402
from adapters.sandbox.process_sandbox import ProcessSandbox  # noqa: E402
from adapters.sandbox.worker_process import SandboxLimits  # noqa: E402
from adapters.vectorbt.engine import VectorbtBacktestEngine  # noqa: E402
from application.register_strategy import RegisterStrategy  # noqa: E402
from application.strategy_repository import StrategyRepository  # noqa: E402
from application.validate_strategy import ValidateStrategy, ValidationRequest  # noqa: E402
from application.validation_policy import ValidationPolicy  # noqa: E402
from domain.backtest import Costs  # noqa: E402

OHLCV = ROOT.parent / "shared" / "data" / "ohlcv"
EXAMPLES, CLEAN = ROOT / "examples" / "strategies", ROOT / "tests" / "validation_corpus" / "clean"
STRATEGIES = [EXAMPLES / n for n in ("mom_ema_cross.py", "rev_rsi_bands.py", "trn_adx_trend.py", "bre_donchian.py")] + [
    CLEAN / n for n in ("clean_talib_rsi_atr.py", "clean_loop_trailing_stop.py")]
BARS = 180 * 96
STAGES = ("ast", "sandbox_load", "prefix_check", "signals", "backtest", "shuffle", "deflated_sharpe", "walk_forward")


class OneSymbol:
    def __init__(self, frame: pd.DataFrame, symbol: str) -> None:
        self.frame, self.symbol = frame, symbol

    def load(self, symbol: str, timeframe: str) -> pd.DataFrame:
        return self.frame

    def default_symbols(self, timeframe: str) -> list[str]:
        return [self.symbol]


def direct_signals(path: Path, frame: pd.DataFrame, repeats: int) -> float:
    strategy = InProcessStrategyLoader().load(path.read_text(), path.name)()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        strategy.checked_signals(frame)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--symbol", default="BTC")
    parser.add_argument("--iterations", type=int, default=100, help="shuffle test iterations")
    parser.add_argument("--repeats", type=int, default=3, help="runs per strategy; the fastest is shown")
    args = parser.parse_args()
    frame = load_candles(OHLCV / f"BINANCEUSDM_{args.symbol}USDT_15m.parquet").iloc[-BARS:]
    candles = OneSymbol(frame, args.symbol)
    policy = ValidationPolicy(shuffle_iterations=args.iterations, prefix_max_bars=BARS)
    store, clock = InMemoryEventStore(), ManualClock(pd.Timestamp("2026-01-01", tz="UTC").to_pydatetime())
    results: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    with ProcessSandbox(SandboxLimits(cpu_seconds=120, wall_seconds=240)) as sandbox:
        sandbox.layers()  # starts the worker
        worker_start = time.perf_counter() - started
        register = RegisterStrategy(StrategyRepository(store), clock)
        validate = ValidateStrategy(sandbox, VectorbtBacktestEngine(), register, store, clock, Costs(), policy)
        validate.execute(ValidationRequest(code=STRATEGIES[0].read_text(), origin="warm-up", timeframe="15m",
                                           register=False), candles)  # worker start and numba cache load
        for path in STRATEGIES:
            runs = []
            for _ in range(args.repeats):
                report = validate.execute(ValidationRequest(code=path.read_text(), origin=path.name, timeframe="15m",
                                                            walk_forward=True, register=False), candles)
                runs.append(report)
            best = {stage: min(r.stage_seconds.get(stage, float("nan")) for r in runs) for stage in STAGES}
            results[path.name] = {"stages": best, "direct": direct_signals(path, frame, args.repeats),
                                  "passed": runs[0].passed, "lookahead_free": runs[0].lookahead_free,
                                  "combos": (runs[0].walk_forward or {}).get("combinations")}
    render(results, worker_start, args, len(frame))


def render(results: dict[str, dict[str, Any]], worker_start: float, args: argparse.Namespace, bars: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"{args.symbol} 15m, {bars} bars (180 days); shuffle {args.iterations} iterations; best of "
                  f"{args.repeats}; sandbox worker start {worker_start * 1e3:.0f} ms (once per process)")
    table = Table(title="bench/validation.py: ms per stage (every number measured in this run)")
    table.add_column("stage", no_wrap=True)
    for name in results:
        table.add_column(name.removesuffix(".py").removeprefix("clean_"), justify="right", no_wrap=True)
    table.add_row("baseline: signals() in-process", *(f"{r['direct'] * 1e3:.1f}" for r in results.values()))
    for stage in STAGES:
        table.add_row(stage, *(f"{r['stages'][stage] * 1e3:.1f}" for r in results.values()))
    table.add_row("total", *(f"{sum(v for v in r['stages'].values() if v == v) * 1e3:.0f}" for r in results.values()))
    table.add_row("sandbox signals / baseline",
                  *(f"{r['stages']['signals'] / r['direct']:.2f}x" for r in results.values()))
    table.add_row("prefix check / baseline (10 runs)",
                  *(f"{r['stages']['prefix_check'] / r['direct']:.1f}x" for r in results.values()))
    table.add_row("total / baseline", *(f"{sum(v for v in r['stages'].values() if v == v) / r['direct']:.0f}x"
                                        for r in results.values()))
    table.add_row("walk-forward grid points", *(str(r["combos"]) for r in results.values()))
    table.add_row("verdict", *("passed" if r["passed"] else ("rejected" if r["lookahead_free"] else "lookahead")
                               for r in results.values()))
    console.print(table)


if __name__ == "__main__":
    main()
