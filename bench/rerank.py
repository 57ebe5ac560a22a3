"""The hourly re-ranking's cost as the pool grows, every ratio measured in this one run.

R1  a re-ranking that changes nothing (the steady hour: read the pool, read each research run
    back, deflate, rank, write nothing) over build_portfolio alone on the same candidates
R2  the first re-ranking after the runs (every rank moves: one strategy event each, one
    StrategiesReranked) over the same baseline

Pools of N TESTED/SELECTED strategies, 10 per research run (each run's batch also holds 5 that
failed the gates), on the in-memory stores and one symbol's 1000 1h candles: what the job adds to
the ranking itself, not the database's reads.
Run: `.venv/bin/python bench/rerank.py [--sizes 50 200 800] [--repeats 3]`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from application.pipeline_selection import Scoring, candidates  # noqa: E402
from domain.classification.portfolio import SelectionRules, build_portfolio  # noqa: E402
from domain.classification.scorer import ScoreBounds, ScoreWeights  # noqa: E402
from tests.unit.test_rerank_strategies import Market, World, result  # noqa: E402

SCORING = Scoring(ScoreWeights(), ScoreBounds(), SelectionRules(top_n=10, max_per_type=100, max_per_timeframe=100))
KINDS = ("MOM", "REV", "TRN", "BRE", "VOL")


def world_of(size: int) -> tuple[World, list[dict[str, object]]]:
    world, everything = World(), []
    for run in range(size // 10):
        batch = [result(f"s{run}-{i}", sharpe=0.15 - 0.001 * i, expectancy=0.004 + 0.0005 * ((run * 7 + i) % 10),
                        kind=KINDS[i % 5]) for i in range(10)]
        batch += [result(f"f{run}-{i}", sharpe=-0.001 * i, passed=False) for i in range(5)]
        world.research_run(f"run-{run}", batch, SCORING)
        everything.append(batch)
    return world, everything


def best(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 800])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    market = Market()
    table = Table(title="re-ranking cost (best of repeats)")
    for column in ("pool", "runs", "build_portfolio (s)", "R2 first rerank (s)", "R2 ratio", "R1 steady (s)",
                   "R1 ratio"):
        table.add_column(column, justify="right")
    for size in args.sizes:
        world, batches = world_of(size)
        pool = [c for batch in batches for c in candidates(batch, SCORING) if c.passed_gates]
        baseline = best(lambda pool=pool: build_portfolio(pool, SCORING.rules), args.repeats)
        start = time.perf_counter()
        first = world.rerank(market, SCORING)
        moved = time.perf_counter() - start
        assert first.changed and len(first.selected) == 10
        steady = best(lambda world=world: world.rerank(market, SCORING), args.repeats)
        table.add_row(str(size), str(len(batches)), f"{baseline:.3f}", f"{moved:.3f}", f"{moved / baseline:.1f}x",
                      f"{steady:.3f}", f"{steady / baseline:.1f}x")
    Console().print(table)


if __name__ == "__main__":
    main()
