"""Research pipeline throughput: full evaluations per minute on 2 cores, and the out-of-sample report.

A full evaluation is one candidate through the sandbox, both lookahead checks, the backtest,
4 walk-forward windows, 100 shuffles and the score, on 20 symbols x 180 days x 15m (the same
real-candle dataset as bench/backtest.py). Measured in this run: one worker (the baseline) and
the process pool on 2 workers, with the pipeline's default walk-forward (each candidate's own
parameters on the 4 windows), and for context with the grid search on every window. Then a
small pipeline run on the real 1h candles of
../shared/data/ohlcv holds back the last 30 days and reports the selection's Sharpe in and out of
sample.

Run: `.venv/bin/python bench/pipeline.py [--candidates 16] [--holdout-days 30]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import backtest as backtest_bench  # noqa: E402

from adapters.local.process_pool import ProcessPoolRunner  # noqa: E402
from adapters.memory.batch_runner import InlineBatchRunner  # noqa: E402
from adapters.offline_ai.composer import GrammarComposer  # noqa: E402
from application.evaluate_candidate import CandidateTask  # noqa: E402
from application.ports.batch_runner import BatchRunner  # noqa: E402
from application.research_pipeline import EvaluationContext  # noqa: E402
from application.validation_policy import ValidationPolicy  # noqa: E402
from entrypoints.pipeline_worker import evaluate_candidate  # noqa: E402

TYPES = ("MOM", "REV", "TRN", "BRE", "VOL")


def context(*, search: bool, full: bool = True) -> EvaluationContext:
    """`search`: walk-forward grid search (pipeline.walk_forward: optimise), else each candidate's own
    parameters on the 4 windows (the default); `full`: every stage, else the pipeline's cheap-gates-first order."""
    data = backtest_bench.dataset()
    policy = ValidationPolicy(shuffle_iterations=100, walk_forward_search=search)
    settings = {"isolation": "process", "require": ["seccomp"], "full_evaluation": full,
                "limits": {"cpu_seconds": 300.0, "wall_seconds": 600.0, "memory_mb": 4096},
                "policy": dataclasses.asdict(policy), "costs": dataclasses.asdict(backtest_bench.COSTS)}
    return EvaluationContext({(s, "15m"): f for s, f in data.items()}, tuple(data), settings)


def tasks(count: int, offset: int) -> list[tuple[str, CandidateTask]]:
    composer = GrammarComposer()
    found = []
    for i in range(offset, offset + count):
        composed = composer.compose(strategy_type=TYPES[i % len(TYPES)], timeframe="15m", seed=i)
        found.append((f"c{i}", CandidateTask(f"c{i}", f"candidate_{i}", composed.strategy_type, "15m",
                                             composed.code)))
    return found


def throughput(runner: BatchRunner, shared: EvaluationContext, count: int, offset: int) -> dict[str, float]:
    """Evaluations per minute once the workers are warm (a first task per worker is run before timing)."""
    list(runner.run(evaluate_candidate, tasks(2, 1000 + offset), shared=shared))
    started = time.perf_counter()
    outcomes = list(runner.run(evaluate_candidate, tasks(count, offset), shared=shared))
    seconds = time.perf_counter() - started
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise SystemExit(f"evaluations crashed: {failed[0].error}")
    return {"per_minute": 60 * count / seconds, "seconds": seconds}


def holdout_report(candidates: int, holdout_days: int) -> dict[str, Any]:
    from adapters.candle_files.source import FileCandleSource
    from adapters.memory.event_store import InMemoryEventStore
    from application.research_pipeline import PipelineRequest
    from domain.classification.portfolio import SelectionRules
    from tests.pipeline_support import pipeline

    candles = FileCandleSource(backtest_bench.OHLCV, ("BTC", "ETH", "SOL"))
    lenient = SelectionRules(min_score=0, min_sharpe=-100, min_win_rate=0, min_trades=1, max_drawdown=1.0,
                             max_p_value=None, min_deflated_sharpe=None, max_correlation=1.0, top_n=5)
    with _closing(InlineBatchRunner()) as runner:
        request = PipelineRequest(count=candidates, seed=1, days=180, holdout_days=holdout_days,
                                  symbols=("BTC", "ETH", "SOL"))
        strict = pipeline(runner, InMemoryEventStore(), timeframes=("1h",)).run(request, candles)
        open_gates = pipeline(runner, InMemoryEventStore(), timeframes=("1h",), rules=lenient,
                              gates_open=True).run(request, candles)
    return {"strict": strict, "open": open_gates}


class _closing:
    def __init__(self, runner: Any) -> None:
        self.runner = runner

    def __enter__(self) -> Any:
        return self.runner

    def __exit__(self, *_: object) -> None:
        self.runner.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--candidates", type=int, default=16, help="evaluations timed per runner")
    parser.add_argument("--holdout-days", type=int, default=30)
    args = parser.parse_args()
    from rich.console import Console
    from rich.table import Table

    shared = context(search=False)
    one = throughput(_closing(InlineBatchRunner()).runner, shared, args.candidates, 0)
    with ProcessPoolRunner(2) as pool:
        two = throughput(pool, shared, args.candidates, 0)
    searching = context(search=True)
    with ProcessPoolRunner(2) as pool:
        grid = throughput(pool, searching, args.candidates, 0)
    console = Console()
    table = Table(title="bench/pipeline.py: full evaluations (every number measured in this run)")
    for column in ("runner", "evaluations / min", "seconds", "vs 1 worker", "target"):
        table.add_column(column)
    table.add_row("walk-forward windows (default), 1 worker", f"{one['per_minute']:.1f}", f"{one['seconds']:.1f}",
                  "1.00", "")
    table.add_row("walk-forward windows (default), pool of 2", f"{two['per_minute']:.1f}", f"{two['seconds']:.1f}",
                  f"{two['per_minute'] / one['per_minute']:.2f}",
                  ">= 120/min " + ("ok" if two["per_minute"] >= 120 else "MISSED"))
    table.add_row(f"walk-forward grid search (<= {ValidationPolicy().max_combinations} points), pool of 2",
                  f"{grid['per_minute']:.1f}", f"{grid['seconds']:.1f}",
                  f"{grid['per_minute'] / one['per_minute']:.2f}", "(context: pipeline.walk_forward: optimise)")
    console.print(f"{len(shared.symbols)} symbols x {len(next(iter(shared.frames.values())))} bars (15m), "
                  f"{args.candidates} offline candidates per runner; every stage for every candidate: sandbox, both "
                  "lookahead checks, backtest, 4 walk-forward windows, 100 shuffles, score inputs")
    console.print(table)
    reports = holdout_report(max(6, args.candidates), args.holdout_days)
    for label, report in reports.items():
        oos = report.get("out_of_sample")
        gates = "every gate" if label == "strict" else "gates opened (to have a selection to report on)"
        line = (f"[{label}] real 1h BTC/ETH/SOL, {report['candidates']} candidates, {gates}: "
                f"{len(report['selected'])} selected")
        if oos:
            line += (f"; portfolio Sharpe in sample {_num(oos['in_sample']['sharpe'])}, out of sample "
                     f"({oos['holdout_days']} days) {_num(oos['out_of_sample']['sharpe'])}")
        console.print(line, markup=False)


def _num(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) else "-"


if __name__ == "__main__":
    main()
