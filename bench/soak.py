"""A simulated week of the whole process: `sixbtc run`'s scheduler on a simulated clock, the API beside it.

Run: `.venv/bin/python bench/soak.py [--days 7] [--batch-size 2] [--sample-hours 24]`.
Every scheduled job of the live loop runs as its interval says (candle closes on replayed Binance
futures bars, paper trading, snapshots, rotation, offline research, the history download from a local
Binance fake, and whatever else the runner schedules), the API is polled every simulated hour, and the
figures a soak watches are printed: per job expected/ran/overlaps, ERROR records, open file
descriptors, database connections, threads and resident memory after the first simulated day and at
the end. The baseline of each resource is its value after day 1, measured in the same run. Uses
SIXBTC_TEST_DATABASE_URL, else 127.0.0.1:5432, else an embedded server, in a throwaway database.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from tests.postgres_server import fresh_database, server_url
from tests.soak_support import SoakReport, connections_stay_flat, run_soak
from tests.soak_world import SoakPlan

MB = 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=7.0, help="simulated days (default 7)")
    parser.add_argument("--batch-size", type=int, default=2, help="candidates per research run (default 2)")
    parser.add_argument("--lookback-days", type=int, default=4, help="research and history window (default 4)")
    parser.add_argument("--workers", type=int, default=1, help="backtesting.parallel_workers (default 1)")
    parser.add_argument("--sample-hours", type=float, default=24.0, help="resources sampled this often (default 24)")
    args = parser.parse_args()
    plan = SoakPlan(days=args.days, batch_size=args.batch_size, lookback_days=args.lookback_days,
                    workers=args.workers, sample_every=timedelta(hours=args.sample_hours))
    with tempfile.TemporaryDirectory() as tmp, server_url(Path(tmp) / "pg") as server, \
            fresh_database(server) as url:
        report = run_soak(plan, url, Path(tmp))
    show(report)
    return 0 if healthy(report) else 1


def healthy(report: SoakReport) -> bool:
    day1, last = report.day1, report.last
    return (all(j.ran == j.expected and j.overlaps == 0 and j.failed == 0 and j.skipped == 0 for j in report.jobs)
            and not report.errors and not report.poll_failures and last.fds <= day1.fds + 2
            and connections_stay_flat(report) and abs(last.rss / day1.rss - 1) <= 0.20)


def show(report: SoakReport) -> None:
    console = Console(width=120)
    plan = report.plan
    jobs = Table(title=f"simulated {plan.days:g} days from {plan.start:%Y-%m-%d} (batch {plan.batch_size}, "
                       f"lookback {plan.lookback_days} d)")
    for column in ("job", "interval", "expected", "ran", "overlaps", "failed", "skipped", "wall s", "ms/run"):
        jobs.add_column(column, justify="left" if column == "job" else "right")
    for j in report.jobs:
        jobs.add_row(j.job_id, str(j.interval), str(j.expected), str(j.ran), str(j.overlaps), str(j.failed),
                     str(j.skipped), f"{j.wall_seconds:.1f}", f"{1000 * j.wall_seconds / max(j.ran, 1):.0f}")
    console.print(jobs)
    resources = Table(title="resources (baseline: after simulated day 1, same run)")
    for column in ("at (simulated)", "open fds", "db connections", "threads", "RSS MiB", "RSS / day 1"):
        resources.add_column(column, justify="right")
    for s in report.samples:
        resources.add_row(f"{s.at:%m-%d %H:%M}", str(s.fds), str(s.db_connections), str(s.threads),
                          f"{s.rss / MB:.0f}", f"{s.rss / report.day1.rss:.3f}")
    console.print(resources)
    day1, last = report.day1, report.last
    summary = Table(title="summary")
    for column in ("figure", "day 1", "end", "end / day 1"):
        summary.add_column(column, justify="right")
    for name, a, b in (("open fds", day1.fds, last.fds), ("db connections", day1.db_connections, last.db_connections),
                       ("threads", day1.threads, last.threads), ("RSS MiB", day1.rss / MB, last.rss / MB)):
        summary.add_row(name, f"{a:.0f}", f"{b:.0f}", f"{b / a:.3f}" if a else "-")
    console.print(summary)
    runs = sum(j.ran for j in report.jobs)
    console.print(f"job runs {runs}, bars fed {report.bars_fed}, paper trades {report.trades}, research runs "
                  f"{report.pipeline_runs}, API polls {report.polls} "
                  f"({len(report.poll_failures)} failed), ERROR records {len(report.errors)}, "
                  f"wall {report.wall_seconds:.0f} s ({report.wall_seconds / plan.days:.0f} s per simulated day)")
    for line in [*report.errors[:10], *report.poll_failures[:10]]:
        console.print(f"  {line}", markup=False)
    console.print("healthy" if healthy(report) else "NOT HEALTHY", style="bold")


if __name__ == "__main__":
    sys.exit(main())
