"""SIGKILL in the middle of an iteration, 20 times, then a clean run: no order twice, positions agree.

The live loop runs as its own process (tests/kill_target.py) against the fake Hyperliquid in this
process and the real Postgres; it is killed at a random moment after it has sent one more order
than the run before got to (within the next ~10 ms, so mid-iteration whatever the machine's
speed), restarted, and so on; the last start runs to the end.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy.engine import Engine

from adapters.postgres.event_store import PostgresEventStore
from application.subaccount_ledger import SubaccountLedger
from tests.contract.hyperliquid_harness import SUBACCOUNT_ADDRESSES, HyperliquidHarness
from tests.kill_target import STRATEGY

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20
BARS = 40


def _start(env: dict[str, str]) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-m", "tests.kill_target"], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "started":
        process.kill()
        raise AssertionError(f"the target did not start: {line!r} {process.stderr.read() if process.stderr else ''}")
    return process


def _until_an_order_beyond(harness: HyperliquidHarness, vault: str, seen: int, process: subprocess.Popen[str],
                           seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while len(harness.fake.order_statuses(vault)) <= seen:
        assert process.poll() is None, f"the target exited early: {process.stderr.read() if process.stderr else ''}"
        assert time.monotonic() < deadline, f"no order beyond {seen} within {seconds} s"
        time.sleep(0.001)


def test_twenty_kills_leave_no_duplicate_order_and_positions_that_match(clean_pg: Engine) -> None:
    harness = HyperliquidHarness(timeout_s=2.0, retries=3)
    env = {**os.environ, "SIXBTC_KILL_HL_URL": harness.fake.url, "SIXBTC_KILL_BARS": str(BARS),
           "SIXBTC_KILL_DB_URL": clean_pg.url.render_as_string(hide_password=False)}
    vault = SUBACCOUNT_ADDRESSES[1]
    rng = random.Random(8)
    progress = []
    try:
        for _ in range(KILLS):
            process = _start(env)
            _until_an_order_beyond(harness, vault, progress[-1] if progress else 0, process)
            time.sleep(rng.uniform(0.0, 0.01))
            process.kill()
            process.wait(10)
            progress.append(len(harness.fake.order_statuses(vault)))
        assert progress[0] < 2 * BARS - 1 and len(set(progress)) > 3, f"the kills did not cut work short: {progress}"
        final = _start(env)
        out, err = final.communicate(timeout=120)
        assert final.returncode == 0 and out.strip().endswith("done"), err[-2000:]
        statuses = harness.fake.order_statuses(vault)
        fills = harness.fake.fills(vault)
        per_order = Counter(f.get("cloid") or f["oid"] for f in fills)
        assert all(n == 1 for n in per_order.values()), f"an order filled twice: {per_order.most_common(3)}"
        assert len(statuses) == 2 * BARS - 1, f"{len(statuses)} orders for {BARS} bars: expected one entry per bar " \
                                               "and one reversal close per later bar"
        book = SubaccountLedger(PostgresEventStore(clean_pg)).load(1)
        held = book.positions.get("BTC")
        signed = 0.0 if held is None else held.size * held.sign
        assert abs(signed - harness.fake.position(vault, "BTC")) < 1e-9
        assert book.strategy_id == STRATEGY
    finally:
        harness.close()
