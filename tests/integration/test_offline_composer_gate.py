"""The offline composer's strategies through the validation gate, on real BTCUSDT candles.

This is issue 6's acceptance on a small scale: of 50 compositions (five types, three timeframes)
at least 45 distinct ones must pass the screen, the static lookahead check, load and produce a
checked signals frame with entries, and be prefix invariant; a few also run in the confined
worker, where the gate runs them in production.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from adapters.inprocess.sandbox import InProcessSandbox
from adapters.offline_ai import GrammarComposer
from adapters.parquet.loader import load_candles
from adapters.sandbox.process_sandbox import ProcessSandbox
from adapters.sandbox.screen import screen
from adapters.sandbox.worker_process import SandboxLimits
from application.ports.strategy_composer import STRATEGY_TYPES, ComposedStrategy
from application.ports.strategy_sandbox import SandboxRejection
from domain.validation.lookahead_ast import find_lookahead
from domain.validation.prefix_invariance import cut_points, first_difference, prefix_frames

FOLDER = Path(__file__).resolve().parents[3] / "shared" / "data" / "ohlcv"
FILES = {tf: FOLDER / f"BINANCEUSDM_BTCUSDT_{tf}.parquet" for tf in ("15m", "1h")}
TIMEFRAMES = ("15m", "1h", "4h")
BARS = 4000
CUTS = 8

pytestmark = pytest.mark.skipif(not all(f.is_file() for f in FILES.values()),
                                reason=f"no BTCUSDT 15m/1h candles in {FOLDER}")


@pytest.fixture(scope="module")
def market() -> dict[str, pd.DataFrame]:
    """The last BARS bars per timeframe; 4h is built from 1h, each bar labelled by its open time."""
    hourly = load_candles(FILES["1h"])
    four_hourly = hourly.resample("4h", label="left", closed="left").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}).dropna()
    return {"15m": load_candles(FILES["15m"]).iloc[-BARS:], "1h": hourly.iloc[-BARS:],
            "4h": four_hourly.iloc[-BARS:]}


def compositions() -> list[ComposedStrategy]:
    composer = GrammarComposer()
    return [composer.compose(strategy_type=STRATEGY_TYPES[s % 5], timeframe=TIMEFRAMES[s % 3], seed=s)
            for s in range(50)]


def gate_problems(composed: ComposedStrategy, df: pd.DataFrame, sandbox: InProcessSandbox) -> list[str]:
    """Why `composed` fails the gate (screen, static check, contract, entries, prefix invariance); [] if it passes."""
    problems = [f"screen: {v.message}" for v in screen(composed.code)]
    problems += [f"lookahead: {v.message}" for v in find_lookahead(composed.code)]
    if problems:
        return problems
    try:
        warmup = sandbox.inspect(composed.code, "composed.py").warmup_bars
        cuts = cut_points(len(df), warmup, CUTS)
        computed = sandbox.signals(composed.code, "composed.py", None, prefix_frames(df, cuts))
    except SandboxRejection as rejection:
        return [f"sandbox {rejection.kind}: {rejection.reason}"]
    full = computed["full"]
    if not (full["long_entry"] | full["short_entry"]).any():
        problems.append("no entry on the real candles")
    difference = first_difference(computed, cuts)
    if difference is not None:
        problems.append(f"prefix: {difference.violation(df.index).message}")
    return problems


def test_at_least_45_of_50_distinct_compositions_pass_the_gate(market: dict[str, pd.DataFrame]) -> None:
    sandbox = InProcessSandbox()
    passed: dict[str, ComposedStrategy] = {}
    failures: dict[int, list[str]] = {}
    for seed, composed in enumerate(compositions()):
        problems = gate_problems(composed, market[composed.timeframe], sandbox)
        if problems:
            failures[seed] = problems
        else:
            passed.setdefault(composed.code, composed)
    assert len(passed) >= 45, failures
    assert len({c.strategy_type for c in passed.values()}) >= 4
    assert len({c.timeframe for c in passed.values()}) >= 3


@pytest.mark.parametrize("direction", ["long", "short"])
def test_a_pattern_seeded_strategy_passes_the_gate(market: dict[str, pd.DataFrame], direction: str) -> None:
    pattern = {"condition": "rsi_14 < 30" if direction == "long" else "rsi_14 > 70 and sma_200_dist > 0",
               "direction": direction, "horizon_bars": 8}
    composed = GrammarComposer().compose(strategy_type="REV", timeframe="1h", seed=11, pattern=pattern)
    assert composed.blocks[0] == "entry:pattern"
    assert gate_problems(composed, market["1h"], InProcessSandbox()) == []


def test_compositions_run_the_same_in_the_confined_sandbox(market: dict[str, pd.DataFrame]) -> None:
    """The worker process (rlimits, Landlock, seccomp) gives the frames the in-process loader gives."""
    chosen = compositions()[:5]  # one of each type, over all three timeframes
    pattern = {"condition": "rsi_14 < 30", "direction": "long", "horizon_bars": 8}
    chosen.append(GrammarComposer().compose(strategy_type="REV", timeframe="1h", seed=11, pattern=pattern))
    trusted = InProcessSandbox()
    with ProcessSandbox(SandboxLimits(cpu_seconds=20, wall_seconds=60)) as confined:
        for composed in chosen:
            frames = {"full": market[composed.timeframe].iloc[-1500:]}
            expected = trusted.signals(composed.code, "composed.py", None, frames)["full"]
            got = confined.signals(composed.code, "composed.py", None, frames)["full"]
            pd.testing.assert_frame_equal(got, expected)
            assert (got["long_entry"] | got["short_entry"]).any(), composed.blocks
